"""``crosspost import FILE.csv|FILE.json``: a spreadsheet's rows as content files and entries.

Registered with ``cli.add_command(import_command)``. Exit codes: 0 written (or
shown with ``--dry-run``), 1 a file could not be written, 2 a bad row (nothing
is written).
"""

from __future__ import annotations

import difflib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crosspost.errors import ConfigError, Problem
from crosspost.loading.importer import ImportResult, plan_import, write_import
from crosspost.loading.yamlwrite import count_entries
from crosspost.rendering.humanize import counted

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext

__all__ = ["import_command"]

_EPILOG = """\b
Example:
  crosspost import events.csv --dry-run
  crosspost import events.csv && git diff

\b
events.csv:
  id,title,body,to,at,tags
  meetup-may,May meetup,"Talks and pizza, 18:00.",everywhere,2027-05-14 09:00,meetup
"""


@click.command("import", epilog=_EPILOG)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Check and show what would be written; write nothing."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def import_command(app: AppContext, file: Path, dry_run: bool, as_json: bool) -> None:
    """Turn the rows of FILE (.csv or .json) into content files and schedule entries.

    A row with a body becomes content_dir/ID.md; a row with `to` and a time
    (at, cron or every) becomes a posts: entry appended to schedule.yaml, whose
    comments and layout are kept. Every row is checked first (accounts, times in
    their zone, ids, length on each target platform); any bad row is reported as
    FILE:line:column and nothing is written. Exits 0 when written, 2 on bad rows.
    """
    from crosspost.cli.output import EXIT_BAD_INPUT, EXIT_OK, print_problems

    project = app.project()
    shown = _shown(file)
    try:
        result = plan_import(project, file, shown, datetime.now(UTC))
    except ConfigError as exc:
        result = ImportResult(shown, problems=list(exc.problems))
    result.problems.sort(key=lambda p: (p.line, p.column, p.message))
    if not result.problems and not dry_run:
        write_import(result, project.path)
    if as_json:
        click.echo(json.dumps(_json(result, dry_run), ensure_ascii=False, indent=2))
    elif result.problems:
        print_problems(result.problems)
        rows = _rows(result.problems)
        have = "has" if rows == 1 else "have"
        message = f"{counted(rows, 'row')} of {shown} {have} problems; nothing was written."
        click.echo(f"Error: {message}", err=True)
    else:
        _print(result, project.path, dry_run)
    raise SystemExit(EXIT_BAD_INPUT if result.problems else EXIT_OK)


def _shown(path: Path | str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _rows(problems: list[Problem]) -> int:
    return len({p.line for p in problems})


def _print(result: ImportResult, schedule: Path, dry_run: bool) -> None:
    verb = "would write" if dry_run else "wrote"
    for new in result.content:
        click.echo(f"{verb} {_shown(str(new.path))}")
        if dry_run:
            click.echo(new.text)
    if result.schedule_text is not None:
        click.echo(f"{verb} {count_entries(len(result.posts))} into {_shown(str(schedule))}")
        if dry_run:
            click.echo(_diff(schedule, result.schedule_text), nl=False)
    click.echo(
        f"{'dry run: ' if dry_run else ''}{counted(len(result.content), 'content file')}, "
        f"{count_entries(len(result.posts))} from {result.source}"
        + ("" if dry_run else "; review them with git diff, then crosspost plan")
    )


def _diff(schedule: Path, new_text: str) -> str:
    old = schedule.read_text(encoding="utf-8").splitlines(keepends=True)
    name = _shown(str(schedule))
    return "".join(difflib.unified_diff(old, new_text.splitlines(keepends=True), name, name))


def _json(result: ImportResult, dry_run: bool) -> dict[str, Any]:
    return {
        "ok": not result.problems,
        "written": not result.problems and not dry_run,
        "problems": [
            {"file": p.file, "line": p.line, "column": p.column, "message": p.message}
            for p in result.problems
        ],
        "content_files": [{"path": _shown(str(c.path)), "text": c.text} for c in result.content],
        "posts": result.posts,
    }
