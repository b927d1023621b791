"""The limits a server reports about itself, written to the store when new.

A server tells its limits with its first answer in a process. They go to the store
once, and again when they change (``check`` and other processes count with them): in
the transaction that records a post handed over (:mod:`crosspost.store.handover`),
else in one of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from connectors.base import Connector, ReportsLimits
from crosspost.loading.accounts import settings_hash
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
        #: Per account: its connector, and whether it reports its server's limits.
        self._reports: dict[str, tuple[Connector, bool]] = {}

    def new(self, account: str) -> LimitsReport | None:
        """What ``account``'s server reported that is not in the store yet, if anything."""
        project = self.publisher.project
        reported = self._reported(project, account)
        if not reported or self._kept.get(account) == (project, dict(reported)):
            return None
        digest = settings_hash(project.accounts[account])
        return LimitsReport(account, digest, dict(reported), self.publisher.clock())

    def _reported(self, project: Project, account: str) -> Mapping[str, object] | None:
        """As :func:`~crosspost.loading.limits.server_limits`, asked twice after every post:
        ``isinstance`` on the runtime protocol walks its members each time (5 us, most of
        the ask), so it is asked once per connector."""
        connector = project.connector(account)
        known = self._reports.get(account)
        if known is None or known[0] is not connector:  # a reload builds new connectors
            known = self._reports[account] = (connector, isinstance(connector, ReportsLimits))
        return cast(ReportsLimits, connector).reported_limits() if known[1] else None

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
