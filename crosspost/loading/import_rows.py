"""Reading a bulk-import file (CSV or JSON) into rows that remember their line.

A CSV row starts on the physical line after the end of the previous one, so a
quoted body over several lines moves every later row down, as an editor shows
it. JSON rows are the objects of a top-level array, each at the line of its
opening brace.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crosspost.errors import ConfigError, Problem

__all__ = ["COLUMNS", "ImportRow", "read_rows"]

#: Every column an import file may have, with the other names accepted for it.
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("entry", "slug"),
    "body": ("content", "text", "message", "post"),
    "content_id": ("content_ref",),
    "title": (),
    "link": ("url",),
    "tags": ("hashtags",),
    "template": (),
    "language": ("lang",),
    "content_warning": ("cw", "spoiler"),
    "media": ("image", "images"),
    "alt": ("alt_text", "alts"),
    "to": ("accounts", "account", "targets"),
    "at": ("date", "when", "time"),
    "cron": (),
    "every": ("interval",),
    "start": (),
    "until": (),
    "timezone": ("tz", "zone", "time_zone"),
    "missed": (),
    "grace": (),
    "thread": (),
}

_ALIASES = {alias: name for name, aliases in COLUMNS.items() for alias in (name, *aliases)}


@dataclass(frozen=True)
class ImportRow:
    """One row: its values by column, and where it and each of its cells are."""

    file: str
    line: int
    values: dict[str, Any]
    #: 1-based position of each column (CSV); JSON cells are all at column 1.
    positions: dict[str, int] = field(default_factory=dict)

    def problem(self, column: str, message: str) -> Problem:
        """A problem in this row's ``column``."""
        return Problem.at(
            self.file, self.line, self.positions.get(column, 1), f"{column}: {message}"
        )


def read_rows(path: Path, shown: str) -> list[ImportRow]:
    """The rows of ``path`` (``.csv`` or ``.json``), named ``shown`` in problems.

    Raises:
        ConfigError: the file cannot be read, is not CSV/JSON, or has unknown columns.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError([Problem.at(shown, 1, 1, f"cannot read: {reason}")]) from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(text, shown)
    if suffix == ".json":
        return _json_rows(text, shown)
    raise ConfigError([Problem.at(shown, 1, 1, "expected a .csv or .json file")])


def column_name(raw: str) -> str | None:
    """The column a header names (case, spaces and dashes do not matter); None if unknown."""
    return _ALIASES.get(raw.strip().lower().replace(" ", "_").replace("-", "_"))


def _unknown_column(raw: str) -> str:
    close = difflib.get_close_matches(raw.strip().lower(), sorted(_ALIASES), n=1)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    return f'unknown column "{raw}" (see the import columns in the README){hint}'


# --------------------------------------------------------------------------- CSV


def _delimiter(header: str) -> str:
    # spreadsheets in many locales export with ";", some with tabs
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each record with the physical line it starts on."""
    lines = io.StringIO(text, newline="")  # the csv module's own line splitting
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    start = 1
    for record in reader:
        yield start, record
        start = reader.line_num + 1


def _csv_rows(text: str, shown: str) -> list[ImportRow]:
    header_line = text.split("\n", 1)[0]
    records = _records(text, _delimiter(header_line))
    try:
        first = next(records, None)
        if first is None:
            raise ConfigError([Problem.at(shown, 1, 1, "the file is empty (expected a header)")])
        columns = _header(first[1], shown)
        rows = [
            _csv_row(shown, line, cells, columns)
            for line, cells in records
            if any(cell.strip() for cell in cells)
        ]
    except csv.Error as exc:
        raise ConfigError([Problem.at(shown, 1, 1, f"CSV: {exc}")]) from None
    return rows


def _header(cells: list[str], shown: str) -> list[str]:
    names, problems = [], []
    for index, raw in enumerate(cells):
        name = column_name(raw)
        if name is None:
            problems.append(Problem.at(shown, 1, index + 1, _unknown_column(raw)))
        elif name in names:
            problems.append(Problem.at(shown, 1, index + 1, f'column "{name}" is given twice'))
        names.append(name or "")
    if problems:
        raise ConfigError(problems)
    return names


def _csv_row(shown: str, line: int, cells: list[str], columns: list[str]) -> ImportRow:
    positions = {name: index + 1 for index, name in enumerate(columns)}
    values: dict[str, Any] = {
        name: cell.replace("\r\n", "\n").strip()
        for name, cell in zip(columns, cells, strict=False)
        if cell.strip()
    }
    if len(cells) > len(columns):
        values["_extra"] = f"has {len(cells)} cells, the header has {len(columns)}"
        positions["_extra"] = len(columns) + 1
    return ImportRow(shown, line, values, positions)


# --------------------------------------------------------------------------- JSON


def _json_rows(text: str, shown: str) -> list[ImportRow]:
    decoder = json.JSONDecoder()
    index = _skip_space(text, 0)
    if text[index : index + 1] != "[":
        raise ConfigError([Problem.at(shown, _line(text, index), 1, "expected a JSON array")])
    rows, problems = [], []
    index = _skip_space(text, index + 1)
    while index < len(text) and text[index] != "]":
        try:
            value, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                [Problem.at(shown, exc.lineno, exc.colno, f"JSON: {exc.msg}")]
            ) from None
        line = _line(text, index)
        if isinstance(value, dict):
            row, unknown = _json_row(shown, line, value)
            rows.append(row)
            problems += unknown
        else:
            problems.append(Problem.at(shown, line, 1, "expected an object per row"))
        index = _skip_space(text, end)
        if text[index : index + 1] == ",":
            index = _skip_space(text, index + 1)
    if problems:
        raise ConfigError(problems)
    return rows


def _json_row(shown: str, line: int, raw: dict[str, Any]) -> tuple[ImportRow, list[Problem]]:
    values, problems = {}, []
    for key, value in raw.items():
        name = column_name(str(key))
        if name is None:
            problems.append(Problem.at(shown, line, 1, _unknown_column(str(key))))
        elif value not in (None, "", []):
            values[name] = value.strip() if isinstance(value, str) else value
    return ImportRow(shown, line, values), problems


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def _line(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1
