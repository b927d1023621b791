"""The :class:`~connectors.progress.Progress` of one claimed publication, kept in the store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from connectors.base import Capability, Connector
from connectors.progress import Resumable, Step, StepState
from crosspost.store import Store
from crosspost.store.steps import load_steps, record_step

__all__ = ["StoreProgress", "resumable"]


def resumable(connector: Connector) -> Resumable | None:
    """``connector`` as a :class:`Resumable`, when its account declares ``RESUMABLE``."""
    if Capability.RESUMABLE in connector.capabilities and isinstance(connector, Resumable):
        return connector
    return None


class StoreProgress:
    """Steps of publication ``publication_id``, recorded while ``worker`` holds its claim.

    Each record renews the claim by ``lease``, so a long send keeps its lease as long
    as it makes progress, and a worker that lost it cannot record (nor send) more.
    """

    def __init__(
        self,
        store: Store,
        publication_id: int,
        worker: str,
        lease: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.publication_id = publication_id
        self.worker = worker
        self.lease = lease
        self.clock = clock

    def steps(self) -> dict[str, Step]:
        recorded = load_steps(self.store, self.publication_id)
        return {name: Step(StepState(state), detail) for name, (state, detail) in recorded.items()}

    def record(self, name: str, state: StepState, detail: str = "") -> bool:
        return record_step(
            self.store,
            self.publication_id,
            self.worker,
            name,
            state.value,
            detail,
            self.clock(),
            self.lease,
        )

    def __repr__(self) -> str:
        return f"StoreProgress(publication={self.publication_id})"
