"""Where and how ``crosspost report`` writes: ``--output`` and ``--format``.

Without ``--output`` the report goes to stdout; an existing directory gets
``report.<format>`` (CSV: one file per section); a file's missing folders are created.
Each format has a module of its own: :mod:`~crosspost.reporting.report_table` (the
terminal), :mod:`~crosspost.reporting.report_csv`, :mod:`~crosspost.reporting.report_json`
and :mod:`~crosspost.reporting.report_html`.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.console import Console

from crosspost.reporting.report_csv import to_csv, write_csv_dir
from crosspost.reporting.report_figures import Report
from crosspost.reporting.report_html import to_html
from crosspost.reporting.report_json import to_json
from crosspost.reporting.report_table import print_report

__all__ = ["DEFAULT_NAMES", "output_target", "write_report"]


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


def write_report(built: Report, fmt: str, target: Path | None, posts_shown: int) -> None:
    """Write ``built`` in ``fmt`` to ``target`` (stdout when None; a folder: CSV per section)."""
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
