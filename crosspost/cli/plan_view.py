"""What ``crosspost plan`` prints, and the names its filters accept."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from datetime import datetime

import click
from rich.console import Console

from crosspost.cli.tables import print_table
from crosspost.loading.project import Project
from crosspost.planning.preview import PlannedPost
from crosspost.planning.upcoming import PlanFilter

__all__ = ["check_names", "plan_filter", "print_plan", "summary"]

#: A people's table narrower than this leaves out the UTC column.
_UTC_FROM_WIDTH = 100


def check_names(option: str, given: Iterable[str], known: Iterable[str]) -> frozenset[str]:
    """``given`` as a set, each a known name.

    Raises:
        click.BadParameter: an unknown name (exit 2), naming the option, with a did-you-mean.
    """
    names, choices = frozenset(given), sorted(set(known))
    for name in sorted(names):
        if name not in choices:
            close = difflib.get_close_matches(name, choices, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(choices)}"
            raise click.BadParameter(f"no {option[2:]} named {name!r}; {hint}", param_hint=option)
    return names


def plan_filter(
    project: Project, entries: Sequence[str], accounts: Sequence[str], contents: Sequence[str]
) -> PlanFilter:
    """The filter of ``--entry``/``--account``/``--content``, every name checked."""
    posts = project.schedule.posts
    return PlanFilter(
        check_names(
            "--entry", entries, [*(p.id for p in posts), *(f.entry for f in project.feeds)]
        ),
        check_names("--account", accounts, project.accounts),
        check_names("--content", contents, (p.content for p in posts)),
    )


def summary(shown: int, total: int, until: str) -> str:
    """``12 publications in the next 7d``, ``first 200 of 30,412 publications in the next
    7d`` or ``nothing planned in the next 7d``."""
    if total > shown:
        return f"first {shown:,} of {total:,} publications in the next {until} (see --limit)"
    if total == 0:
        return f"nothing planned in the next {until}"
    return f"{total:,} publication{'' if total == 1 else 's'} in the next {until}"


def print_plan(console: Console, posts: Sequence[PlannedPost], verbose: bool, fmt: str) -> None:
    """The plan as a table: local time, UTC, entry, account, content, length (and text);
    a "why" column when a queue chose items or something awaits approval.

    For people, times in one zone are headed by the zone instead of repeating it in every
    row, and below 100 columns the UTC column is left out (``--format tsv`` and ``--json``
    always have both): at 80 columns a time no longer folds over four lines.
    """
    for_people = fmt != "tsv"
    if for_people and not posts:
        return  # the summary line says there is nothing: no frame of an empty table
    zones = {post.zone for post in posts}
    zone = next(iter(zones)) if for_people and len(zones) == 1 else None
    with_utc = not for_people or console.width >= _UTC_FROM_WIDTH
    why = any(post.note for post in posts)
    units = {post.unit for post in posts}
    unit = next(iter(units)) if for_people and len(units) == 1 else None  # said once
    columns = [zone or "local time", *(["UTC"] if with_utc else [])]
    measured = f"length ({unit})" if unit else "length"
    columns += ["entry", "account", "content", measured]
    columns += ["why"] if why else []
    columns += ["text"] if verbose else []
    rows = [_cells(post, verbose, why, zone is not None, with_utc, unit) for post in posts]
    print_table(console, columns, rows, fmt, wide=("text",) if verbose else (measured,))


def _cells(
    post: PlannedPost,
    verbose: bool,
    why: bool,
    zoned: bool,
    with_utc: bool,
    unit: str | None = None,
) -> list[str]:
    """A row; ``unit``: the unit every row counts in, named in the header instead."""
    local = datetime.fromisoformat(post.local)
    length = " + ".join(str(n) for n in post.lengths) or "-"
    measured = f"{length}/{post.limit}" + ("" if unit else f" {post.unit}")
    if len(post.parts) > 1:
        measured += f" ({len(post.parts)} parts)"
    if post.problems:
        measured += "  " + "; ".join(post.problems)
    when = (
        f"{local:%Y-%m-%d %H:%M}"
        if zoned
        else f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({post.zone})"
    )
    cells = [when]
    cells += [f"{datetime.fromisoformat(post.due_at):%Y-%m-%d %H:%M}Z"] if with_utc else []
    cells += [post.entry, post.account, post.content, measured]
    cells += [post.note] if why else []
    return cells + (["\n— — —\n".join(post.parts)] if verbose else [])
