"""Where a template failed at render time, and what to say about it.

Jinja rewrites the traceback of an error raised by template code so that each frame
of compiled template code becomes a frame of the template file at its source line
(``jinja2.debug.rewrite_traceback_stack``). The innermost such frame is where the
template failed, even when that is in an included, imported or extended template.
Jinja keeps no columns at run time: the column is that of the failing name or
operator on the line when it can be found there, else of the line's first tag.

Imported when a template fails: a render that succeeds never needs it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError
from jinja2.runtime import Undefined
from jinja2.utils import missing

from crosspost.errors import Problem, RenderError, RenderLimitError
from crosspost.rendering.sandbox import LimitExceeded
from crosspost.rendering.undefined import UndefinedNameError

__all__ = [
    "JINJA_STRING_NAME",
    "TemplateFrame",
    "innermost_frame",
    "read_source",
    "runtime_error",
    "suspended_at",
]

#: The file name Jinja gives templates that came from a string (our built-in default).
JINJA_STRING_NAME = "<template>"
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")
_CALLED = re.compile(r"(\w+)\(\)")
#: What to look for on the failing line, by the kind of error.
_NEEDLES: dict[str, list[str]] = {
    "ZeroDivisionError": ["//", "/", "%"],
    "range": ["range"],
    "number": ["**", "*"],
    "output": ["*", "~", "join", "center", "format", "replace", "%"],
    "time": ["for", "range"],
}


@dataclass(frozen=True)
class TemplateFrame:
    """A place in a template: its file (as Jinja names it), line, and the variables there."""

    filename: str
    line: int
    variables: Mapping[str, Any]


def innermost_frame(tb: TracebackType | None) -> TemplateFrame | None:
    """The last frame of ``tb`` that Jinja rewrote to point into a template."""
    found = None
    while tb is not None:
        frame = tb.tb_frame
        if "__jinja_exception__" in frame.f_globals:  # set by jinja2.debug.fake_traceback
            found = TemplateFrame(frame.f_code.co_filename, tb.tb_lineno, dict(frame.f_locals))
        tb = tb.tb_next
    return found


def suspended_at(stream: Any) -> TemplateFrame | None:
    """The template line a suspended render stopped at: its innermost template generator."""
    found = None
    generator: Any = stream
    while generator is not None and hasattr(generator, "gi_frame"):
        frame = generator.gi_frame
        template = frame.f_globals.get("__jinja_template__") if frame else None
        if frame is not None and template is not None:
            line = template.get_corresponding_lineno(frame.f_lineno)
            found = TemplateFrame(template.filename or JINJA_STRING_NAME, line, {})
        generator = generator.gi_yieldfrom
    return found


def runtime_error(
    exc: BaseException,
    where: TemplateFrame,
    source: str | None,
    shown: str,
    names: Iterable[str],
) -> RenderError:
    """The error to report for ``exc`` raised while rendering, at ``where``.

    Args:
        exc: what the template code raised.
        where: the template frame it was raised in.
        source: that template's text, to find the column (``None`` if unreadable).
        shown: the template's file as the user should read it.
        names: every variable the template could use there, for a did-you-mean.
    """
    if isinstance(exc, TemplateSyntaxError):  # an include or import of a broken template
        problem = Problem.at(shown, exc.lineno, 1, f"template syntax: {exc.message}")
        return RenderError(problem)
    message, needles = _describe(exc, [*names, *where.variables])
    line_text = _line(source, where.line)
    problem = Problem.at(shown, where.line, _column(line_text, needles), message)
    if isinstance(exc, LimitExceeded):
        return RenderLimitError(problem, exc.bound)
    return RenderError(problem)


def _describe(exc: BaseException, names: list[str]) -> tuple[str, list[str]]:
    if isinstance(exc, LimitExceeded):
        return f"template: {exc}", _NEEDLES.get(exc.bound, [])
    if isinstance(exc, UndefinedNameError):
        name = str(exc.undefined._undefined_name)
        return f"template: {exc}{_hint(name, _choices(exc.undefined, names))}", [name]
    if isinstance(exc, TemplateError):
        return f"template: {exc}", []
    if isinstance(exc, RecursionError):
        return "template: calls itself too deeply (a macro that never stops?)", []
    needles = _NEEDLES.get(type(exc).__name__, []) + _CALLED.findall(str(exc))
    if isinstance(exc, TypeError) and "format" in str(exc):
        needles.append("%")
    return f"template: {exc} ({type(exc).__name__})", needles


def _choices(undefined: Undefined, names: list[str]) -> list[str]:
    owner = undefined._undefined_obj
    if owner is missing:
        return names
    if isinstance(owner, Mapping):
        return [str(key) for key in owner]
    return [name for name in dir(owner) if not name.startswith("_")]


def _hint(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(set(choices) - {name}), n=1)
    return f'; did you mean "{close[0]}"?' if close else ""


def _line(source: str | None, line: int) -> str:
    lines = (source or "").splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _column(text: str, needles: list[str]) -> int:
    """1-based column of the first needle inside a tag of ``text``, else of the first tag."""
    tags = list(_TAG.finditer(text))
    for needle in needles:
        pattern = rf"\b{re.escape(needle)}\b" if needle.isidentifier() else re.escape(needle)
        for tag in tags:
            found = re.search(pattern, tag.group())
            if found:
                return tag.start() + found.start() + 1
    return tags[0].start() + 1 if tags else 1


def read_source(filename: str, builtin: str) -> str | None:
    """The text of the template Jinja calls ``filename`` (``builtin`` for the string one)."""
    if filename == JINJA_STRING_NAME:
        return builtin
    try:
        return Path(filename).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
