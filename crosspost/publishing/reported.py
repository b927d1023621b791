"""The limits a server reports about itself, written to the store when new.

A server tells its limits with its first answer in a process. They go to the store
once, and again when they change (``check`` and other processes count with them): in
the transaction that records a post handed over (:mod:`crosspost.store.handover`),
else in one of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crosspost.loading.accounts import settings_hash
from crosspost.loading.limits import server_limits
from crosspost.loading.project import Project
from crosspost.store.account_state import LimitsReport, remember_limits

if TYPE_CHECKING:
    from crosspost.publishing.publisher import Publisher

__all__ = ["LimitsRecorder"]


class LimitsRecorder:
    """Per account, the limits its server reported that are in the store already."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher
        self._kept: dict[str, tuple[Project, object]] = {}

    def new(self, account: str) -> LimitsReport | None:
        """What ``account``'s server reported that is not in the store yet, if anything."""
        project = self.publisher.project
        reported = server_limits(project, account)
        if not reported or self._kept.get(account) == (project, dict(reported)):
            return None
        digest = settings_hash(project.accounts[account])
        return LimitsReport(account, digest, dict(reported), self.publisher.clock())

    def written(self, report: LimitsReport) -> None:
        """``report`` is in the store now (written by a transaction of the caller's)."""
        self._kept[report.account] = (self.publisher.project, dict(report.limits))

    def keep(self, account: str) -> None:
        """Write what ``account``'s server reported, in a transaction of its own, if new."""
        report = self.new(account)
        if report is None:
            return
        store = self.publisher.store
        remember_limits(
            store, report.account, report.settings_hash, report.limits, report.reported_at
        )
        self.written(report)
