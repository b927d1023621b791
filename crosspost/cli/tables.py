"""Tables for people and for scripts: ``table`` (boxed), ``plain`` (aligned), ``tsv``.

At 80 columns the long cells (errors, URLs, text) fold onto more lines while the
short ones (ids, times, states) keep their width, so no column becomes ``fol…``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click
from rich.text import Text

if TYPE_CHECKING:  # every command imports this module; few print a table
    from rich.console import Console

__all__ = ["FORMATS", "format_option", "print_table"]

FORMATS = ("table", "plain", "tsv")
#: Short columns (ids, times, names) never take the room of the long one.
_MAX_NARROW = 20

#: ``--format`` for commands that print tables.
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people, plain (no borders) or tsv (tab-separated, one header) for scripts.",
)


def print_table(
    console: Console,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    fmt: str = "table",
    wide: Sequence[str] = (),
) -> None:
    """Print ``rows`` under ``columns``; columns named in ``wide`` fold instead of truncating."""
    if fmt == "tsv":
        for line in [columns, *rows]:
            click.echo("\t".join(_one_line(cell) for cell in line))
        return
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD if fmt == "table" else None, pad_edge=False)
    for column in columns:
        if column in wide:
            table.add_column(column, overflow="fold", ratio=1)
        else:
            table.add_column(column, overflow="fold", max_width=_MAX_NARROW)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # user text, never markup
    console.print(table, soft_wrap=False)


def _one_line(cell: str) -> str:
    return " ".join(cell.replace("\t", " ").split())
