"""Rendering content for a platform: Jinja2 templates, then thread splitting.

Templates are looked up in this order, first found wins:

1. ``templates/<template>.<platform>.j2`` (e.g. ``default.mastodon.j2``)
2. ``templates/<template>.j2``
3. the built-in default below.

Templates are read once, when the project is loaded (:mod:`crosspost.snapshot`), so a
running daemon renders from the last good version of the files. They run in a
``SandboxedEnvironment`` with ``StrictUndefined``, so a
misspelt variable is an error with the template's file and line, not an empty
string in a published post. Any error a template raises while rendering is a
:class:`RenderError` at the template's file and line, and a render is bounded in
time and output (:class:`~crosspost.sandbox.RenderLimits`, docs/limits.md).
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import regex
from jinja2 import (
    ChoiceLoader,
    DictLoader,
    Template,
    TemplatesNotFound,
    TemplateSyntaxError,
    pass_context,
)
from jinja2.runtime import Context

from connectors.base import Capability, Connector, MediaItem, Poll, RenderedPost
from crosspost.content import ContentItem
from crosspost.errors import Problem, RenderError
from crosspost.markdown import (
    Formatted,
    LinkSpan,
    OutputForm,
    TextFormat,
    escape_for,
    first_paragraph,
    form_of,
    render_markdown,
)
from crosspost.markup import Marked, split_html, split_marked, unmark
from crosspost.render_errors import (
    JINJA_STRING_NAME,
    NamedUndefined,
    TemplateFrame,
    innermost_frame,
    read_source,
    runtime_error,
)
from crosspost.sandbox import BoundedEnvironment, LimitExceeded, RenderLimits, bounded_render
from crosspost.snapshot import TemplateSnapshot
from crosspost.text import grapheme_length

__all__ = [
    "BUILTIN_DEFAULT",
    "RenderError",
    "RenderLimits",
    "Renderer",
    "Target",
    "hashtags",
    "text_hash",
    "utm",
]

BUILTIN_DEFAULT = """\
{{ body }}
{%- if link %}

{{ link }}
{%- endif %}
{%- if tags %}

{{ tags | hashtags }}
{%- endif %}"""

_BUILTIN_NAME = "<built-in>/default.j2"
PLAIN = OutputForm()


@dataclass(frozen=True)
class Target:
    """Where and why a post is rendered: the account, and the schedule entry behind it."""

    account: str
    platform: str
    entry: str
    occurrence: datetime | None = None
    utm: bool = True
    thread: bool = True
    numbering: bool = False


def utm(
    url: str, source: str, medium: str = "social", campaign: str = "", content: str = ""
) -> str:
    """``url`` with ``utm_*`` parameters added; parameters already there are kept as they are."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key for key, _ in query}
    wanted = {
        "utm_source": source,
        "utm_medium": medium,
        "utm_campaign": campaign,
        "utm_content": content,
    }
    query += [(k, v) for k, v in wanted.items() if v and k not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))


def hashtags(tags: Iterable[str]) -> str:
    """``["open source", "release"]`` → ``"#OpenSource #release"``."""
    rendered = []
    for tag in tags:
        words = regex.findall(r"[\p{L}\p{M}\p{N}_]+", str(tag))
        if not words:
            continue
        joined = words[0] if len(words) == 1 else "".join(w[:1].upper() + w[1:] for w in words)
        rendered.append(f"#{joined}")
    return " ".join(rendered)


def text_hash(parts: Iterable[str]) -> str:
    """A stable fingerprint of what was (or would be) sent."""
    return hashlib.sha256("\n\x1e\n".join(parts).encode("utf-8")).hexdigest()


class Renderer:
    """Renders content items for targets with the project's templates."""

    def __init__(
        self, templates_dir: Path, base_dir: Path, limits: RenderLimits | None = None
    ) -> None:
        self.templates_dir = templates_dir
        self.base_dir = base_dir
        self.limits = limits or RenderLimits()
        self.env = BoundedEnvironment(
            self.limits,
            loader=ChoiceLoader(
                [TemplateSnapshot(templates_dir), DictLoader({_BUILTIN_NAME: BUILTIN_DEFAULT})]
            ),
            undefined=NamedUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            finalize=_finalize,
        )
        self.env.filters["utm"] = utm
        self.env.filters["hashtags"] = hashtags
        self.env.filters["graphemes"] = grapheme_length
        #: Templates never change under a renderer (they are read once): look each up once.
        self._templates: dict[tuple[str, str], Template] = {}

    def template(
        self, name: str, platform: str, named_in: tuple[ContentItem, str] | None = None
    ) -> Template:
        """The template for content template ``name`` on ``platform`` (lookup order above).

        Only ``default`` falls back to the built-in when no file matches it on any
        platform: any other name would be a misspelling rendered without its lines.

        Raises:
            RenderError: the template has a syntax error, or ``name`` matches no file
                (placed at ``named_in``: the item and its field that names the template).
        """
        found = self._templates.get((name, platform))
        if found is not None:
            return found
        candidates = [f"{name}.{platform}.j2", f"{name}.j2"]
        if self.template_problem(name) is None:
            candidates.append(_BUILTIN_NAME)
        try:
            found = self._templates[name, platform] = self.env.select_template(candidates)
            return found
        except TemplatesNotFound:
            item, key = named_in or (None, "template")
            raise RenderError(self._unknown_template(name, key, item)) from None
        except TemplateSyntaxError as exc:
            raise RenderError(
                Problem.at(
                    self._shown(exc.filename or exc.name or name),
                    exc.lineno,
                    1,
                    f"template syntax: {exc.message}",
                )
            ) from None

    def template_names(self) -> list[str]:
        """The names content may give as ``template:`` (``event`` for ``event.mastodon.j2``)."""
        names = {"default"}
        for file in self.env.list_templates():
            stem = file.removesuffix(".j2")
            if file.endswith(".j2") and file != _BUILTIN_NAME:
                folder, slash, name = stem.rpartition("/")
                names |= {stem, folder + slash + name.rsplit(".", 1)[0]}
        return sorted(names)

    def template_problem(self, name: str) -> str | None:
        """Why ``name`` is not a template (no file for it on any platform), or None."""
        known = self.template_names()
        if name in known:
            return None
        close = difflib.get_close_matches(name, known, n=1)
        # event.mastodon is known as a name too, but only event is worth listing
        listed = [n for n in known if not any(n.startswith(f"{other}.") for other in known)]
        hint = f'; did you mean "{close[0]}"?' if close else f" (known: {', '.join(listed)})"
        return f'unknown template "{name}"{hint}'

    def template_problems(self, item: ContentItem) -> list[Problem]:
        """A problem for every template ``item`` names that matches no file."""
        return [
            self._unknown_template(name, key, item)
            for key, name in item.named_templates()
            if self.template_problem(name) is not None
        ]

    def _unknown_template(self, name: str, key: str, item: ContentItem | None) -> Problem:
        line, column = item.position(key) if item else (1, 1)
        where = self._shown(item.source) if item and item.source else str(self.templates_dir)
        return Problem.at(where, line, column, f"{key}: {self.template_problem(name)}")

    def render_text(self, item: ContentItem, target: Target, form: OutputForm = PLAIN) -> str:
        """The text of ``item`` for ``target`` in ``form``, before any thread splitting.

        Raises:
            RenderError: a template failed (missing variable, syntax, …), with its file:line.
        """
        return unmark(self._template_output(item, target, form)).text

    def _template_output(self, item: ContentItem, target: Target, form: OutputForm) -> str:
        """What the template wrote, links still between marks (see crosspost.markdown)."""
        item, _ = item.for_target(target.platform, target.account)
        key = item.template_field(target.platform, target.account)
        template = self.template(item.template, target.platform, named_in=(item, key))
        context = {**item.template_variables(), **self._context(item, target, form)}
        try:
            return self._generate(template, context).strip()
        except RenderError:
            raise
        except Exception as exc:  # whatever template code raises is the template's error
            where = innermost_frame(exc.__traceback__) or TemplateFrame(
                template.filename or JINJA_STRING_NAME, 1, {}
            )
            raise self._runtime_error(exc, where, context) from None

    def render(self, item: ContentItem, target: Target, connector: Connector) -> RenderedPost:
        """The full post for ``target``: text split into a thread when it is too long.

        Raises:
            RenderError: a template failed.
        """
        form = form_of(connector)
        marked = unmark(self._template_output(item, target, form))
        item, options = item.for_target(target.platform, target.account)
        parts, links = self._split(marked, item, target, connector, form)
        return RenderedPost(
            parts=tuple(parts),
            links=links if form.format is TextFormat.RICH and any(links) else (),
            content_id=item.id,
            title=item.title,
            link=self._link(item, target),
            media=tuple(
                MediaItem(path, m.alt, m.mime_type)
                for m, path in zip(item.media, item.media_paths(self._item_dir(item)), strict=True)
            ),
            poll=Poll(tuple(item.poll.options), item.poll.duration, item.poll.multiple)
            if item.poll
            else None,
            content_warning=item.content_warning,
            language=item.language,
            options=options,
        )

    # -- helpers -------------------------------------------------------------

    def _split(
        self,
        marked: Marked,
        item: ContentItem,
        target: Target,
        connector: Connector,
        form: OutputForm,
    ) -> tuple[list[str], tuple[tuple[LinkSpan, ...], ...]]:
        """The posts of the thread, and the links of each (rich text only)."""
        limit = self._text_limit(item, target, connector)
        measure, numbering = connector.measure, target.numbering
        if form.format is TextFormat.HTML:  # HTML is cut on its visible text, <a> kept whole
            if limit is None or measure(marked.text) <= limit:
                return [marked.text], ((),)
            return split_html(marked.text, limit, measure, numbering=numbering), ()
        if limit is None or measure(marked.text) <= limit:
            return [marked.text], (marked.links,)
        located = split_marked(marked, limit, measure, numbering=numbering)
        return [part for part, _ in located], tuple(links for _, links in located)

    def _text_limit(self, item: ContentItem, target: Target, connector: Connector) -> int | None:
        """The length each post of a thread may have, or None when the text is not split."""
        limits = connector.effective_limits
        limit = limits.max_length
        if item.content_warning:  # the warning is repeated on every part and counts with it
            limit -= connector.measure(item.content_warning)
        if item.media and limits.max_caption_length:
            limit = min(limit, limits.max_caption_length)
        can_thread = target.thread and Capability.THREADS in connector.capabilities
        return limit if limit > 0 and can_thread else None

    def _link(self, item: ContentItem, target: Target) -> str | None:
        if not item.link:
            return None
        if not target.utm:
            return item.link
        return utm(item.link, target.platform, "social", target.entry, item.id)

    def _context(self, item: ContentItem, target: Target, form: OutputForm) -> dict[str, Any]:
        summary = item.summary or first_paragraph(item.body)
        return {
            "id": item.id,
            "title": item.title,
            "body": Formatted(render_markdown(item.body, form)),
            "body_markdown": item.body,
            "summary": Formatted(render_markdown(summary, form)),
            "text_format": form.format.value,
            "link": self._link(item, target),
            "raw_link": item.link,
            "tags": list(item.tags),
            "media": [m.model_dump(mode="json") for m in item.media],
            "vars": _frozen(item.vars),
            "platform": target.platform,
            "account": target.account,
            "entry": target.entry,
            "occurrence": target.occurrence,
        }

    def _item_dir(self, item: ContentItem) -> Path:
        source = Path(item.source) if item.source else None
        if source and source.suffix == ".md":
            return source.parent
        return self.base_dir

    def _shown(self, filename: str) -> str:
        path = Path(filename)
        if path.is_absolute() and path.is_relative_to(self.base_dir):
            return str(path.relative_to(self.base_dir))
        if filename == _BUILTIN_NAME:
            return filename
        return (
            str(self.templates_dir.relative_to(self.base_dir) / filename)
            if self.templates_dir.is_relative_to(self.base_dir)
            else filename
        )

    def _generate(self, template: Template, context: dict[str, Any]) -> str:
        """Stream the render, stopping at the output or time bound."""
        chunks: list[str] = []
        size = 0
        stream = template.generate(context)
        with bounded_render(self.limits) as check:
            for chunk in stream:
                chunks.append(chunk)
                size += len(chunk)
                try:
                    check(size)
                except LimitExceeded as exc:  # raised here, outside the template: say where it was
                    where = _suspended_at(stream) or TemplateFrame(JINJA_STRING_NAME, 1, {})
                    raise self._runtime_error(exc, where, context) from None
        return "".join(chunks)

    def _runtime_error(
        self, exc: BaseException, where: TemplateFrame, context: dict[str, Any]
    ) -> RenderError:
        filename = where.filename
        if filename == JINJA_STRING_NAME:
            filename = _BUILTIN_NAME
        source = read_source(where.filename, BUILTIN_DEFAULT)
        names = [*context, *self.env.globals]
        return runtime_error(exc, where, source, self._shown(filename), names)


def _suspended_at(stream: Any) -> TemplateFrame | None:
    """The template line a suspended render stopped at: its innermost template generator."""
    found = None
    generator: Any = stream
    while generator is not None and hasattr(generator, "gi_frame"):
        frame = generator.gi_frame
        template = frame.f_globals.get("__jinja_template__") if frame else None
        if frame is not None and template is not None:
            line = template.get_corresponding_lineno(frame.f_lineno)
            found = TemplateFrame(template.filename or JINJA_STRING_NAME, line, {})
        generator = generator.gi_yieldfrom
    return found


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    """Every ``{{ value }}`` but the rendered body is escaped for the target's form."""
    if isinstance(value, Formatted):
        return value
    form = OutputForm(TextFormat(context.get("text_format", TextFormat.PLAIN)))
    return escape_for(form, str(value))


def _frozen(values: Mapping[str, Any]) -> dict[str, Any]:
    return dict(values)
