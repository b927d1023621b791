"""Tables for people and for scripts: ``table`` (boxed), ``plain`` (aligned), ``tsv``.

At 80 columns the long cells (errors, URLs, text) fold onto more lines while the
short ones (ids, times, states) keep their width, so no column becomes ``fol…``. A
long column that would get too little room (a URL folded into a strip of seven lines)
goes under the table instead, one line per row after the row's first cell.
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
#: Narrower than this, a ``below`` column leaves the table for lines under it.
_MIN_WIDE = 40

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
    below: str | None = None,
) -> None:
    """Print ``rows`` under ``columns``; columns named in ``wide`` fold instead of truncating.

    ``below``: a wide column too, which, when the console leaves it under ``_MIN_WIDE``
    characters, is printed under the table as ``first-cell  value`` lines instead (and
    left out when it has no value at all).
    """
    if fmt == "tsv":
        for line in [columns, *rows]:
            click.echo("\t".join(_one_line(cell) for cell in line))
        return
    if below is not None and below in columns and _goes_under(console, columns, rows, below):
        at = list(columns).index(below)
        narrow = [[*row[:at], *row[at + 1 :]] for row in rows]
        _table(console, [*columns[:at], *columns[at + 1 :]], narrow, fmt, cap=None)
        for row in rows:
            if row[at]:
                line = f"  {row[0]}  {row[at]}"  # whole, so it can be copied
                console.print(line, markup=False, highlight=False, soft_wrap=True)
        return
    _table(console, columns, rows, fmt, (*wide, below) if below else wide)


def _table(
    console: Console,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    fmt: str = "table",
    wide: Sequence[str] = (),
    cap: int | None = _MAX_NARROW,
) -> None:
    """The rich table; ``cap``: the most a column not in ``wide`` takes (None: the room
    the console has, once the long column went under the table)."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD if fmt == "table" else None, pad_edge=False)
    for column in columns:
        if column in wide:
            table.add_column(column, overflow="fold", ratio=1)
        else:
            table.add_column(column, overflow="fold", max_width=cap)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # user text, never markup
    console.print(table, soft_wrap=False)


def _goes_under(
    console: Console, columns: Sequence[str], rows: Sequence[Sequence[str]], below: str
) -> bool:
    """Whether ``below`` would get under ``_MIN_WIDE`` characters while its values need
    more, or has no value at all (an empty column only takes the others' room)."""
    at = list(columns).index(below)
    longest = max((len(row[at]) for row in rows), default=0)
    if longest == 0:
        return True
    others = sum(
        min(max([len(columns[i]), *(len(row[i]) for row in rows)]), _MAX_NARROW) + 3
        for i in range(len(columns))
        if i != at
    )
    room = console.width - others - 3
    return room < min(longest, _MIN_WIDE)


def _one_line(cell: str) -> str:
    return " ".join(cell.replace("\t", " ").split())
