"""``crosspost health``: is the daemon alive? For container healthchecks and monitors.

Exits 0 when the newest heartbeat in the store is at most ``--max-age`` old, 1 when
it is older or there is none, 2 on bad input (an unreadable duration, no database).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click

from crosspost.loading.durations import parse_duration
from crosspost.rendering.humanize import duration

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext

__all__ = ["DEFAULT_MAX_AGE", "DaemonHealth", "daemon_health", "health"]

#: The daemon beats every tick (5 s by default) and after each round of publishing.
DEFAULT_MAX_AGE = "2m"


@dataclass(frozen=True)
class DaemonHealth:
    """The newest heartbeat, how old it is, and whether that is recent enough."""

    alive_at: datetime | None
    age: timedelta | None
    max_age: timedelta

    @property
    def ok(self) -> bool:
        return self.age is not None and self.age <= self.max_age

    def describe(self) -> str:
        """One line: ``daemon alive (…)``, ``daemon not running (last seen …)`` or never ran."""
        if self.alive_at is None or self.age is None:
            return "daemon never ran against this database"
        seen = f"{self.alive_at:%Y-%m-%d %H:%M:%S}Z, {duration(self.age)} ago"
        if self.ok:
            return f"daemon alive (last seen {seen})"
        return f"daemon not running (last seen {seen})"


def daemon_health(alive_at: datetime | None, now: datetime, max_age: timedelta) -> DaemonHealth:
    """The health of a daemon last seen at ``alive_at`` (None: never)."""
    if alive_at is None:
        return DaemonHealth(None, None, max_age)
    alive_at = alive_at if alive_at.tzinfo else alive_at.replace(tzinfo=UTC)
    return DaemonHealth(alive_at, max(now - alive_at, timedelta(0)), max_age)


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
    """Exit 0 when the daemon was alive within --max-age, else 1 (for healthchecks)."""
    try:
        limit = parse_duration(max_age)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--max-age") from None
    beat = app.store().last_heartbeat()
    state = daemon_health(beat.alive_at if beat else None, datetime.now(UTC), limit)
    if as_json:
        click.echo(json.dumps(_as_json(state)))
    else:
        click.echo(state.describe())
    raise SystemExit(0 if state.ok else 1)


def _as_json(state: DaemonHealth) -> dict[str, object]:
    return {
        "ok": state.ok,
        "alive_at": state.alive_at.isoformat() if state.alive_at else None,
        "age_seconds": round(state.age.total_seconds(), 1) if state.age is not None else None,
        "max_age_seconds": state.max_age.total_seconds(),
    }
