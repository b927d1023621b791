"""The options of ``crosspost report``, turned into a :class:`ReportQuery`.

The period (``--since``, ``--until``) is read in the schedule's timezone, and
``--account``/``--platform`` are checked against the project's accounts; a mistake is
refused as a bad parameter (exit 2) with the closest known name.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import datetime

import click

from connectors.base import Capability
from crosspost.loading.project import Project
from crosspost.reporting.posting_times import MIN_POSTS_PER_SLOT
from crosspost.reporting.report_figures import ReportQuery
from crosspost.reporting.report_period import parse_since, parse_until

__all__ = ["report_query", "split_values"]


def split_values(values: Sequence[str]) -> list[str]:
    """The values of a repeatable option, each also split at commas (``--account a,b``)."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _chosen(wanted: list[str], known: Sequence[str], option: str) -> list[str]:
    for name in wanted:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            raise click.BadParameter(
                f'unknown {option[2:]} "{name}" (expected one of: {", ".join(known)}){hint}',
                param_hint=option,
            )
    return wanted


def report_query(
    project: Project,
    since: str,
    until: str | None,
    accounts: Sequence[str],
    platforms: Sequence[str],
    now: datetime,
    min_posts: int,
    min_slot_posts: int = MIN_POSTS_PER_SLOT,
) -> ReportQuery:
    """The period and accounts of a report, from the command's options.

    Raises:
        click.BadParameter: a bad period, an unknown account or platform (exit 2).
    """
    zone = project.schedule.timezone
    try:
        start = parse_since(since, zone, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    try:
        end = parse_until(until, zone, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--until") from None
    if end <= start:
        raise click.BadParameter("the period is empty: --until must be after --since")
    every = {name: account.platform for name, account in project.accounts.items()}
    names = _chosen(split_values(accounts), sorted(every), "--account") or sorted(every)
    kinds = _chosen(split_values(platforms), sorted(set(every.values())), "--platform")
    chosen = {n: every[n] for n in names if not kinds or every[n] in kinds}
    exact = frozenset(
        n
        for n in chosen
        if Capability.FOLLOWER_LIST in project.accounts[n].connector_cls.capabilities
    )
    titles = {key: item.title for key, item in project.content.items() if item.title}
    return ReportQuery(
        start, end, chosen, zone, exact, min_posts, titles=titles, min_slot_posts=min_slot_posts
    )
