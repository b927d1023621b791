"""``crosspost publish``: one content now (or in the next queue slot), recorded like any post."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from crosspost.cli.context import AppContext, utc_now
from crosspost.cli.output import (
    EXIT_FAILED,
    EXIT_OK,
    STYLE,
    exit_with,
    out,
    print_json,
)
from crosspost.status import Status

if TYPE_CHECKING:
    pass

__all__ = ["publish"]


@click.command(epilog="Example: crosspost publish content/launch.md --to mastodon,bluesky")
@click.argument("content")
@click.option("--to", "to", required=True, help="Accounts or groups, comma-separated.")
@click.option("--dry-run", is_flag=True, help="Render and check, send nothing.")
@click.option("--again", is_flag=True, help="Publish even if this exact post went out before.")
@click.option(
    "--next-slot",
    "next_slot",
    is_flag=True,
    help="Not now: in each account's next free slot of a queue (the daemon sends it).",
)
@click.option("--queue", "queue", default=None, help="With --next-slot: a slot of this queue.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_obj
def publish(
    app: AppContext,
    content: str,
    to: str,
    dry_run: bool,
    again: bool,
    next_slot: bool,
    queue: str | None,
    as_json: bool,
) -> None:
    """Publish CONTENT (a content id or a Markdown file) now, recorded like any scheduled post.

    Running it twice by mistake does not post twice: the same text to the same
    account is recorded once, unless --again. With --next-slot it is planned for each
    account's next free queue slot instead, and exits 0 once planned.
    """
    from crosspost.publishing.oneoff import UnknownTarget, publish_now

    if queue is not None and not next_slot:
        raise click.BadParameter("--queue goes with --next-slot", param_hint="--queue")
    try:
        results = publish_now(
            app.project(),
            app.store(),
            content,
            to,
            dry_run=dry_run,
            again=again,
            clock=utc_now,
            next_slot=next_slot,
            queue=queue,
        )
    except UnknownTarget as exc:
        raise click.BadParameter(str(exc), param_hint=exc.option) from None
    if as_json:
        print_json({"publications": [asdict(r) for r in results]})
    else:
        for result in results:
            _print_result(result)
    done = (
        (Status.PUBLISHED, "dry-run", Status.PLANNED)
        if next_slot
        else (Status.PUBLISHED, "dry-run")
    )
    not_out = [r for r in results if r.status not in done]
    exit_with(EXIT_FAILED if not_out else EXIT_OK)


def _print_result(result: Any) -> None:
    style = STYLE.get(result.status, "")
    where = result.url or ""
    line = f"[{style}]{result.status}[/{style}]" if style else result.status
    out.print(f"{line} {result.account}: {result.content} {where}")
    if result.error:
        out.print(f"  {result.error}", markup=False)
    if result.comment:
        out.print(f"  {result.comment}", markup=False)
    if result.status != "dry-run":
        return
    total = len(result.parts)
    for number, (part, length) in enumerate(zip(result.parts, result.lengths, strict=True), 1):
        thread = f"part {number}/{total}, " if total > 1 else ""
        out.print(f"— {thread}{length}/{result.limit} {result.unit} —", markup=False)
        out.print(part, markup=False)
