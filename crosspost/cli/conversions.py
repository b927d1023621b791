"""``crosspost conversions import``: conversions from analytics exports, into the store.

An analytics export (CSV) is read by its header: the accepted names of each column
are :data:`COLUMN_ALIASES`. Its rows are matched to posts by their UTM tags when
``crosspost report`` runs. Exit codes: 0 ok, 2 bad input.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crosspost.errors import ConfigError, Problem
from crosspost.loading.inputfile import read_text
from crosspost.rendering.humanize import counted
from crosspost.report_rows import ConversionRow
from crosspost.store import Store
from crosspost.store.conversions import upsert_conversions

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext

__all__ = [
    "COLUMN_ALIASES",
    "MAX_CSV_BYTES",
    "conversions",
    "import_command",
    "import_conversions",
    "read_conversions",
]

#: The largest analytics export read (64 MiB).
MAX_CSV_BYTES = 64 * 1024 * 1024

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


def _now() -> datetime:
    return datetime.now(UTC)


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
        imported = counted(rows, "row")
        click.echo(f"imported {imported} from {file}: {inserted} new, {updated} updated")
