"""``crosspost collect``: metric collection outside the daemon (thin: parse, call, print)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import Progress

from crosspost.cli.tables import print_table
from crosspost.collecting.metrics import MetricsCollector
from crosspost.collecting.metrics_report import CollectReport
from crosspost.errors import ConfigError
from crosspost.rendering.humanize import counted

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext

__all__ = ["collect"]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@click.command(epilog="Example: crosspost collect --once --json")
@click.option("--once", is_flag=True, help="Collect what is due now, then exit.")
@click.option(
    "--interval",
    default=60,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds between rounds when looping.",
)
@click.option("--json", "as_json", is_flag=True, help="Print each round as JSON.")
@click.pass_obj
def collect(app: AppContext, once: bool, interval: int, as_json: bool) -> None:
    """Collect post reactions, account figures, follower joins/leaves and mentions.

    Posts are collected on the decaying schedule of metrics.after in
    schedule.yaml (or an account's own metrics_after); accounts every
    metrics.accounts_every. Without --once, runs a
    round every --interval seconds until Ctrl-C. Exits 1 when every account
    with work failed, 2 on bad input.
    """
    project = app.project()
    every = None if once else timedelta(seconds=interval)  # a single round: nothing waits
    collector = MetricsCollector(app.store(), project, every=every)
    if once:
        report = _round(collector, as_json)
        raise SystemExit(1 if report.all_failed else 0)
    try:
        started = time.monotonic()
        while True:
            _round(collector, as_json)
            started = _wait_for_next_round(started, interval)
            _reload(app, collector)
    except KeyboardInterrupt:
        err.print("stopped")
    raise SystemExit(0)


def _wait_for_next_round(started: float, interval: int) -> float:
    """Sleep until ``interval`` seconds after the round that began at ``started``; return
    when the next one begins.

    Rounds keep a fixed rate, as the daemon's timer does: the collector lets a step wait
    for company only while a later round still falls inside its window, so a pause after
    each round (a long round plus the whole interval) could carry a step past it. A round
    longer than the interval is followed by the next one at once.
    """
    due = started + interval
    left = due - time.monotonic()
    if left > 0:
        time.sleep(left)
        return due
    return time.monotonic()


def _round(collector: MetricsCollector, as_json: bool) -> CollectReport:
    if sys.stderr.isatty():
        report = _with_progress(collector, collector.run_due)
    else:
        report = collector.run_due()
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        _print_report(report)
    return report


def _with_progress(collector: MetricsCollector, work: Callable[[], CollectReport]) -> CollectReport:
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("collecting", total=len(collector.project.accounts))

        def advance(account: str) -> None:
            progress.update(task, advance=1, description=f"collecting {account}")

        collector.on_account = advance
        try:
            return work()
        finally:
            collector.on_account = None


def _reload(app: AppContext, collector: MetricsCollector) -> None:
    """Pick up an edited schedule; a broken one keeps the last good project running."""
    try:
        project = app.project()
    except ConfigError as exc:
        problems = counted(len(exc.problems), "problem")
        err.print(f"schedule not reloaded ({problems}); keeping the last one")
        return
    project.adopt_connectors(collector.project)
    collector.project = project


_ROUND_COLUMNS = (
    "account",
    "posts",
    "thinned",
    "audience",
    "joins",
    "leaves",
    "interactions",
)


def _print_report(report: CollectReport) -> None:
    stamp = report.started_at.strftime("%Y-%m-%d %H:%M:%SZ")
    if not report.accounts:
        out.print(f"{stamp} nothing was due")
        return
    rows = []
    for o in report.accounts:
        audience = "yes" if o.account_snapshot else ""
        counts = (o.posts, o.thinned, audience, o.joins, o.leaves, o.interactions)
        rows.append([o.account, *(str(count) for count in counts)])
    out.print(f"collected at {stamp}", markup=False)
    print_table(out, _ROUND_COLUMNS, rows)
    for o in report.accounts:  # under the table, whole: a column of errors folds to bits
        if o.error:
            retry = f" (retry at {o.retry_at:%H:%M:%S}Z)" if o.retry_at is not None else ""
            out.print(f"{o.account}: {o.error}{retry}", markup=False, style="red")
