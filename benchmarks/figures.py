"""One measured figure next to its baseline and target, and the table that shows them.

The benchmark functions return ``Figure`` lists (and still print their own lines);
``python -m benchmarks.bench`` gathers them into one table (benchmarks/summary.py).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Figure", "Target", "table"]

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Target:
    """``value op bound``, on the figure itself or on its ratio to the baseline."""

    op: str
    bound: float
    on_ratio: bool = False

    def __str__(self) -> str:
        bound = f"{self.bound:g}x" if self.on_ratio else f"{self.bound:g}"
        return f"{self.op} {bound}"


@dataclass(frozen=True)
class Figure:
    """A measured figure, its unit, and what it is compared with (either may be missing)."""

    name: str
    value: float
    unit: str = ""
    baseline: float | None = None
    target: Target | None = None

    @property
    def ratio(self) -> float | None:
        """The figure over its baseline (None without a usable baseline)."""
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        """Whether the target holds (None when there is no target or no ratio to judge)."""
        if self.target is None:
            return None
        judged = self.ratio if self.target.on_ratio else self.value
        if judged is None:
            return None
        return _COMPARE[self.target.op](judged, self.target.bound)


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{shown} {unit}".strip()


def table(figures: Sequence[Figure]) -> str:
    """A Markdown table: figure | crosspost | baseline | ratio | target | met?"""
    lines = [
        "| figure | crosspost | baseline | ratio | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    verdict = {True: "yes", False: "NO", None: "–"}
    for figure in figures:
        ratio = figure.ratio
        target = "–" if figure.target is None else str(figure.target)
        if figure.target is not None and not figure.target.on_ratio and figure.unit:
            target = f"{target} {figure.unit}"
        lines.append(
            f"| {figure.name} | {_number(figure.value, figure.unit)} | "
            f"{_number(figure.baseline, figure.unit)} | "
            f"{'–' if ratio is None else f'{ratio:.2f}x'} | {target} | {verdict[figure.met]} |"
        )
    return "\n".join(lines)
