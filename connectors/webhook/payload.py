"""What a webhook sends: the documented ``post.published`` payload, or the user's template.

The fixed payload follows the Standard Webhooks advice (``type``, ``timestamp``,
``data``). A body template is a Jinja template from the project's templates folder,
rendered in the same bounded sandbox as the post templates, with the payload's
fields as variables; what it writes must be JSON. Every failure names the template
file and line (or the line and column of the JSON it wrote).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

from jinja2 import Template, TemplateNotFound, TemplateSyntaxError, Undefined

from connectors.base import RenderedPost
from crosspost.rendering.render_errors import TemplateFrame, innermost_frame, runtime_error
from crosspost.rendering.sandbox import BoundedEnvironment, RenderLimits, bounded_render
from crosspost.rendering.snapshot import TemplateSnapshot
from crosspost.rendering.undefined import NamedUndefined

__all__ = ["EVENT_TYPE", "BodyTemplate", "BodyTemplateError", "Payload", "dumps", "payload"]

EVENT_TYPE = "post.published"


class MediaPayload(TypedDict):
    """One attachment: where the file is on the machine that publishes, and its alt text."""

    path: str
    alt: str
    mime_type: str


class PollPayload(TypedDict):
    """A poll of the content."""

    options: list[str]
    duration_seconds: int
    multiple: bool


class PostData(TypedDict):
    """``data`` of a ``post.published`` event."""

    id: str
    idempotency_key: str
    account: str
    title: str
    text: str
    parts: list[str]
    link: str | None
    media: list[MediaPayload]
    tags: list[str]
    poll: PollPayload | None
    content_warning: str
    language: str | None
    due_at: str | None
    options: dict[str, object]


class Payload(TypedDict):
    """The fixed body: Standard Webhooks' ``type``, ``timestamp`` and ``data``."""

    type: str
    timestamp: str
    data: PostData


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def payload(post: RenderedPost, key: str, account: str, now: datetime) -> Payload:
    """The ``post.published`` event of ``post`` sent under ``key`` at ``now``."""
    poll: PollPayload | None = None
    if post.poll is not None:
        poll = {
            "options": list(post.poll.options),
            "duration_seconds": int(post.poll.duration.total_seconds()),
            "multiple": post.poll.multiple,
        }
    data: PostData = {
        "id": post.content_id,
        "idempotency_key": key,
        "account": account,
        "title": post.title,
        "text": "\n\n".join(post.parts),
        "parts": list(post.parts),
        "link": post.link,
        "media": [
            {"path": str(item.path), "alt": item.alt, "mime_type": item.mime_type}
            for item in post.media
        ],
        "tags": list(post.tags),
        "poll": poll,
        "content_warning": post.content_warning,
        "language": post.language,
        "due_at": _iso(post.scheduled_at) if post.scheduled_at else None,
        "options": dict(post.options),
    }
    return {"type": EVENT_TYPE, "timestamp": _iso(now), "data": data}


def dumps(body: Payload) -> str:
    """The payload as compact JSON text (UTF-8 as it is; YAML dates in options as text)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)


def _tojson(value: object) -> str:
    """JSON text of ``value``: a misspelt name fails as undefined (with a did-you-mean).

    Jinja's own ``tojson`` escapes ``<>&'`` for HTML and calls an undefined value merely
    "not JSON serializable"; a webhook body is no HTML page.
    """
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return json.dumps(value, ensure_ascii=False, default=str)


class BodyTemplateError(ValueError):
    """A body template that cannot be used; the message names its file and line."""


class BodyTemplate:
    """The body template ``name`` of ``templates_dir``, as the files were when loaded.

    Args:
        templates_dir: the project's templates folder.
        name: the template's name in it, e.g. ``webhook.json.j2``.
        base_dir: the schedule's folder, to show file names as the user wrote them.

    Raises:
        BodyTemplateError: no such template, or a syntax error (with its line).
    """

    limits = RenderLimits()

    def __init__(self, templates_dir: Path, name: str, base_dir: Path | None = None) -> None:
        self.templates_dir, self.base_dir = templates_dir, base_dir
        self.env = BoundedEnvironment(
            self.limits,
            loader=TemplateSnapshot(templates_dir),
            undefined=NamedUndefined,
            autoescape=False,
            keep_trailing_newline=False,
        )
        self.env.filters["tojson"] = _tojson
        self.shown = self._shown(str(templates_dir / name))
        try:
            self.template: Template = self.env.get_template(name)
        except TemplateNotFound:
            raise BodyTemplateError(self._not_found(name)) from None
        except TemplateSyntaxError as exc:
            where = self._shown(exc.filename or self.shown)
            raise BodyTemplateError(
                f"{where}:{exc.lineno}: template syntax: {exc.message}"
            ) from None

    def render(self, variables: Mapping[str, object]) -> str:
        """The body the template writes for ``variables``, checked to be JSON.

        Raises:
            BodyTemplateError: the template failed, ran into a bound, or wrote no JSON.
        """
        context = dict(variables)
        try:
            chunks: list[str] = []
            with bounded_render(self.limits) as check:
                size = 0
                for chunk in self.template.generate(context):
                    chunks.append(chunk)
                    size += len(chunk)
                    check(size)
        except Exception as exc:  # whatever template code raises is the template's error
            where = innermost_frame(exc.__traceback__) or TemplateFrame(self.shown, 1, {})
            source = self._source(where.filename)
            error = runtime_error(exc, where, source, self._shown(where.filename), list(context))
            raise BodyTemplateError(str(error.problem)) from None
        body = "".join(chunks).strip()
        self._check_json(body)
        return body

    def _check_json(self, body: str) -> None:
        try:
            json.loads(body)
        except json.JSONDecodeError as exc:
            lines = body.splitlines() or [""]
            line = lines[min(exc.lineno, len(lines)) - 1].strip()
            raise BodyTemplateError(
                f"{self.shown}: the body it writes is not JSON: {exc.msg} at line {exc.lineno}, "
                f"column {exc.colno} of the body ({line[:80]!r}); use the tojson filter for values"
            ) from None

    def _not_found(self, name: str) -> str:
        known = [n for n in self.env.list_templates() if n.endswith(".j2")]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        return f'no template "{name}" in {self._shown(str(self.templates_dir))}{hint}'

    def _shown(self, filename: str) -> str:
        path = Path(filename)
        if self.base_dir is not None and path.is_relative_to(self.base_dir):
            return str(path.relative_to(self.base_dir))
        return filename

    def _source(self, filename: str) -> str | None:
        try:
            return Path(filename).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
