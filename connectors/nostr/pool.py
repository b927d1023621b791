"""The account's relays together: one event sent to all, one query asked of all.

Relays are asked in parallel, each with its own bounded timeout. What one relay
says never decides alone: a publication needs ``min_relays`` acceptances, and a
read is good when at least one relay answered (events de-duplicated by id).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from connectors.http import Kind, Outcome, Verdict
from connectors.nostr.events import Event
from connectors.nostr.keys import Keys
from connectors.nostr.relay import Accepted, Filter, RelayClient, RelayFailure

__all__ = ["Delivery", "Gathered", "RelayPool", "deciding_verdict"]

_T = TypeVar("_T")

#: Failures that another try may overcome, the most uncertain first: a lost answer
#: may mean the relay has the event, so it outranks the certain ones.
_RETRYABLE = (
    Outcome.ANSWER_LOST,
    Outcome.RATE_LIMITED,
    Outcome.PLATFORM_FAILED,
    Outcome.NOT_SENT,
)
#: Failures a person has to look at, credentials first.
_PERMANENT = (Outcome.AUTH, Outcome.REJECTED)


@dataclass(frozen=True)
class Delivery:
    """What every relay said to one event."""

    accepted: tuple[Accepted, ...]
    failures: tuple[RelayFailure, ...]

    def report(self) -> dict[str, str]:
        """Per relay: ``accepted``, ``duplicate`` or the reason it failed (kept in extra)."""
        said = {a.relay: "duplicate" if a.duplicate else "accepted" for a in self.accepted}
        said.update({f.relay: f"failed: {f.verdict.message}" for f in self.failures})
        return said


@dataclass
class Gathered:
    """Events from the relays that answered a query, each once, and those that did not."""

    events: dict[str, Event] = field(default_factory=dict)
    #: Relays that answered, per event id: how widely an event is known.
    seen_on: dict[str, set[str]] = field(default_factory=dict)
    failures: list[RelayFailure] = field(default_factory=list)


def deciding_verdict(failures: Sequence[RelayFailure], accepted: int, needed: int) -> Verdict:
    """The one verdict for a request that fewer than ``needed`` relays carried out.

    While the relays that may still come round could make up the number, the
    verdict is the most uncertain of theirs (another try may do it); otherwise it
    is the refusal that stands in the way, credentials first.
    """
    by_outcome = {f.verdict.outcome: f.verdict for f in reversed(failures)}
    retryable = sum(1 for f in failures if f.verdict.outcome in _RETRYABLE)
    order = _RETRYABLE if accepted + retryable >= needed else _PERMANENT
    chosen = next(by_outcome[o] for o in (*order, *_RETRYABLE, *_PERMANENT) if o in by_outcome)
    reasons = "; ".join(f.verdict.message for f in failures)
    summary = f"{accepted} of {accepted + len(failures)} relays took it, {needed} needed: {reasons}"
    return Verdict(chosen.outcome, summary, chosen.status, chosen.retry_after, chosen.retry_at)


class RelayPool:
    """The relays of one account.

    Args:
        urls: the relays, in the order the account lists them.
        keys: the account's keys (NIP-42 AUTH).
        timeout: seconds for each relay to connect, then for each of its answers.
    """

    def __init__(self, urls: Sequence[str], keys: Keys, timeout: float) -> None:
        self.clients = [RelayClient(url, keys, timeout) for url in urls]

    def publish(self, event: Event, kind: Kind) -> Delivery:
        """Send ``event`` to every relay at once; what each said."""
        results = self._each(lambda client: client.publish(event, kind))
        accepted = tuple(r for r in results if isinstance(r, Accepted))
        failures = tuple(r for r in results if isinstance(r, RelayFailure))
        return Delivery(accepted, failures)

    def query(self, filters: Sequence[Filter]) -> Gathered:
        """Ask every relay; the union of what they hold.

        Raises:
            RelayFailure: no relay answered (the verdict of :func:`deciding_verdict`).
        """
        gathered = Gathered()
        for result in self._each(lambda client: (client.url, client.query(filters))):
            if isinstance(result, RelayFailure):
                gathered.failures.append(result)
                continue
            relay, events = result
            for event in events:
                gathered.events.setdefault(event["id"], event)
                gathered.seen_on.setdefault(event["id"], set()).add(relay)
        if len(gathered.failures) == len(self.clients):
            failures = gathered.failures
            raise RelayFailure("relays", deciding_verdict(failures, accepted=0, needed=1))
        return gathered

    def _each(self, call: Callable[[RelayClient], _T]) -> list[_T | RelayFailure]:
        def guarded(client: RelayClient) -> _T | RelayFailure:
            try:
                return call(client)
            except RelayFailure as failure:
                return failure

        with ThreadPoolExecutor(max_workers=len(self.clients)) as pool:
            return list(pool.map(guarded, self.clients))
