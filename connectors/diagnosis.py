"""What ``diagnose()`` finds out about an account, and the rate-limit headers it reads.

``crosspost doctor`` asks every connector to prove, with read-only calls, that
its credentials work and may do what crosspost needs. A connector answers with
a :class:`Diagnosis`; a missing scope or right is a *problem* that names what to
grant, while what the platform does not let an app check is a *note*.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = ["Diagnosis", "RateHeadroom", "missing", "rate_headroom", "unwritable"]

#: Header families, most specific first: (limit, remaining, reset).
_FAMILIES = (
    ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"),  # Mastodon, Discord
    ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"),  # X
    ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"),  # Bluesky PDS, IETF draft
)
#: Below this share of the window left, the headroom is worth a warning.
LOW_HEADROOM = 0.1


@dataclass(frozen=True)
class RateHeadroom:
    """How many requests the platform said are left in its current window.

    Some platforms give a share of a budget instead of a count (Meta's usage headers):
    ``percent`` then says that ``remaining`` is a percentage of it, ``limit`` 100.
    """

    limit: int | None
    remaining: int
    reset_at: datetime | None = None
    percent: bool = False

    @property
    def low(self) -> bool:
        """True when less than a tenth of the window is left (or nothing at all)."""
        if self.remaining <= 0:
            return True
        return self.limit is not None and self.remaining < self.limit * LOW_HEADROOM

    def describe(self) -> str:
        """``287 of 300 requests left, window resets 12:05:00Z`` or ``73% of the budget left``."""
        reset = f", window resets {self.reset_at:%H:%M:%S}Z" if self.reset_at else ""
        if self.percent:
            return f"{self.remaining}% of the usage budget left{reset}"
        total = f" of {self.limit}" if self.limit is not None else ""
        return f"{self.remaining}{total} requests left{reset}"


@dataclass(frozen=True)
class Diagnosis:
    """The result of one account's check.

    Attributes:
        identity: who the credentials are (``@club@social.example``, a bot's name, a file).
        problems: what stops crosspost, each naming what to fix (the scope to grant).
        scopes: what the platform says the credentials may do, when it says so.
        notes: what could not be checked, and why (so a clean result is not oversold).
        rate: the rate-limit headroom from the headers of the check's own calls.
        details: other facts worth showing (server version, channel name).
    """

    identity: str
    problems: tuple[str, ...] = ()
    scopes: tuple[str, ...] | None = None
    notes: tuple[str, ...] = ()
    rate: RateHeadroom | None = None
    details: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether nothing stops crosspost from working with this account."""
        return not self.problems


def missing(granted: Iterable[str], needed: Mapping[str, str]) -> list[str]:
    """One problem per ``needed`` scope (scope → what crosspost uses it for) not ``granted``."""
    have = set(granted)
    return [
        f"the credentials lack the {scope} scope (needed to {purpose})"
        for scope, purpose in needed.items()
        if scope not in have
    ]


def _integer(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _reset(value: str | None, now: datetime) -> datetime | None:
    """An epoch, an ISO 8601 time (Mastodon) or small seconds-until-reset (IETF draft)."""
    if value is None:
        return None
    number = _integer(value)
    if number is not None:
        if number > 1_000_000_000:
            return datetime.fromtimestamp(number, UTC)
        return now + timedelta(seconds=number)
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def rate_headroom(headers: Mapping[str, str], now: datetime | None = None) -> RateHeadroom | None:
    """The headroom the first header family found says, or None when no header says it."""
    lowered = {name.lower(): value for name, value in headers.items()}
    now = now or datetime.now(UTC)
    for limit_name, remaining_name, reset_name in _FAMILIES:
        remaining = _integer(lowered.get(remaining_name))
        if remaining is not None:
            limit = _integer(lowered.get(limit_name))
            return RateHeadroom(limit, remaining, _reset(lowered.get(reset_name), now))
    return None


def unwritable(path: Path, *, folder: bool) -> list[str]:
    """Why crosspost could not write ``path`` (a folder, or a file replaced in its folder).

    Nothing is created: a missing folder is fine when its nearest existing parent
    lets this user create it, as publishing will.
    """
    if path.exists() and path.is_dir() != folder:
        return [
            f"{path} is a {'file' if folder else 'folder'}, not a {'folder' if folder else 'file'}"
        ]
    place = path if folder else path.parent
    existing = place
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return [f"{existing} is not a folder, so {place} cannot be made"]
    if not os.access(existing, os.W_OK | os.X_OK):
        return [f"this user may not write in {existing}"]
    return []
