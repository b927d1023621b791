"""The Jinja sandbox with bounds: a render ends in bounded time with bounded output.

Jinja's ``SandboxedEnvironment`` stops attribute walks, not runaway work. This one
also refuses, before computing them, results that would exceed a bound (``'a' * 10**10``,
``9 ** 9 ** 9``, ``range(10**9)``, a 10**9-wide ``center``) and checks a deadline at every
hook a template cannot avoid: each loop iteration, call, attribute or item lookup and
operator. A render is bounded by :class:`RenderLimits`; the deadline lives in a context
variable, so renders in several threads of one daemon each keep their own.

A bound hit inside template code raises :class:`LimitExceeded`; :mod:`crosspost.rendering.render`
turns it, like any other runtime error, into an error naming the template file and line.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["BoundedEnvironment", "LimitExceeded", "RenderLimits", "bounded_render"]

#: The specs of a format (``%999999999d``, ``{:>999999999}``): their numbers are widths.
_FORMAT_SPEC = re.compile(r"%[-#0 +*]*\d*(?:\.\d*)?|\{[^{}]*:[^{}]*\}")
_NUMBER = re.compile(r"\d+")
_LOG2_10 = math.log2(10)


@dataclass(frozen=True)
class RenderLimits:
    """How much one render may do (see docs/limits.md, section "Templates")."""

    #: Wall-clock time one render may take.
    seconds: float = 2.0
    #: Characters of output (and of any single string or list built on the way).
    max_output: int = 1_000_000
    #: Items in one ``range(...)``.
    max_range: int = 100_000
    #: Decimal digits of an integer result (Python itself prints at most 4,300).
    max_digits: int = 4_300


class LimitExceeded(Exception):
    """A render went over one of its :class:`RenderLimits`; ``bound`` names which."""

    def __init__(self, bound: str, message: str) -> None:
        super().__init__(message)
        self.bound = bound


@dataclass
class _Budget:
    limits: RenderLimits
    deadline: float

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(
                "time", f"render took longer than {self.limits.seconds:g} s (render time bound)"
            )

    def check_output(self, size: int) -> None:
        self.tick()
        if size > self.limits.max_output:
            raise LimitExceeded(
                "output",
                f"output is over the output bound of {self.limits.max_output:,} characters",
            )


_budget: ContextVar[_Budget | None] = ContextVar("crosspost_render_budget", default=None)


@contextmanager
def bounded_render(limits: RenderLimits) -> Iterator[Callable[[int], None]]:
    """Run a render under ``limits``; yields the check of the output so far (its size)."""
    budget = _Budget(limits, time.monotonic() + limits.seconds)
    token = _budget.set(budget)
    try:
        yield budget.check_output
    finally:
        _budget.reset(token)


def _tick() -> None:
    budget = _budget.get()
    if budget is not None:
        budget.tick()


def _too_long(what: str, size: int, limit: int) -> LimitExceeded:
    return LimitExceeded(
        "output", f"{what} would be {size:,} long, over the output bound of {limit:,}"
    )


def _check_size(value: Any, limit: int) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > limit:
        raise _too_long(f"a {type(value).__name__}", len(value), limit)
    return value


class _BoundedCodeGenerator(CodeGenerator):
    """Routes every loop's iterable and every ``~`` through the bound checks.

    Jinja allows no custom nodes, so the loop's iterable is recognised when visited.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loop_iterables: set[int] = set()

    def visit_For(self, node: nodes.For, frame: Frame) -> None:  # noqa: N802 (Jinja's name)
        self._loop_iterables.add(id(node.iter))
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:  # noqa: N802
        self.write("environment.bounded_text(")
        super().visit_Concat(node, frame)
        self.write(")")

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        """Visit ``node``; a loop's iterable is wrapped in ``environment.bounded_iter``."""
        if id(node) not in self._loop_iterables:
            return super().visit(node, *args, **kwargs)
        self.write("environment.bounded_iter(")
        super().visit(node, *args, **kwargs)
        self.write(")")
        return None


class BoundedEnvironment(SandboxedEnvironment):
    """A ``SandboxedEnvironment`` whose renders stay within :class:`RenderLimits`."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, limits: RenderLimits, **options: Any) -> None:
        super().__init__(**options)
        self.limits = limits
        self.globals["range"] = self._range
        # lipsum(n) writes n paragraphs in pure Python: no use in a post, a way to spin.
        self.globals.pop("lipsum", None)
        for name in ("center", "indent", "format", "replace", "join"):
            self.filters[name] = self._bounded_filter(self.filters[name])

    # -- hooks the sandbox calls from template code ---------------------------

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Every operator ticks the clock; ``*``, ``**`` and ``%`` are sized first."""
        _tick()
        if operator == "**":
            self._check_power(left, right)
        elif operator == "*":
            self._check_product(left, right)
        elif operator == "%" and isinstance(left, str):
            self._check_format(left)
        result = self.binop_table[operator](left, right)
        return _check_size(result, self.limits.max_output)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """Every call ticks the clock; str methods that pad or repeat are sized first."""
        _tick()
        __self._check_str_method(__obj, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        return _check_size(result, __self.limits.max_output)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Attribute lookups tick the clock too."""
        _tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """Item lookups tick the clock too."""
        _tick()
        return super().getitem(obj, argument)

    # -- the checks ----------------------------------------------------------

    def _range(self, *args: int) -> range:
        _tick()
        numbers = range(*args)
        bound = self.limits.max_range
        if len(numbers) > bound:
            raise LimitExceeded(
                "range", f"range of {len(numbers):,} items is over the range bound of {bound:,}"
            )
        return numbers

    def bounded_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """What a ``{% for %}`` loops over: the clock ticks at every item."""
        for item in iterable:
            _tick()
            yield item

    def bounded_text(self, text: str) -> str:
        """The result of ``~``, sized."""
        return _check_size(text, self.limits.max_output)  # type: ignore[no-any-return]

    def _check_power(self, base: Any, exponent: Any) -> None:
        if not (isinstance(base, int) and isinstance(exponent, int)) or exponent <= 0:
            return
        if abs(base) > 1 and exponent * math.log2(abs(base)) > self.limits.max_digits * _LOG2_10:
            raise self._too_big(f"{base} ** {exponent}")

    def _check_product(self, left: Any, right: Any) -> None:
        if isinstance(left, int) and isinstance(right, str | list | tuple):
            left, right = right, left
        if isinstance(left, str | list | tuple) and isinstance(right, int):
            size = len(left) * right
            if size > self.limits.max_output:
                raise _too_long(f"{type(left).__name__} * {right}", size, self.limits.max_output)
        elif isinstance(left, int) and isinstance(right, int):
            bits = left.bit_length() + right.bit_length()
            if bits > self.limits.max_digits * _LOG2_10 + 1:
                raise self._too_big("the product")

    def _too_big(self, what: str) -> LimitExceeded:
        return LimitExceeded(
            "number", f"{what} has more than {self.limits.max_digits:,} digits (number bound)"
        )

    def _check_format(self, spec: str) -> None:
        specs = "".join(_FORMAT_SPEC.findall(spec))
        for number in _NUMBER.findall(specs):
            if len(number) > 9 or int(number) > self.limits.max_output:
                raise _too_long(f"a format width ({number})", int(number), self.limits.max_output)

    def _check_widths(self, args: Iterable[Any]) -> None:
        for value in args:
            if isinstance(value, int) and value > self.limits.max_output:
                raise _too_long("a width", value, self.limits.max_output)

    def _check_str_method(self, obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        method = getattr(obj, "__wrapped__", obj)  # str.format comes wrapped by the sandbox
        owner = getattr(method, "__self__", None)
        name = getattr(method, "__name__", "")
        if not isinstance(owner, str):
            return
        if name in ("format", "format_map"):
            self._check_format(owner)
        elif name in ("center", "ljust", "rjust", "zfill", "expandtabs"):
            self._check_widths([*args, *kwargs.values()])
        elif name == "replace" and len(args) >= 2:
            self._check_replace(owner, str(args[0]), str(args[1]))

    def _check_replace(self, text: str, old: str, new: str) -> None:
        count = text.count(old) if old else len(text) + 1
        size = len(text) + count * (len(new) - len(old))
        if size > self.limits.max_output:
            raise _too_long("the replaced text", size, self.limits.max_output)

    def _bounded_filter(self, function: Callable[..., Any]) -> Callable[..., Any]:
        passed = 1 if hasattr(function, "jinja_pass_arg") else 0  # eval context or environment

        def bounded(*args: Any, **kwargs: Any) -> Any:
            _tick()
            head, values = list(args[:passed]), list(args[passed:])
            if function.__name__ == "do_join" and values:
                values[0] = list(values[0])  # read once, measured, handed over as it is
                self._check_join(values[0], values[1:])
            elif function.__name__ == "do_format" and values:
                self._check_format(str(values[0]))
            elif function.__name__ == "do_replace" and len(values) >= 3:
                self._check_replace(str(values[0]), str(values[1]), str(values[2]))
            else:
                self._check_widths([*values[1:], *kwargs.values()])
            result = function(*head, *values, **kwargs)
            return _check_size(result, self.limits.max_output)

        bounded.__name__ = function.__name__
        if passed:
            bounded.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
        return bounded

    def _check_join(self, items: list[Any], rest: list[Any]) -> None:
        separator = len(str(rest[0])) if rest else 0
        size = sum(len(item if isinstance(item, str) else str(item)) for item in items)
        size += separator * max(len(items) - 1, 0)
        if size > self.limits.max_output:
            raise _too_long("the joined text", size, self.limits.max_output)
