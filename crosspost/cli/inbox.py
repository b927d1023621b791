"""``crosspost inbox``: what members wrote to us, newest first, and whether we answered.

Registered with ``cli.add_command(inbox)``. Reads what ``crosspost collect`` (or
the daemon) stored; never calls a platform. Exit codes: 0 ok, 1 the database
cannot be opened, 2 bad options.
"""

from __future__ import annotations

import difflib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from crosspost.errors import ConfigError
from crosspost.loading.project import Project
from crosspost.rendering.humanize import counted
from crosspost.reporting.report_period import parse_since
from crosspost.store.inbox import InboxEntry, inbox_entries, mark_answered

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext

__all__ = ["ago", "inbox"]

_EPILOG = """\b
Example:
  crosspost inbox --unanswered --since 7d
  crosspost inbox --account mastodon --format tsv > inbox.tsv
  crosspost inbox --mark-answered 12   # answered by hand on the platform
"""

_TSV_COLUMNS = (
    "id",
    "created_at",
    "ago",
    "account",
    "platform",
    "kind",
    "author",
    "answered_at",
    "entry",
    "content",
    "title",
    "post_url",
    "url",
    "text",
)


@click.command(epilog=_EPILOG)
@click.option("--unanswered", is_flag=True, help="Only items nobody has answered yet.")
@click.option("--account", "accounts", default="", help="Only these accounts, comma-separated.")
@click.option("--since", default=None, help="Only items from then on: 7d, 12h or 2026-05-01.")
@click.option("--limit", default=50, show_default=True, help="Show the newest N (0 = all).")
@click.option("--json", "as_json", is_flag=True, help="Print the items as JSON.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["plain", "tsv"]),
    default="plain",
    show_default=True,
    help="plain for reading, tsv for a spreadsheet.",
)
@click.option(
    "--mark-answered",
    "mark",
    type=int,
    multiple=True,
    metavar="ID",
    help="Record that item ID was answered (elsewhere); may be repeated.",
)
@click.pass_obj
def inbox(
    app: AppContext,
    unanswered: bool,
    accounts: str,
    since: str | None,
    limit: int,
    as_json: bool,
    output: str,
    mark: tuple[int, ...],
) -> None:
    """Mentions, replies, quotes and comments members wrote, newest first.

    Each item shows the post of ours it answers (entry, title and URL), whether
    we answered it, and how long ago it was written. Items are what the metrics
    collector stored (crosspost collect, or the daemon); nothing is fetched here.
    """
    from crosspost.cli.context import store_to_read

    project = _project(app)
    now = _now()
    store = store_to_read(app)  # marking an item of a database not there yet finds none
    if mark:
        _mark(store, mark, now)
        return
    wanted = _accounts(accounts, project)
    start = _since(since, project, now)
    items = inbox_entries(store, wanted, start, unanswered, limit or None)
    titles = {i.id: i.title for i in project.content.values()} if project else {}
    if as_json:
        rows = [_row(item, titles, now) for item in items]
        click.echo(json.dumps({"items": rows}, ensure_ascii=False, indent=2))
    elif output == "tsv":
        _print_tsv(items, titles, now)
    else:
        _print_plain(items, titles, now)


def _now() -> datetime:
    return datetime.now(UTC)


def _project(app: AppContext) -> Project | None:
    """The project, for content titles and the time zone; the inbox works without it."""
    try:
        return app.project()
    except ConfigError:
        click.echo("note: the schedule does not load; content titles are not shown", err=True)
        return None


def _mark(store: Any, ids: tuple[int, ...], now: datetime) -> None:
    found = mark_answered(store, ids, now)
    missing = sorted(set(ids) - set(found))
    if missing:
        raise click.BadParameter(
            f"no inbox item {', '.join(map(str, missing))}", param_hint="--mark-answered"
        )
    click.echo(f"marked answered: {', '.join(map(str, found))}")


def _accounts(value: str, project: Project | None) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    if project is None:
        return names
    for name in names:
        if name not in project.accounts:
            close = difflib.get_close_matches(name, sorted(project.accounts), n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            raise click.BadParameter(f'unknown account "{name}"{hint}', param_hint="--account")
    return names


def _since(value: str | None, project: Project | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    zone = project.schedule.timezone if project else ZoneInfo("UTC")
    try:
        return parse_since(value, zone, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None


def ago(moment: datetime, now: datetime) -> str:
    """How long before ``now``, in its largest whole unit: ``45s``, ``12m``, ``3h``, ``2d``."""
    seconds = max(int((now - moment).total_seconds()), 0)
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit == "w" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _row(item: InboxEntry, titles: dict[str, str], now: datetime) -> dict[str, Any]:
    return {
        "id": item.id,
        "created_at": item.created_at.isoformat(),
        "ago": ago(item.created_at, now),
        "account": item.account,
        "platform": item.platform,
        "kind": item.kind,
        "author": item.author,
        "answered_at": item.answered_at.isoformat() if item.answered_at else None,
        "entry": item.entry,
        "content": item.content_id,
        "title": titles.get(item.content_id or ""),
        "post_url": item.post_url,
        "url": item.url,
        "text": item.text,
    }


def _print_tsv(items: list[InboxEntry], titles: dict[str, str], now: datetime) -> None:
    click.echo("\t".join(_TSV_COLUMNS))
    for item in items:
        row = _row(item, titles, now)
        click.echo("\t".join(_cell(row[name]) for name in _TSV_COLUMNS))


def _cell(value: Any) -> str:
    # one item per line: tabs and line breaks inside a text become spaces
    return "" if value is None else " ".join(str(value).split())


def _print_plain(items: list[InboxEntry], titles: dict[str, str], now: datetime) -> None:
    for item in items:
        answered = (
            f"answered {ago(item.answered_at, now)} ago" if item.answered_at else "unanswered"
        )
        click.echo(
            f"#{item.id}  {ago(item.created_at, now)} ago  {item.account} ({item.platform})  "
            f"{item.kind} from {item.author}  [{answered}]"
        )
        click.echo("  " + "\n  ".join(item.text.splitlines() or [""]))
        if item.entry is not None:
            title = titles.get(item.content_id or "", "")
            quoted = f' "{title}"' if title else ""
            click.echo(f"  ↳ on {item.entry}{quoted} {item.post_url or ''}".rstrip())
        if item.url:
            click.echo(f"  {item.url}")
    waiting = sum(1 for i in items if i.answered_at is None)
    summary = f"{counted(len(items), 'item')}, {waiting} unanswered"
    click.echo(summary if items else "nothing in the inbox")
