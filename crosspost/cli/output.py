"""What every command prints with: the consoles, status styles, exit codes, JSON and problems.

Exit codes, for every command: 0 all is well, 1 some publications failed (or
are unknown or missed), 2 bad input or configuration.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

from crosspost.errors import Problem
from crosspost.logs import in_colour, printable
from crosspost.status import Status

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_OK",
    "STYLE",
    "TROUBLE",
    "echo",
    "echo_status",
    "err",
    "exit_with",
    "out",
    "print_json",
    "print_problems",
    "shown_path",
]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
#: Statuses that make a command exit 1.
TROUBLE = (Status.FAILED, Status.UNKNOWN, Status.MISSED)
#: How a status is shown.
STYLE: dict[str, str] = {
    Status.PUBLISHED: "green",
    Status.FAILED: "red",
    Status.UNKNOWN: "yellow",
    Status.MISSED: "yellow",
    Status.AWAITING_APPROVAL: "magenta",
}


#: Declared for readers and type checkers; made by the module's ``__getattr__``.
out: Console
err: Console


def __getattr__(name: str) -> Console:
    """``out`` and ``err``: rich consoles for stdout and stderr, made when first imported.

    Importing rich costs more than the rest of ``crosspost --help``, so commands that
    print only plain lines (:func:`echo`) never load it.
    """
    if name not in ("out", "err"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rich.console import Console

    console = Console(stderr=name == "err", highlight=False, soft_wrap=True)
    globals()[name] = console
    return console


def echo(text: str, *, err: bool = False) -> None:
    """One plain line on stdout (or stderr), as written: no markup, no emoji codes."""
    click.echo(printable(text), err=err)


def echo_status(status: str, text: str, *, prefix: str = "") -> None:
    """``prefix``, ``status`` in its colour (:data:`STYLE`, dim for the others), then
    ``text`` made :func:`~crosspost.logs.printable`, as one line on stdout: a tenth of
    the CPU of a rich console's line (a daemon prints one a publication). In colour only
    where :func:`~crosspost.logs.in_colour` says so, as log lines are."""
    colour = STYLE.get(status)
    shown = click.style(f"{status:>9}", fg=colour, dim=True if colour is None else None)
    line = f"{printable(prefix)}{shown} {printable(text)}"
    click.echo(line, color=in_colour(sys.stdout))


def shown_path(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def print_problems(problems: list[Problem], prefix: str = "") -> None:
    """Every problem as ``file:line:column: message`` on stderr."""
    for problem in problems:
        where = f"{shown_path(problem.file)}:{problem.line}:{problem.column}"
        echo(f"{prefix}{where}: {problem.message}", err=True)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def exit_with(code: int) -> NoReturn:
    raise SystemExit(code)
