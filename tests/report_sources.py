"""The report's two ways to read a store, for tests that hold them to each other."""

from __future__ import annotations

from datetime import datetime

from crosspost.report_rows import ReportSource
from crosspost.reporting.report import build_report
from crosspost.reporting.report_figures import Report, ReportQuery
from crosspost.reporting.report_sqlite import open_sqlite_report
from crosspost.store import Store
from crosspost.store.report_source import StoreReportSource

__all__ = ["built_both_ways", "sources"]


def sources(store: Store) -> list[ReportSource]:
    """The store's queries and, for a SQLite file, their standard-library twins."""
    twin = open_sqlite_report(store.url)
    return [StoreReportSource(store), *([twin] if twin is not None else [])]


def built_both_ways(store: Store, query: ReportQuery, now: datetime) -> Report:
    """The report read through the store; on SQLite, asserted equal to the one read by the
    twins (every field of every figure, in the same order)."""
    via_store, *twins = sources(store)
    report = build_report(via_store, query, now)
    for twin in twins:
        try:
            assert build_report(twin, query, now) == report
        finally:
            twin.close()
    return report
