"""What ``crosspost daemon`` tells a person: what it will do next, and what it does on Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from crosspost.loading.project import Project
from crosspost.planning.preview import next_posts
from crosspost.rendering.humanize import counted, duration
from crosspost.store.sessions import utc

__all__ = [
    "BANNER_COUNT",
    "BANNER_HORIZON",
    "BannerFirst",
    "due_now",
    "exit_code_for",
    "in_flight",
    "start_banner",
    "stopping_message",
]

log = logging.getLogger(__name__)

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


class BannerFirst:
    """Outcome lines held back until the start banner is out, so that it comes first.

    The banner works out what comes next from every entry's schedule: a second for an
    agency's 50,000 entries. The daemon command has it made (:meth:`start`) once the
    first round has handed out what is due, so nothing due waits for it; what goes out
    meanwhile is shown after it.

    Args:
        show: prints one outcome.
    """

    def __init__(self, show: Callable[[Any], None]) -> None:
        self._show = show
        self._lock = threading.Lock()
        self._held: list[Any] | None = []  # None once the banner is out

    def outcome(self, outcome: Any) -> None:
        """Show ``outcome`` now, or after the banner if that is not out yet."""
        with self._lock:
            if self._held is not None:
                self._held.append(outcome)
                return
        self._show(outcome)

    def start(self, banner: Callable[[], str], say: Callable[[str], None]) -> None:
        """Make the banner in a thread of its own, then ``say`` it and what was held."""
        threading.Thread(target=self._say, args=(banner, say), name="banner", daemon=True).start()

    def release(self, first: Callable[[], None] | None = None) -> None:
        """Run ``first`` (which prints the banner), show what was held; from now on
        outcomes are shown as they come. Only the first call does anything."""
        with self._lock:
            if self._held is None:
                return
            if first is not None:
                first()
            for outcome in self._held:
                self._show(outcome)
            self._held = None

    def _say(self, banner: Callable[[], str], say: Callable[[str], None]) -> None:
        try:
            text = banner()
        except Exception:  # the banner is a courtesy: the daemon goes on without it
            log.exception("working out the start banner failed")
            self.release()
            return
        self.release(lambda: say(text))


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
