"""``crosspost report --format csv``: every section in one file, or one file per section.

The columns are :data:`~crosspost.reporting.report_json.COLUMNS` and the values those of
the JSON report (:func:`~crosspost.reporting.report_json.report_data`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from crosspost.reporting.report_figures import Report
from crosspost.reporting.report_json import COLUMNS, report_data

__all__ = ["to_csv", "write_csv_dir"]


def _sections(report: Report) -> dict[str, list[dict[str, Any]]]:
    data = report_data(report)
    meta = {k: data[k] for k in ("report_version", "generated_at", "since", "until", "timezone")}
    meta["accounts"] = ",".join(data["filters"]["accounts"])
    meta["platforms"] = ",".join(data["filters"]["platforms"])
    times = data["when_to_post"]
    return {
        "meta": [{"key": k, "value": v} for k, v in meta.items()],
        **{name: data[name] for name in ("posts", "top_posts", "bottom_posts", "accounts")},
        "followers": data["followers"],
        "community": data["community"],
        "when_to_post": [{"platform": t["platform"], **c} for t in times for c in t["cells"]],
        "when_to_post_status": [
            {k: _cell(t[k]) for k in COLUMNS["when_to_post_status"]} for t in times
        ],
        "responses": data["responses"],
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], target: Any) -> None:
    """The csv module writes None as an empty cell and numbers as ``str`` does, so only the
    booleans need :func:`_cell` (``_sections`` converts them) and each value is passed as is."""
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([row.get(name) for name in columns] for row in rows)


def _all_columns() -> list[str]:
    names = ["section"]
    for columns in COLUMNS.values():
        names += [c for c in columns if c not in names]
    return names


def to_csv(report: Report) -> str:
    """Every section in one CSV: a ``section`` column, then the union of all columns."""
    buffer = io.StringIO()
    rows = [
        {"section": name, **row} for name, section in _sections(report).items() for row in section
    ]
    _write(rows, _all_columns(), buffer)
    return buffer.getvalue()


def write_csv_dir(report: Report, folder: Path) -> list[Path]:
    """One ``<section>.csv`` per section in ``folder`` (created if missing); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in _sections(report).items():
        path = folder / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            _write(rows, COLUMNS[name], handle)
        written.append(path)
    return written
