"""``crosspost report`` and ``crosspost conversions import``.

The lead registers them with ``cli.add_command(report)`` and
``cli.add_command(conversions)``. Exit codes: 0 ok, 2 bad input.
"""

from __future__ import annotations

import csv
import difflib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from connectors.base import Capability
from crosspost.errors import ConfigError, Problem
from crosspost.loading.inputfile import read_text
from crosspost.loading.project import Project, no_cycle_collection
from crosspost.reporting.posting_times import MIN_POSTS_FOR_TIMES, MIN_POSTS_PER_SLOT
from crosspost.reporting.report import (
    Report,
    ReportQuery,
    build_report,
    parse_since,
    parse_until,
)
from crosspost.reporting.report_render import (
    DEFAULT_POSTS_SHOWN,
    print_report,
    to_csv,
    to_html,
    to_json,
    write_csv_dir,
)
from crosspost.store import Store
from crosspost.store.reports import ConversionRow, upsert_conversions

#: The largest analytics export read (64 MiB).
MAX_CSV_BYTES = 64 * 1024 * 1024

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext

__all__ = [
    "COLUMN_ALIASES",
    "DEFAULT_NAMES",
    "conversions",
    "import_conversions",
    "output_target",
    "read_conversions",
    "report",
]

#: Accepted header names (lower case, spaces and dashes as ``_``) per field.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "campaign": ("utm_campaign", "campaign", "campaign_name", "session_campaign"),
    "content": ("utm_content", "content", "ad_content", "session_manual_ad_content"),
    "source": ("utm_source", "source", "session_source"),
    "day": ("date", "day"),
    "conversions": ("conversions", "goal_completions", "conversion", "key_events"),
    "clicks": ("clicks",),
    "value": ("value", "conversion_value", "revenue", "total_revenue"),
}
_REQUIRED = ("campaign", "conversions")

#: ``now`` is injectable so tests can pin the clock.
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _split(values: Sequence[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@contextmanager
def _working(message: str) -> Iterator[None]:
    """A spinner on stderr while the store is read, only when stderr is a terminal."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield
        return
    with console.status(message):
        yield


# --------------------------------------------------------------------------- report


def _chosen(wanted: list[str], known: Sequence[str], option: str) -> list[str]:
    for name in wanted:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            raise click.BadParameter(
                f'unknown {option[2:]} "{name}" (expected one of: {", ".join(known)}){hint}',
                param_hint=option,
            )
    return wanted


def report_query(
    project: Project,
    since: str,
    until: str | None,
    accounts: Sequence[str],
    platforms: Sequence[str],
    now: datetime,
    min_posts: int,
    min_slot_posts: int = MIN_POSTS_PER_SLOT,
) -> ReportQuery:
    """The period and accounts of a report, from the command's options.

    Raises:
        click.BadParameter: a bad period, an unknown account or platform (exit 2).
    """
    zone = project.schedule.timezone
    try:
        start = parse_since(since, zone, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    try:
        end = parse_until(until, zone, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--until") from None
    if end <= start:
        raise click.BadParameter("the period is empty: --until must be after --since")
    every = {name: account.platform for name, account in project.accounts.items()}
    names = _chosen(_split(accounts), sorted(every), "--account") or sorted(every)
    kinds = _chosen(_split(platforms), sorted(set(every.values())), "--platform")
    chosen = {n: every[n] for n in names if not kinds or every[n] in kinds}
    exact = frozenset(
        n
        for n in chosen
        if Capability.FOLLOWER_LIST in project.accounts[n].connector_cls.capabilities
    )
    titles = {key: item.title for key, item in project.content.items() if item.title}
    return ReportQuery(
        start, end, chosen, zone, exact, min_posts, titles=titles, min_slot_posts=min_slot_posts
    )


#: The file written into an existing directory given as ``--output``, per format.
DEFAULT_NAMES = {
    "table": "report.txt",
    "plain": "report.txt",
    "csv": "report.csv",
    "json": "report.json",
    "html": "report.html",
}


def _is_folder(text: str) -> bool:
    return text.endswith(("/", os.sep))


def output_target(output: str | None, fmt: str) -> Path | None:
    """Where ``--output`` writes: a file, or a folder for CSV's one-file-per-section.

    An existing directory gets ``report.<format>`` inside it (CSV: one file per section);
    a path ending in ``/`` must be an existing directory; a file's missing parent folders
    are created.

    Raises:
        click.BadParameter: a folder that does not exist (exit 2).
    """
    if output is None:
        return None
    path = Path(output)
    if path.is_dir():
        return path if fmt == "csv" else path / DEFAULT_NAMES[fmt]
    if _is_folder(output):
        raise click.BadParameter(
            f"folder {output} does not exist (create it, or give a file name)",
            param_hint="--output",
        )
    return path


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


@click.command(
    "report",
    epilog="Example: crosspost report --since 30d --platform mastodon --format html "
    "--output report.html",
)
@click.option(
    "--since", default="30d", show_default=True, help="A duration back from now or a date."
)
@click.option("--until", default=None, help="A date (included) or time [default: now].")
@click.option("--account", "accounts", multiple=True, help="Only these accounts (repeat or a,b).")
@click.option(
    "--platform", "platforms", multiple=True, help="Only these platforms (repeat or a,b)."
)
@click.option(
    "--format",
    "fmt",
    default="table",
    show_default=True,
    type=click.Choice(["table", "plain", "csv", "json", "html"]),
    help="table for people, plain (no borders) for pipes, csv or json for scripts, html to share.",
)
@click.option(
    "--output",
    default=None,
    help="Write here instead of stdout. An existing directory gets report.<format> "
    "(csv: one file per section); a DIR/ that does not exist is an error.",
)
@click.option(
    "--posts",
    "posts_shown",
    default=DEFAULT_POSTS_SHOWN,
    show_default=True,
    type=click.IntRange(0),
    help="Posts listed in the table and HTML page, most reactions first (csv/json: all).",
)
@click.option(
    "--min-posts",
    default=MIN_POSTS_FOR_TIMES,
    show_default=True,
    type=click.IntRange(1),
    help="Posts with metrics a platform needs before 'when to post' is shown.",
)
@click.option(
    "--min-slot-posts",
    default=MIN_POSTS_PER_SLOT,
    show_default=True,
    type=click.IntRange(1),
    help="Posts a weekday × hour needs before 'when to post' shows or advises it.",
)
@click.pass_obj
def report(
    app: AppContext,
    since: str,
    until: str | None,
    accounts: tuple[str, ...],
    platforms: tuple[str, ...],
    fmt: str,
    output: str | None,
    posts_shown: int,
    min_posts: int,
    min_slot_posts: int,
) -> None:
    """Reactions, audience growth and churn, member-written content, conversions and the
    best times to post, from what crosspost has collected in the period (--since, --until).
    Reads only the local store; every time is shown in the schedule's timezone.
    """
    target = output_target(output, fmt)
    project, store = app.project(), app.store()
    now = _now()
    query = report_query(project, since, until, accounts, platforms, now, min_posts, min_slot_posts)
    # A report makes hundreds of thousands of short-lived rows, figures and cells: full
    # collections walking everything the imports left behind were a fifth of its time.
    with no_cycle_collection():
        with _working("Reading the store…"):
            built = build_report(store, query, now, (_split(accounts), _split(platforms)))
        store.close()
        _write_report(built, fmt, target, posts_shown)


def _write_report(built: Report, fmt: str, target: Path | None, posts_shown: int) -> None:
    plain = fmt == "plain"
    if fmt in ("table", "plain") and target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8") as handle:
            print_report(built, Console(file=handle, width=200), posts_shown, plain)
    elif fmt in ("table", "plain"):
        print_report(built, Console(), posts_shown, plain)
    elif fmt == "csv" and target is not None and target.is_dir():
        for path in write_csv_dir(built, target):
            Console(stderr=True).print(f"wrote {path}", markup=False)
    elif fmt == "html":
        _emit(to_html(built, posts_shown), target)
    else:
        _emit({"csv": to_csv, "json": to_json}[fmt](built), target)


# --------------------------------------------------------------------------- conversions


def _header_map(header: Sequence[str], path: Path) -> dict[str, int]:
    normal = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in header]
    found: dict[str, int] = {}
    for field, aliases in COLUMN_ALIASES.items():
        for position, name in enumerate(normal):
            if name in aliases and field not in found:
                found[field] = position
    missing = [f for f in _REQUIRED if f not in found]
    if missing:
        expected = "; ".join(f"{f}: one of {', '.join(COLUMN_ALIASES[f])}" for f in missing)
        raise ConfigError([Problem.at(path, 1, 1, f"missing column(s) — expected {expected}")])
    return found


#: The largest count or value accepted (well inside a 64-bit integer column).
_LARGEST = 1e15


def _number(text: str, integer: bool) -> float | int:
    value = float(text.replace("_", "").strip())
    # NaN is never equal to itself; inf and huge counts would not fit the store
    if value < 0 or value != value or value > _LARGEST:
        raise ValueError(text)
    if integer:
        if value != int(value):
            raise ValueError(text)
        return int(value)
    return value


def _day(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    if len(text) == 8 and text.isdigit():  # GA4 exports dates as YYYYMMDD
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return datetime.strptime(text, "%Y-%m-%d").date().isoformat()


_EXPECTED = {
    "conversions": "a whole number ≥ 0",
    "clicks": "a whole number ≥ 0 or nothing",
    "value": "a number ≥ 0 or nothing",
    "day": "a date YYYY-MM-DD (or YYYYMMDD) or nothing",
    "campaign": "a campaign name (utm_campaign), not empty",
}


def _field(field: str, text: str) -> object:
    if field in ("campaign", "content", "source"):
        if field == "campaign" and not text.strip():
            raise ValueError(text)
        return text.strip()
    if field == "day":
        return _day(text)
    if field == "conversions":
        return _number(text, True)
    return _number(text, field == "clicks") if text.strip() else None


def _parse_row(
    cells: Sequence[str], columns: Mapping[str, int], where: tuple[Path, int]
) -> tuple[ConversionRow | None, list[Problem]]:
    values: dict[str, object] = {"content": "", "source": "", "day": ""}
    problems = []
    for field, position in columns.items():
        text = cells[position] if position < len(cells) else ""
        try:
            values[field] = _field(field, text)
        except ValueError:
            problems.append(
                Problem.at(
                    where[0],
                    where[1],
                    position + 1,
                    f"{field}: expected {_EXPECTED[field]}, got {text!r}",
                )
            )
    return (None if problems else ConversionRow(**values)), problems  # type: ignore[arg-type]


def _merge(rows: Sequence[ConversionRow]) -> list[ConversionRow]:
    """Add up rows with the same key (an export split by another dimension)."""
    merged: dict[tuple[str, str, str, str], ConversionRow] = {}
    for row in rows:
        key = (row.campaign, row.content, row.source, row.day)
        if (old := merged.get(key)) is not None:
            row = ConversionRow(
                *key,
                old.conversions + row.conversions,
                None
                if old.clicks is None and row.clicks is None
                else (old.clicks or 0) + (row.clicks or 0),
                None
                if old.value is None and row.value is None
                else (old.value or 0) + (row.value or 0),
            )
        merged[key] = row
    return list(merged.values())


def _dialect(text: str) -> type[csv.Dialect]:
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:  # one column, or too little text to tell
        return csv.excel


def read_conversions(path: Path) -> list[ConversionRow]:
    """Read an analytics export; rows with the same key are added up.

    Raises:
        ConfigError: the file is unreadable, lacks a required column, or has bad rows
            (each named file:line:column with what was expected).
    """
    text = read_text(path, limit=MAX_CSV_BYTES)
    reader = csv.reader(text.splitlines(keepends=True), _dialect(text))
    header = next(reader, None)
    if not header:
        raise ConfigError([Problem.at(path, 1, 1, "empty file: expected a header row")])
    columns = _header_map(header, path)
    rows, problems = [], []
    for cells in _rows_of(reader, path):
        if not any(c.strip() for c in cells):
            continue
        row, found = _parse_row(cells, columns, (path, reader.line_num))
        problems += found
        if row is not None:
            rows.append(row)
    if problems:
        raise ConfigError(problems)
    return _merge(rows)


def _rows_of(reader: Any, path: Path) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as exc:  # a field over the csv module's size limit, a stray NUL…
        raise ConfigError([Problem.at(path, reader.line_num, 1, f"CSV: {exc}")]) from None


def import_conversions(store: Store, path: Path, now: datetime) -> tuple[int, int, int]:
    """Read ``path`` and upsert its rows; ``(rows, inserted, updated)``.

    Raises:
        ConfigError: any bad row; then nothing is imported.
    """
    rows = read_conversions(path)
    inserted, updated = upsert_conversions(store, rows, path.name, now)
    return len(rows), inserted, updated


@click.group("conversions", epilog="Example: crosspost conversions import ga4-export.csv")
def conversions() -> None:
    """Conversions from analytics exports, matched to posts by their UTM tags."""


@conversions.command("import", epilog="Example: crosspost conversions import export.csv --json")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_obj
def import_command(app: AppContext, file: Path, as_json: bool) -> None:
    """Import FILE.csv: columns utm_campaign, utm_content, utm_source, date, conversions,
    clicks, value (names case-insensitive; common aliases accepted). Importing the same
    file again replaces its rows instead of adding them; a bad row imports nothing.
    """
    store = app.store()
    try:
        rows, inserted, updated = import_conversions(store, file, _now())
    finally:
        store.close()
    if as_json:
        data = {"file": str(file), "rows": rows, "inserted": inserted, "updated": updated}
        click.echo(json.dumps(data))
    else:
        click.echo(f"imported {rows} row(s) from {file}: {inserted} new, {updated} updated")
