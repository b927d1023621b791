"""Sending a newsletter's messages one recipient at a time, each step recorded as it goes.

A round sends to at most ``limit`` recipients over one SMTP session. Each
recipient is marked STARTED (durably) just before the final line of its message,
then DONE, REFUSED, DEFERRED or UNCERTAIN by what the server answered; the
outcome of a failure is read with the same rule as an HTTP request's
(:func:`connectors.http.error_class` with ``Kind.PUBLISHING_WRITE``: SMTP has no
idempotency key). A recipient found STARTED when a round begins was being sent
when its process died: it is UNCERTAIN (at most once), never sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from connectors.base import AuthError, Rejected
from connectors.email.addresses import Recipient
from connectors.email.message import Letter, render_message
from connectors.email.smtp import Relay, SmtpFailure, Transaction
from connectors.http import Kind, error_class
from connectors.progress import Progress, Step, StepState

__all__ = ["INTERRUPTED", "Round", "Tally", "settle_interrupted"]

#: What an interrupted recipient is told as, in the store and in the summary.
INTERRUPTED = "the sender stopped while the server was taking it: it may have arrived"
#: Summaries list this many addresses of each kind, then count the rest.
_LISTED = 3


def settle_interrupted(progress: Progress) -> dict[str, Step]:
    """Mark every STARTED recipient (its process died mid-send) UNCERTAIN; the steps after."""
    steps = progress.steps()
    for name, step in steps.items():
        if step.state is StepState.STARTED:
            progress.record(name, StepState.UNCERTAIN, INTERRUPTED)
            steps[name] = Step(StepState.UNCERTAIN, INTERRUPTED)
    return steps


@dataclass
class Tally:
    """Where each recipient of the list stands."""

    total: int
    done: int = 0
    refused: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)
    pending: int = 0

    @classmethod
    def of(cls, recipients: Sequence[Recipient], steps: dict[str, Step]) -> Tally:
        """Count ``recipients`` by their recorded steps (addresses no longer listed are not)."""
        tally = cls(total=len(recipients))
        for recipient in recipients:
            step = steps.get(recipient.key)
            if step is None or step.state is StepState.STARTED:
                tally.pending += 1
            elif step.state is StepState.DONE:
                tally.done += 1
            else:
                shown = f"{recipient.address} ({step.detail})" if step.detail else recipient.address
                {
                    StepState.REFUSED: tally.refused,
                    StepState.DEFERRED: tally.deferred,
                    StepState.UNCERTAIN: tally.uncertain,
                }[step.state].append(shown)
        return tally

    def summary(self) -> str:
        """``sent to 2 of 3, 1 refused: c@example.org (550 5.1.1 no such user)``."""
        text = f"sent to {self.done} of {self.total}"
        for word, listed in (
            ("refused", self.refused),
            ("deferred", self.deferred),
            ("uncertain", self.uncertain),
        ):
            if listed:
                shown = "; ".join(listed[:_LISTED])
                more = f"; {len(listed) - _LISTED} more" if len(listed) > _LISTED else ""
                text += f", {len(listed)} {word}: {shown}{more}"
        if self.pending:
            text += f", {self.pending} not tried yet"
        return text


@dataclass
class RoundEnd:
    """Why a round stopped early, and when it last sent (None: nothing sent)."""

    reason: str | None = None
    #: The worker lost its claim: another one may be resuming the publication.
    claim_lost: bool = False
    last_sent_at: datetime | None = None


class Round:
    """One SMTP session's worth of messages of one publication."""

    def __init__(
        self,
        relay: Callable[[], Relay],
        progress: Progress,
        letter: Letter,
        clock: Callable[[], datetime],
        log: logging.Logger,
    ) -> None:
        self.relay = relay
        self.progress = progress
        self.letter = letter
        self.clock = clock
        self.log = log

    def run(self, todo: Sequence[Recipient]) -> RoundEnd:
        """Send to each of ``todo`` in order; stop at the first failure of the session.

        Raises:
            SmtpFailure: the session could not start (nothing was sent in this round).
        """
        end = RoundEnd()
        if not todo:
            return end
        with self.relay() as relay:
            for recipient in todo:
                stop = self._send(relay, recipient, end)
                if stop is not None:
                    end.reason = stop
                    return end
        return end

    def _send(self, relay: Relay, recipient: Recipient, end: RoundEnd) -> str | None:
        """Send to one recipient and record what happened; why to stop, or None."""
        name = recipient.key

        def commit() -> bool:
            held = self.progress.record(name, StepState.STARTED)
            end.claim_lost = not held
            return held

        data = render_message(self.letter, recipient)
        transaction = Transaction(self.letter.from_address, recipient.address, data, commit)
        try:
            accepted = relay.send(transaction)
        except SmtpFailure as failure:
            end.last_sent_at = self.clock()
            return self._failed(recipient, failure, end)
        end.last_sent_at = self.clock()
        self.log.debug("sent to %s: %s", recipient.address, accepted)
        if not self.progress.record(name, StepState.DONE, accepted):
            end.claim_lost = True
            return "the claim on the publication was lost"
        return None

    def _failed(self, recipient: Recipient, failure: SmtpFailure, end: RoundEnd) -> str | None:
        if end.claim_lost:
            return "the claim on the publication was lost"
        verdict = failure.verdict
        cls = error_class(verdict.outcome, Kind.PUBLISHING_WRITE)
        if issubclass(cls, AuthError):
            return verdict.message
        if issubclass(cls, Rejected):
            state = StepState.REFUSED
        elif cls.retryable and verdict.status is not None:  # the server said "not now"
            state = StepState.DEFERRED
        elif cls.retryable:  # nothing reached the server: not even worth a record
            return verdict.message
        else:
            state = StepState.UNCERTAIN
        self.log.info("%s: %s (%s)", recipient.address, state.value, verdict.message)
        if not self.progress.record(recipient.key, state, verdict.message):
            end.claim_lost = True
            return "the claim on the publication was lost"
        return verdict.message if failure.closed else None
