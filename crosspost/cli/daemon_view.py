"""What ``crosspost daemon`` tells a person: what it will do next, and what it does on Ctrl-C."""

from __future__ import annotations

import signal
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from crosspost.loading.project import Project
from crosspost.planning.preview import next_posts
from crosspost.rendering.humanize import counted, duration
from crosspost.store.sessions import utc

__all__ = [
    "BANNER_COUNT",
    "BANNER_HORIZON",
    "due_now",
    "exit_code_for",
    "in_flight",
    "start_banner",
    "stopping_message",
]

#: How far ahead the start banner counts planned posts.
BANNER_HORIZON = timedelta(days=7)
#: The banner counts up to this many (then says "10,000+"): counting an agency's week
#: of posts would hold up the first round for seconds.
BANNER_COUNT = 10_000


def start_banner(
    project: Project,
    schedule: str,
    now: datetime,
    due_now: int = 0,
    streamed: Sequence[str] = (),
) -> str:
    """``crosspost daemon: …; next post: 18:00 Europe/Kyiv (in 3 h), 12 planned in 7 d``.

    ``due_now``: publications already due (missed while it was not running, still inside
    their grace), which go out first: ``3 due now, then next post: …``. ``streamed``: the
    accounts whose notification stream it listens to. Nothing is rendered and no
    platform is asked; the count covers :data:`BANNER_HORIZON`, up to :data:`BANNER_COUNT`.
    """
    first, total = next_posts(project, now, now + BANNER_HORIZON, BANNER_COUNT)
    span = duration(BANNER_HORIZON)
    if first is None:
        upcoming = f"nothing planned in the next {span}"
    else:
        soon = first.due_at - now < timedelta(days=1)
        when = f"{first.local:%H:%M}" if soon else f"{first.local:%Y-%m-%d %H:%M}"
        upcoming = (
            f"next post: {when} {first.zone} (in {duration(first.due_at - now)}), "
            f"{min(total, BANNER_COUNT):,}{'+' if total > BANNER_COUNT else ''} planned in {span}"
        )
    if due_now:
        upcoming = f"{due_now:,} due now, then {upcoming}" if first else f"{due_now:,} due now"
    watched = sum(feed.enabled for feed in project.feeds)
    if watched:
        upcoming += f"; {watched} feed{'s' if watched > 1 else ''} watched"
    if streamed:
        whose = streamed[0] if len(streamed) == 1 else counted(len(streamed), "account")
        upcoming += f"; mentions of {whose} read as they come"
    return f"crosspost daemon: {schedule}; {upcoming}; Ctrl-C to stop"


def due_now(store: Any, now: datetime) -> int:
    """How many planned publications are due at ``now`` with their grace not run out."""
    return sum(1 for row in store.publications(["planned"], until=now) if utc(row.expires_at) > now)


def stopping_message(signum: int, in_flight: int) -> str:
    """What the daemon does after SIGINT or SIGTERM."""
    name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
    if in_flight:
        noun = "post" if in_flight == 1 else "posts"
        return f"{name}: finishing {in_flight} {noun} in flight, then stopping"
    return f"{name}: nothing in flight, stopping"


def exit_code_for(signum: int | None) -> int:
    """130 after Ctrl-C (128 + SIGINT, as shells expect), 0 after SIGTERM or none."""
    return 128 + signal.SIGINT if signum == signal.SIGINT else 0


def in_flight(store: Any, worker: str) -> int:
    """How many publications ``worker`` holds in ``publishing`` right now."""
    return sum(1 for row in store.publications(["publishing"]) if row.claimed_by == worker)
