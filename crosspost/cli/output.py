"""What every command prints with: the consoles, status styles, exit codes, JSON and problems.

Exit codes, for every command: 0 all is well, 1 some publications failed (or
are unknown or missed), 2 bad input or configuration.
"""

from __future__ import annotations

import json
import os
from typing import Any, NoReturn

import click
from rich.console import Console

from crosspost.errors import Problem
from crosspost.status import Status

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_OK",
    "STYLE",
    "TROUBLE",
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

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def shown_path(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def print_problems(problems: list[Problem], prefix: str = "") -> None:
    """Every problem as ``file:line:column: message`` on stderr."""
    for problem in problems:
        where = f"{shown_path(problem.file)}:{problem.line}:{problem.column}"
        err.print(
            f"{prefix}{where}: {problem.message}",
            markup=False,
            emoji=False,  # line 100 is ":100:", which rich would print as an emoji
        )


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def exit_with(code: int) -> NoReturn:
    raise SystemExit(code)
