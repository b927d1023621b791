"""``crosspost feeds``: the subscriptions of ``feeds:`` and how their last fetch went;
``crosspost feeds fetch``: fetch now and write down what the new entries post.

Registered in ``crosspost.cli._COMMANDS``. Exit codes: 0 ok, 1 a feed's (last)
fetch failed, 2 bad input (the schedule, an unknown feed name).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from crosspost.cli.tables import format_option, print_table
from crosspost.loading.feeds_spec import FeedSpec
from crosspost.loading.project import Project
from crosspost.rendering.humanize import duration

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext
    from crosspost.publishing.feeds import FeedReport
    from crosspost.store import Store

__all__ = ["feeds", "fetch"]

_EPILOG = """\b
Example:
  crosspost feeds                   # every subscription, its last fetch, what it posted
  crosspost feeds fetch --dry-run   # fetch now, show what would be posted, record nothing
  crosspost feeds fetch blog        # fetch now; the new entries go out with the daemon
"""
_COLUMNS = ("feed", "every", "last fetch", "state", "posted", "skipped", "url / error")

out = Console(highlight=False, soft_wrap=True)


def _now() -> datetime:
    return datetime.now(UTC)


@click.group(invoke_without_command=True, epilog=_EPILOG)
@format_option
@click.option("--json", "as_json", is_flag=True, help="Print the subscriptions as JSON.")
@click.pass_context
def feeds(ctx: click.Context, fmt: str, as_json: bool) -> None:
    """The feeds the schedule subscribes to, and how their last fetch went.

    Exits 1 when the last fetch of a feed failed (its reason is shown).
    """
    if ctx.invoked_subcommand is not None:
        return
    from crosspost.cli.context import store_to_read

    app: AppContext = ctx.obj
    project = app.project()
    rows = _listing(project, store_to_read(app), _now())
    if as_json:
        click.echo(json.dumps({"feeds": rows}, ensure_ascii=False, indent=2))
    elif not rows:
        out.print("no feeds: add a feeds: block to the schedule (see docs/feeds.md)")
    else:
        cells = [_cells(row) for row in rows]
        print_table(out, _COLUMNS, cells, fmt, below="url / error")
    raise SystemExit(1 if any(row["error"] for row in rows) else 0)


def _listing(project: Project, store: Store, now: datetime) -> list[dict[str, Any]]:
    from crosspost.store.feeds import entry_counts, feed_states

    states, counts = feed_states(store), entry_counts(store)
    rows = []
    for feed in project.feeds:
        state = states.get(feed.id)
        seen = counts.get(feed.id, {})
        rows.append(
            {
                "id": feed.id,
                "url": feed.url,
                "title": state.title if state else "",
                "enabled": feed.enabled,
                "every": int(feed.every.total_seconds()),
                "to": project.targets.get(feed.entry, []),
                "subscribed_at": _iso(state.subscribed_at if state else None),
                "last_fetch_at": _iso(state.last_fetch_at if state else None),
                "last_ok_at": _iso(state.last_ok_at if state else None),
                "next_fetch_at": _iso(_next(feed, state.last_fetch_at if state else None, now)),
                "error": state.error if state else None,
                "posted": seen.get("planned", 0),
                "old": seen.get("old", 0),
                "capped": seen.get("capped", 0),
            }
        )
    return rows


def _next(feed: FeedSpec, last: datetime | None, now: datetime) -> datetime | None:
    if not feed.enabled:
        return None
    return max(last + feed.every, now) if last else now


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _cells(row: dict[str, Any]) -> list[str]:
    last = row["last_fetch_at"]
    state = "disabled" if not row["enabled"] else "never fetched" if not last else "ok"
    if row["error"]:
        state = "failed"
    return [
        row["id"],
        duration(timedelta(seconds=row["every"])),
        last[:16].replace("T", " ") if last else "-",
        state,
        str(row["posted"]),
        str(row["old"] + row["capped"]),
        row["error"] or row["url"],
    ]


@feeds.command(epilog=_EPILOG)
@click.argument("names", nargs=-1, metavar="[FEED]...")
@click.option("--dry-run", is_flag=True, help="Show what would be posted; record nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print what each fetch found as JSON.")
@click.pass_obj
def fetch(app: AppContext, names: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Fetch the feeds (all, or those named) now, whatever their interval.

    New entries are remembered and their posts written down; the daemon (or
    crosspost daemon --once) sends them. Exits 1 when a fetch failed.
    """
    from crosspost.publishing.feeds import FeedPoller

    project = app.project()
    chosen = _chosen(project, names)
    store = app.store()
    poller = FeedPoller(store, log_failures=False)  # printed below instead
    if not dry_run:
        poller.retire(project, _now())
    reports = [poller.poll(project, feed, dry_run=dry_run) for feed in chosen]
    if as_json:
        data = {"dry_run": dry_run, "feeds": [_report_json(r) for r in reports]}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for report in reports:
            _print_report(report, dry_run)
    raise SystemExit(1 if any(r.outcome == "failed" for r in reports) else 0)


def _chosen(project: Project, names: tuple[str, ...]) -> list[FeedSpec]:
    known = {feed.id: feed for feed in project.feeds}
    unknown = [name for name in names if name not in known]
    if unknown:
        listed = ", ".join(known) or "none in the schedule"
        raise click.BadParameter(f"no feed {unknown[0]!r} (known: {listed})", param_hint="FEED")
    if names:
        return [known[name] for name in names]
    return [feed for feed in project.feeds if feed.enabled]


def _report_json(report: FeedReport) -> dict[str, Any]:
    return {
        "feed": report.feed,
        "url": report.url,
        "outcome": report.outcome,
        "error": report.error,
        "old": report.old,
        "capped": report.capped,
        "accounts": report.accounts,
        "posts": [
            {
                "key": entry.key,
                "id": entry.guid,
                "title": entry.title,
                "link": entry.link,
                "published_at": _iso(entry.published_at),
            }
            for entry in report.planned
        ],
    }


def _print_report(report: FeedReport, dry_run: bool) -> None:
    if report.outcome == "failed":
        out.print(f"failed {report.feed}: {report.error}", markup=False)
        return
    if report.outcome == "not-modified":
        out.print(f"{report.feed}: not modified since the last fetch (HTTP 304)", markup=False)
        return
    verb = "would post" if dry_run else "posts"
    skipped = []
    if report.old:
        skipped.append(f"{report.old} older than since")
    if report.capped:
        skipped.append(f"{report.capped} over max_per_fetch")
    note = f" (not posted: {', '.join(skipped)})" if skipped else ""
    count = len(report.planned)
    out.print(f"{report.feed}: {count} new {_entries(count)} to post{note}", markup=False)
    accounts = ", ".join(report.accounts)
    for entry in report.planned:
        out.print(f"  {verb} to {accounts}: {entry.title or entry.guid}", markup=False)
        if entry.link:
            out.print(f"    {entry.link}", markup=False)
    if count and not dry_run:
        out.print("  they go out with the daemon (or: crosspost daemon --once)", markup=False)


def _entries(count: int) -> str:
    return "entry" if count == 1 else "entries"
