"""``crosspost daemon``: the scheduler in the foreground, or one round of it (``--once``)."""

from __future__ import annotations

import signal
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

import click

from crosspost.cli.context import AppContext, utc_now
from crosspost.cli.output import (
    EXIT_FAILED,
    EXIT_OK,
    TROUBLE,
    echo,
    echo_status,
    err,
    exit_with,
    out,
    shown_path,
)
from crosspost.status import Status

if TYPE_CHECKING:
    from crosspost.cli.daemon_view import BannerFirst
    from crosspost.publishing.daemon import Daemon
    from crosspost.store import Store

__all__ = ["MAX_WORKERS", "daemon", "print_outcome"]

#: A bound on the threads of one process: past it, run more daemons (docs/production.md).
MAX_WORKERS = 256


@click.command(epilog="Example: crosspost daemon --once   # from cron")
@click.option("--once", is_flag=True, help="Publish what is due now, then exit.")
@click.option(
    "--tick", default="5s", show_default=True, help="How often to look for due publications."
)
@click.option(
    "--lease",
    default="10m",
    show_default=True,
    help="How long a claimed publication is held before it counts as abandoned.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, MAX_WORKERS),
    envvar="CROSSPOST_WORKERS",
    show_envvar=True,
    # the daemon's DEFAULT_WORKERS, written out: --help does not import the daemon
    help="How many accounts may publish at the same moment [default: 8]. Each waits on "
    "its own platform's answers: many accounts on slow platforms want more "
    "(docs/production.md).",
)
@click.pass_obj
def daemon(app: AppContext, once: bool, tick: str, lease: str, workers: int | None) -> None:
    """Run the scheduler: publish on time, re-read the schedule when it changes.

    SIGTERM or SIGINT (Ctrl-C) stops it cleanly: the publication in flight is
    finished and recorded; exits 0 after SIGTERM, 130 after Ctrl-C. With --once,
    exits 1 if any publication failed.
    """
    from crosspost.loading.durations import parse_duration
    from crosspost.publishing.daemon import Daemon
    from crosspost.publishing.dispatch import DEFAULT_WORKERS

    try:
        tick_every, lease_for = parse_duration(tick), parse_duration(lease)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    from crosspost.cli.daemon_view import BannerFirst

    project = app.project(keep=True)  # bad input: exit 2 before the database is opened
    store = app.store()
    lines = BannerFirst(print_outcome)
    runner = Daemon(
        app.schedule,
        store,
        on_outcome=lines.outcome,
        tick=tick_every,
        lease=lease_for,
        project=project,
        workers=workers or DEFAULT_WORKERS,
    )
    if once:
        lines.release()  # no banner
        _run_once(runner, store)
    _run_forever(runner, store, shown_path(str(app.schedule)), lines)


def _run_once(runner: Daemon, store: Store) -> NoReturn:
    """``--once``: publish what is due, say what waits, exit 1 on any failure or wait."""
    outcomes = runner.run_once()
    waiting = _report_waiting(store, runner.publisher.held)
    if not outcomes and not waiting:
        out.print("nothing is due")
    trouble = any(o.status in TROUBLE for o in outcomes)
    exit_with(EXIT_FAILED if trouble or waiting else EXIT_OK)


def _run_forever(runner: Daemon, store: Store, schedule: str, lines: BannerFirst) -> NoReturn:
    """Say what comes next (as the first round goes), run until a signal, say what a stop
    is doing; exit 0 or 130."""
    from crosspost.cli.daemon_view import (
        due_now,
        exit_code_for,
        in_flight,
        start_banner,
        stopping_message,
    )
    from crosspost.collecting.inbox_streams import streaming

    def tell(signum: int) -> None:
        out.print(stopping_message(signum, in_flight(store, runner.publisher.worker_id)))

    runner.on_signal = tell
    overdue = _planned_ahead(runner, store, due_now)
    streamed = sorted(streaming(runner.project)) if runner.collect_every is not None else []
    project, now = runner.project, utc_now()
    # once what is due is handed out: worked out beside the first posts, the banner (a
    # second for 50,000 entries) held them back by 0.3-0.5 s
    runner.after_first_dispatch = lambda: lines.start(
        lambda: start_banner(project, schedule, now, overdue, streamed),
        lambda banner: out.print(banner, markup=False),
    )
    try:
        runner.run_forever()
    finally:
        lines.release()  # stopped before the banner was made: the outcomes all the same
    exit_with(exit_code_for(runner.received))


def _planned_ahead(runner: Any, store: Store, count: Callable[[Store, datetime], int]) -> int:
    """Write the plan ahead now, as the first round would, and count what is due at once
    (missed while the daemon was not running, still inside its grace). 0 if the plan
    cannot be written now: the first round tries again and logs why.

    Ctrl-C here (a large plan takes a moment) stops as it does later, exit 130: the
    signal handlers are not installed yet, and the plan's transaction is rolled back.
    """
    try:
        runner.resume()
    except KeyboardInterrupt:
        out.print("Ctrl-C: stopped before the first round; nothing was sent", markup=False)
        raise SystemExit(128 + signal.SIGINT) from None
    except Exception:  # the first round tries again and logs it, with the timer running
        return 0
    return count(store, utc_now())


def _report_waiting(store: Store, held: dict[str, str]) -> list[Any]:
    """Say which due publications did not go out in this run, and when they are tried again."""
    from crosspost.planning.pending import due_not_sent

    waiting = due_not_sent(store, utc_now(), held)
    for item in waiting:
        err.print(item.describe(), markup=False)
    return waiting


def print_outcome(outcome: Any) -> None:
    """One publication's line: the time, its status, entry, account and URL, and the
    error below it when it did not go out."""
    stamp = datetime.now().astimezone().strftime("%H:%M:%S")
    where = f"{outcome.entry} → {outcome.account} {outcome.url or ''}"
    echo_status(outcome.status, where, prefix=f"{stamp} ")
    if outcome.error and outcome.status != Status.PUBLISHED:
        echo(f"          {outcome.error}")
