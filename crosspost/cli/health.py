"""``crosspost health``: is the daemon alive? For container healthchecks and monitors.

Exits 0 when a daemon that did not stop beat at most ``--max-age`` ago, 1 when none did
(a daemon stopped cleanly counts as not running at once; one that died, once its last
heartbeat is older than ``--max-age``), 2 on bad input (an unreadable duration, no database).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import click

from crosspost.loading.durations import parse_duration
from crosspost.rendering.humanize import duration

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext

__all__ = [
    "DEFAULT_MAX_AGE",
    "DaemonHealth",
    "Heartbeats",
    "daemon_health",
    "daemons_health",
    "health",
    "health_json",
]

#: The daemon beats every tick (5 s by default) and after each round of publishing.
DEFAULT_MAX_AGE = "2m"


@dataclass(frozen=True)
class DaemonHealth:
    """The heartbeat judged by, how old it is, and whether that is recent enough."""

    alive_at: datetime | None
    age: timedelta | None
    max_age: timedelta
    #: When the daemon of that heartbeat stopped cleanly; None while it runs, or if it died.
    stopped_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.stopped_at is None and self.age is not None and self.age <= self.max_age

    def describe(self) -> str:
        """One line: ``daemon alive (…)``, ``daemon stopped (…)``, ``daemon not running
        (last seen …)`` or never ran."""
        if self.alive_at is None or self.age is None:
            return "daemon never ran against this database"
        seen = f"{self.alive_at:%Y-%m-%d %H:%M:%S}Z, {duration(self.age)} ago"
        if self.stopped_at is not None:
            return f"daemon stopped ({seen})"
        if self.ok:
            return f"daemon alive (last seen {seen})"
        return f"daemon not running (last seen {seen})"


class Beat(Protocol):
    """One daemon's heartbeat."""

    @property
    def alive_at(self) -> datetime: ...

    @property
    def stopped_at(self) -> datetime | None: ...


class Heartbeats(Protocol):
    """Where heartbeats are read: the store, or ``status``'s reader of a SQLite file."""

    def last_heartbeat(self, *, running: bool = False) -> Beat | None: ...


def daemon_health(
    alive_at: datetime | None,
    now: datetime,
    max_age: timedelta,
    *,
    stopped_at: datetime | None = None,
) -> DaemonHealth:
    """The health of a daemon last seen at ``alive_at`` (None: never)."""
    if alive_at is None:
        return DaemonHealth(None, None, max_age)
    alive_at = _utc(alive_at)
    stopped_at = None if stopped_at is None else _utc(stopped_at)
    return DaemonHealth(alive_at, max(now - alive_at, timedelta(0)), max_age, stopped_at)


def daemons_health(source: Heartbeats, now: datetime, max_age: timedelta) -> DaemonHealth:
    """Alive when a daemon that did not stop beat within ``max_age``; else what the newest
    heartbeat says: stopped, not running since it was last seen, or never ran."""
    running = source.last_heartbeat(running=True)
    if running is not None:
        state = daemon_health(running.alive_at, now, max_age)
        if state.ok:
            return state
    latest = source.last_heartbeat()
    if latest is None:
        return daemon_health(None, now, max_age)
    return daemon_health(latest.alive_at, now, max_age, stopped_at=latest.stopped_at)


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@click.command(epilog="Example: crosspost health --max-age 5m || systemctl restart crosspost")
@click.option(
    "--max-age",
    default=DEFAULT_MAX_AGE,
    show_default=True,
    help="How old the last heartbeat may be: a duration (90s, 5m).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def health(app: AppContext, max_age: str, as_json: bool) -> None:
    """Exit 0 when a daemon runs (alive within --max-age, not stopped), else 1 (healthchecks)."""
    try:
        limit = parse_duration(max_age)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--max-age") from None
    state = _health_of(app, datetime.now(UTC), limit)
    if as_json:
        click.echo(json.dumps(health_json(state)))
    else:
        click.echo(state.describe())
    raise SystemExit(0 if state.ok else 1)


def _health_of(app: AppContext, now: datetime, max_age: timedelta) -> DaemonHealth:
    """The daemons' health in the store; without a database file (not created here),
    no daemon ever beat."""
    from crosspost.cli.context import missing_database

    if missing_database(app) is not None:
        return daemon_health(None, now, max_age)
    return daemons_health(app.store(), now, max_age)


def health_json(state: DaemonHealth) -> dict[str, object]:
    return {
        "ok": state.ok,
        "alive_at": state.alive_at.isoformat() if state.alive_at else None,
        "stopped_at": state.stopped_at.isoformat() if state.stopped_at else None,
        "age_seconds": round(state.age.total_seconds(), 1) if state.age is not None else None,
        "max_age_seconds": state.max_age.total_seconds(),
    }
