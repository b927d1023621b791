"""``crosspost calendar``: write the events of the schedule as one ``.ics`` file.

The file goes where ``calendar:`` in ``schedule.yaml`` says (the daemon keeps it up
to date there), or where ``--output`` says; ``--output -`` prints it. Nothing is
sent and the database is not opened.

Exit codes: 0 written (or unchanged), 2 bad input (a broken schedule, no ``events:``,
no place to write it).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crosspost.planning.ics import calendar_path, calendar_text, write_calendar
from crosspost.rendering.humanize import counted

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext

__all__ = ["calendar_command"]


@click.command(
    "calendar",
    epilog="Example: crosspost calendar --output public/events.ics",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Where to write it (- for stdout); default: calendar.path of schedule.yaml.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@click.pass_obj
def calendar_command(app: AppContext, output: Path | None, as_json: bool) -> None:
    """Write every event (cancelled ones marked so) as one iCalendar (.ics) file."""
    project = app.project()
    if not project.schedule.events:
        raise click.UsageError("schedule.yaml has no events: to put in a calendar")
    target = output or calendar_path(project.schedule, project.base_dir)
    if target is None:
        raise click.UsageError("give --output PATH, or set calendar: PATH in schedule.yaml")
    text = calendar_text(project.schedule, project.content, datetime.now(UTC))
    if str(target) == "-":
        click.echo(text.encode("utf-8"), nl=False)  # bytes: CRLF kept as RFC 5545 wants
        return
    written = write_calendar(target, text)
    events = len(project.schedule.events)
    if as_json:
        click.echo(json.dumps({"path": str(target), "events": events, "written": written}))
    else:
        state = "written" if written else "unchanged"
        click.echo(f"{target}: {counted(events, 'event')}, {state}")
