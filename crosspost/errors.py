"""The errors of the core, and the exit code each one gives the CLI.

::

    CrosspostError               exit 1: something failed at run time
    ├── FeedError                a feed could not be fetched or read (publishing.feeds_fetch)
    └── ConfigError              exit 2: bad input (schedule, content, templates, accounts)
        └── RenderError          a template failed at its file:line (syntax, runtime, …)
            └── RenderLimitError     … by going over a render bound (time, output, …)

Connector errors have their own tree in :mod:`connectors.base`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

__all__ = [
    "ConfigError",
    "CrosspostError",
    "FeedError",
    "Problem",
    "RenderError",
    "RenderLimitError",
]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in one input file, with where it is."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"

    @classmethod
    def at(cls, file: Path | str, line: int, column: int, message: str) -> Problem:
        """A problem at a 1-based line and column of ``file``."""
        return cls(str(file), max(line, 1), max(column, 1), message)


class CrosspostError(Exception):
    """A failure the user should read about; the CLI prints it without a traceback."""

    exit_code: ClassVar[int] = 1


class FeedError(CrosspostError):
    """A feed could not be fetched or read; the message names it and says why."""


class ConfigError(CrosspostError):
    """The input files are wrong; ``problems`` lists every reason found."""

    exit_code: ClassVar[int] = 2

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class RenderError(ConfigError):
    """A template failed; ``problem`` says where (template file and line) and why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__([problem])
        self.problem = problem


class RenderLimitError(RenderError):
    """A render went over a bound; ``bound`` names it (time, output, range, number)."""

    def __init__(self, problem: Problem, bound: str) -> None:
        super().__init__(problem)
        self.bound = bound
