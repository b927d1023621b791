"""Publications sent in steps, each step recorded in the store before and after it goes.

Some publications are many sends, not one: a newsletter is one message per
recipient, and a crash in the middle must neither send the first half again
nor forget the second. A connector that declares ``Capability.RESUMABLE``
implements :class:`Resumable`; the core then hands it a :class:`Progress`
kept in the store with the publication, and treats a publication interrupted
by a crash as safe to send again: the connector skips every step recorded as
anything but deferred.

The states of one step (a connector names its steps, e.g. by recipient)::

    (none)     never tried: send it
    STARTED    about to take effect (an SMTP end-of-data is being sent); if the
               process dies here, nobody knows whether it went out
    DONE       the platform accepted it
    REFUSED    the platform refused it for good; never tried again
    DEFERRED   the platform said "not now" (SMTP 4xx); tried again next time
    UNCERTAIN  it may or may not have gone out (a STARTED found after a crash, an
               answer lost): never sent again, shown to the user

A step is marked STARTED only where the platform could act on it; a crash before
that leaves no mark, and the step is simply sent next time.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from connectors.base import Published, RenderedPost

__all__ = ["MemoryProgress", "Progress", "Resumable", "Step", "StepState"]


class StepState(enum.StrEnum):
    """What is known about one step of a publication (see the module docstring)."""

    STARTED = "started"
    DONE = "done"
    REFUSED = "refused"
    DEFERRED = "deferred"
    UNCERTAIN = "uncertain"

    @property
    def settled(self) -> bool:
        """True when the step is never tried again (everything but DEFERRED)."""
        return self is not StepState.DEFERRED


@dataclass(frozen=True)
class Step:
    """The recorded state of one step, and what the platform said (a refusal's reason)."""

    state: StepState
    detail: str = ""


class Progress(Protocol):
    """Where a resumable publication records its steps; each record is durable on return."""

    def steps(self) -> dict[str, Step]:
        """Every step recorded so far for this publication, by name (earlier attempts too)."""
        ...

    def record(self, name: str, state: StepState, detail: str = "") -> bool:
        """Record step ``name`` as ``state``, committed before returning.

        Returns:
            False when this worker no longer holds the publication (its claim ran out
            and another worker may be resuming it): send nothing more.
        """
        ...


class MemoryProgress:
    """A :class:`Progress` that lives as long as the object (tests, a bare ``publish``)."""

    def __init__(self, steps: Mapping[str, Step] | None = None) -> None:
        self._steps: dict[str, Step] = dict(steps or {})
        #: Every record in order, for tests that look at the sequence.
        self.log: list[tuple[str, StepState]] = []

    def steps(self) -> dict[str, Step]:
        return dict(self._steps)

    def record(self, name: str, state: StepState, detail: str = "") -> bool:
        self._steps[name] = Step(state, detail)
        self.log.append((name, state))
        return True

    def __repr__(self) -> str:
        return f"MemoryProgress({len(self._steps)} steps)"


@runtime_checkable
class Resumable(Protocol):
    """A connector whose publications go out in recorded steps (``Capability.RESUMABLE``)."""

    def publish_steps(
        self, post: RenderedPost, idempotency_key: str, progress: Progress
    ) -> Published:
        """Publish ``post``, skipping the settled steps of ``progress`` and recording the rest.

        Raises:
            AuthError, RateLimited, Rejected, Transient: as ``publish``; the steps
            recorded before the error stay recorded, and the next attempt resumes.
        """
        ...
