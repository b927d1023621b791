"""The store as a :class:`~crosspost.report_rows.ReportSource`: any database."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from crosspost.report_rows import (
    ConversionRow,
    FollowerPoint,
    InteractionRow,
    PostReactions,
    PostRow,
    ReceivedItem,
)
from crosspost.store import Store, conversions, reports, reports_audience, responses

__all__ = ["StoreReportSource"]


class StoreReportSource:
    """The report's rows, read through the store's queries."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def published_posts(
        self, since: datetime | None, until: datetime | None, accounts: Iterable[str]
    ) -> list[PostRow]:
        return reports.published_posts(self.store, since, until, accounts)

    def post_reactions(
        self, since: datetime | None, until: datetime | None, accounts: Iterable[str]
    ) -> dict[int, PostReactions]:
        return reports.post_reactions(self.store, since, until, accounts)

    def account_snapshots(
        self, accounts: Sequence[str], since: datetime | None, until: datetime | None
    ) -> dict[str, list[FollowerPoint]]:
        return reports_audience.account_snapshots(self.store, accounts, since, until)

    def follower_event_counts(
        self, accounts: Sequence[str], since: datetime | None, until: datetime | None
    ) -> dict[str, dict[str, int]]:
        return reports_audience.follower_event_counts(self.store, accounts, since, until)

    def interactions(
        self, accounts: Sequence[str], since: datetime | None, until: datetime | None
    ) -> list[InteractionRow]:
        return reports_audience.interactions(self.store, accounts, since, until)

    def conversions_for(self, campaigns: Iterable[str]) -> list[ConversionRow]:
        return conversions.conversions_for(self.store, campaigns)

    def received_items(
        self, accounts: Sequence[str], since: datetime, until: datetime
    ) -> list[ReceivedItem]:
        return responses.received_items(self.store, accounts, since, until)

    def close(self) -> None:
        self.store.close()
