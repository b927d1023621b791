"""``crosspost import``: rows of a spreadsheet become content files and schedule entries.

Nothing goes into the store: each row with a ``body`` becomes one Markdown file
in the project's ``content_dir``, and each row with ``to`` and a time becomes a
``posts:`` entry appended to ``schedule.yaml`` (round-trip, so its comments and
layout stay), for review in git. Every row is checked the way ``check`` checks
an entry — accounts, times in their zone, ids, and the rendered text against
each target platform's limits — and nothing is written unless every row is good.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap

from crosspost.errors import CrosspostError, Problem, RenderError
from crosspost.loading.content_item import ContentItem
from crosspost.loading.import_rows import ImportRow, read_rows
from crosspost.loading.posts_spec import PostSpec
from crosspost.loading.project import Project
from crosspost.loading.project_checks import unknown_account_message
from crosspost.loading.yamlwrite import dump_yaml, flow_seq, replace_file, schedule_with
from crosspost.planning.checking import CHECK_WINDOW
from crosspost.planning.plan import Occurrence, occurrences, trigger_for
from crosspost.rendering.target import Target

__all__ = ["ImportResult", "NewContent", "plan_import", "write_import"]

_CONTENT_FIELDS = ("title", "link", "tags", "template", "language", "content_warning", "media")
_POST_FIELDS = ("at", "cron", "every", "start", "until", "timezone", "missed", "grace", "thread")
_TRIGGERS = ("at", "cron", "every")
_LIST_SEPARATOR = re.compile(r"[,;]")


@dataclass(frozen=True)
class NewContent:
    """A content file to write."""

    path: Path
    text: str


@dataclass
class ImportResult:
    """What an import would write, or why it cannot."""

    source: str
    content: list[NewContent] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: The new text of ``schedule.yaml`` (None when no entry is added).
    schedule_text: str | None = None


@dataclass
class _Context:
    project: Project
    now: datetime
    seen: dict[str, int] = field(default_factory=dict)


def plan_import(project: Project, path: Path, shown: str, now: datetime) -> ImportResult:
    """Read and check every row of ``path``; build what would be written.

    Raises:
        ConfigError: the file itself cannot be read (rows' problems are in the result).
    """
    result = ImportResult(shown)
    context = _Context(project, now)
    for row in read_rows(path, shown):
        content, post, problems = _import_row(context, row)
        result.problems += problems
        if not problems:
            result.content += [content] if content else []
            result.posts += [post] if post else []
    if result.problems:
        result.content, result.posts = [], []
    elif result.posts:
        result.schedule_text = schedule_with(project.path, result.posts, shown)
    return result


def write_import(result: ImportResult, schedule: Path) -> None:
    """Write the content files, then ``schedule.yaml``; an existing file is never replaced.

    Raises:
        CrosspostError: a file could not be written (the ones written are removed).
    """
    written: list[Path] = []
    try:
        for new in result.content:
            new.path.parent.mkdir(parents=True, exist_ok=True)
            with new.path.open("x", encoding="utf-8") as handle:
                handle.write(new.text)
            written.append(new.path)
        if result.schedule_text is not None:
            replace_file(schedule, result.schedule_text)
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise CrosspostError(f"cannot write {exc.filename}: {exc.strerror}") from None


# --------------------------------------------------------------------------- one row


def _import_row(
    context: _Context, row: ImportRow
) -> tuple[NewContent | None, dict[str, Any] | None, list[Problem]]:
    if "_extra" in row.values:
        return None, None, [row.problem("_extra", str(row.values["_extra"]))]
    entry_id, problems = _entry_id(context, row)
    if entry_id is None:
        return None, None, problems
    item, content, item_problems = _content(context.project, row, entry_id)
    problems += item_problems
    post, spec, post_problems = _post(context, row, entry_id)
    problems += post_problems
    if not problems and spec is not None and item is not None:
        problems += _fits(context, row, spec, item)
    return content, post, problems


def _entry_id(context: _Context, row: ImportRow) -> tuple[str | None, list[Problem]]:
    entry_id = str(row.values.get("id") or _slug(str(row.values.get("title", ""))))
    if not entry_id:
        return None, [row.problem("id", "missing (give an id, or a title to make one from)")]
    problems = []
    if entry_id in context.seen:
        problems.append(row.problem("id", f'"{entry_id}" is also on line {context.seen[entry_id]}'))
    else:
        context.seen[entry_id] = row.line
    if context.project.post(entry_id) is not None:
        problems.append(row.problem("id", f'"{entry_id}" is already an entry of the schedule'))
    return entry_id, problems


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].strip("-")


def _split(value: Any, separator: re.Pattern[str] = _LIST_SEPARATOR) -> list[Any]:
    """A list cell: a JSON list as it is, a CSV cell split at its separators."""
    if isinstance(value, list):
        return value
    return [part.strip() for part in separator.split(str(value)) if part.strip()]


# --------------------------------------------------------------------------- content


def _content(
    project: Project, row: ImportRow, entry_id: str
) -> tuple[ContentItem | None, NewContent | None, list[Problem]]:
    """The row's content item: a new one from ``body``, or an existing one by ``content_id``."""
    if "content_id" in row.values:
        if "body" in row.values:
            return None, None, [row.problem("body", "give either body or content_id, not both")]
        return _existing(project, row, str(row.values["content_id"]))
    if "body" not in row.values:
        return None, None, [row.problem("body", "missing (the post's text, or a content_id)")]
    if project.schedule.content_dir is None:
        reason = "the schedule has no content_dir to write content files into"
        return None, None, [row.problem("body", reason)]
    path = project.base_dir / project.schedule.content_dir / f"{entry_id}.md"
    if entry_id in project.content or path.exists():
        return None, None, [row.problem("id", f'content "{entry_id}" already exists')]
    meta, problems = _front_matter(project, row, path.parent)
    data = {**meta, "id": entry_id, "body": str(row.values["body"]), "source": str(path)}
    try:
        item = ContentItem.model_validate(data)
    except ValidationError as exc:
        return None, None, problems + _pydantic_problems(row, exc, "body")
    if problems:
        return None, None, problems
    return item, NewContent(path, _markdown(meta, item.body)), []


def _existing(
    project: Project, row: ImportRow, reference: str
) -> tuple[ContentItem | None, NewContent | None, list[Problem]]:
    if reference in project.content:
        return project.content[reference], None, []
    close = difflib.get_close_matches(reference, sorted(project.content), n=1)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    return None, None, [row.problem("content_id", f'unknown content "{reference}"{hint}')]


def _front_matter(
    project: Project, row: ImportRow, content_dir: Path
) -> tuple[dict[str, Any], list[Problem]]:
    meta: dict[str, Any] = {}
    for name in _CONTENT_FIELDS:
        if name in row.values and name != "media":
            meta[name] = row.values[name]
    if "tags" in meta:
        meta["tags"] = [str(tag).lstrip("#") for tag in _split(meta["tags"])]
    media, problems = _media(project.base_dir, row, content_dir)
    if media:
        meta["media"] = media
    elif "alt" in row.values:
        problems.append(row.problem("alt", "alt text without media"))
    return meta, problems


def _media(
    base: Path, row: ImportRow, content_dir: Path
) -> tuple[list[dict[str, str]], list[Problem]]:
    """Attachments: paths from the project folder, written relative to the content file."""
    paths = _split(row.values.get("media", []), re.compile(r"\|"))
    alts = _split(row.values.get("alt", []), re.compile(r"\|"))
    if len(alts) > len(paths):
        return [], [row.problem("alt", f"{len(alts)} alt texts for {len(paths)} media files")]
    media, problems = [], []
    for index, entry in enumerate(paths):
        given = entry if isinstance(entry, dict) else {"path": entry}
        alt = str(given.get("alt", alts[index] if index < len(alts) else ""))
        file = base / str(given.get("path", ""))
        if not file.is_file():
            problems.append(
                row.problem("media", f'no file "{given.get("path", "")}" in the project')
            )
            continue
        media.append({"path": os.path.relpath(file, content_dir), "alt": alt})
    return media, problems


def _markdown(meta: dict[str, Any], body: str) -> str:
    front = CommentedMap()
    for name in _CONTENT_FIELDS:
        if name in meta:
            front[name] = flow_seq(meta[name]) if name == "tags" else meta[name]
    if not front:
        return body + "\n"
    return f"---\n{dump_yaml(front)}---\n{body}\n"


# --------------------------------------------------------------------------- entry


def _post(
    context: _Context, row: ImportRow, entry_id: str
) -> tuple[dict[str, Any] | None, PostSpec | None, list[Problem]]:
    """The ``posts:`` entry of a row; a row with no ``to`` and no time is content only."""
    if not any(name in row.values for name in ("to", *_TRIGGERS)):
        return None, None, []
    if "to" not in row.values:
        return None, None, [row.problem("to", "missing (the accounts or groups to post to)")]
    entry: dict[str, Any] = {
        "id": entry_id,
        "content": str(row.values.get("content_id", entry_id)),
        "to": [str(name) for name in _split(row.values["to"])],
    }
    entry |= {name: row.values[name] for name in _POST_FIELDS if name in row.values}
    try:
        spec = PostSpec.model_validate(entry)
    except ValidationError as exc:
        trigger = next((name for name in _TRIGGERS if name in row.values), "at")
        return None, None, _pydantic_problems(row, exc, trigger)
    problems = _target_problems(context.project, row, spec) + _time_problems(context, row, spec)
    return entry, spec, problems


def _target_problems(project: Project, row: ImportRow, spec: PostSpec) -> list[Problem]:
    schedule = project.schedule
    return [
        row.problem("to", unknown_account_message(name, schedule))
        for name in spec.to
        if name not in schedule.accounts and name not in schedule.groups
    ]


def _time_problems(context: _Context, row: ImportRow, spec: PostSpec) -> list[Problem]:
    column = next(name for name in _TRIGGERS if getattr(spec, name) is not None)
    try:
        _next_occurrence(context, spec)
    except ValueError as exc:
        return [row.problem(column, str(exc))]
    return []


def _next_occurrence(context: _Context, spec: PostSpec) -> Occurrence:
    """The first time ``spec`` fires from now on.

    Raises:
        ValueError: the trigger is invalid in its zone, or never fires again.
    """
    zone = spec.timezone or context.project.schedule.timezone
    trigger_for(spec, zone)
    upcoming = occurrences(spec, zone, context.now, context.now + CHECK_WINDOW, 1)
    if not upcoming:
        when = f"{spec.at:%Y-%m-%d %H:%M} {zone}" if spec.at else "after now"
        raise ValueError(
            f"never fires: {when} is in the past" if spec.at else f"never fires {when}"
        )
    return upcoming[0]


def _fits(context: _Context, row: ImportRow, spec: PostSpec, item: ContentItem) -> list[Problem]:
    """Render the row for each target account and ask its connector what it would refuse."""
    project = context.project
    occurrence = _next_occurrence(context, spec)
    column = "body" if "body" in row.values else "content_id"
    problems = []
    for account in _accounts(project, spec.to):
        connector = project.connector(account)
        target = Target(
            account, connector.name, spec.id, occurrence.local, spec.utm, spec.thread == "auto"
        )
        try:
            rendered = project.renderer.render(item, target, connector)
        except RenderError as exc:
            problems.append(row.problem("template", exc.problem.message))
            continue
        problems += [
            row.problem(column, f"for {account} ({connector.name}): {reason}")
            for reason in connector.check(rendered)
        ]
    return problems


def _accounts(project: Project, names: list[str]) -> list[str]:
    accounts: list[str] = []
    for name in names:
        members = project.schedule.groups.get(name, [name])
        accounts += [member for member in members if member not in accounts]
    return accounts


def _pydantic_problems(row: ImportRow, error: ValidationError, whole: str) -> list[Problem]:
    """One problem per pydantic error, on the column it names (``whole``: a model-level one)."""
    problems = []
    for item in error.errors():
        column = str(item["loc"][0]) if item["loc"] else whole
        if column == "content":
            column = "content_id" if "content_id" in row.values else "body"
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(row.problem(column, "required" if item["type"] == "missing" else message))
    return problems
