"""The figures tables: reactions to posts, audience snapshots and imported conversions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "AccountSnapshot",
    "Conversion",
    "MetricObservation",
    "MetricSnapshot",
]


class MetricSnapshot(SQLModel, table=True):
    """Reactions to one publication at one moment."""

    __tablename__ = "metric_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publication.id", index=True)
    collected_at: datetime
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    views: int | None = None
    bookmarks: int | None = None
    raw: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    #: The step of ``metrics.after`` (seconds after publishing) this snapshot covers;
    #: None for snapshots taken before steps were recorded (inferred from ``collected_at``).
    step: int | None = None


class MetricObservation(SQLModel, table=True):
    """The newest counts a platform pushed for one of an account's posts (any post of a thread).

    Written by connectors whose platform reports counts as events (through
    ``connectors.records``), read back by their ``fetch_metrics``; the collector
    then takes its snapshots from them as from any platform's answer.
    """

    __tablename__ = "metric_observation"

    account: str = Field(primary_key=True)
    remote_id: str = Field(primary_key=True)
    #: When the platform saw these counts (not when they were read).
    observed_at: datetime
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    views: int | None = None
    bookmarks: int | None = None
    raw: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class AccountSnapshot(SQLModel, table=True):
    """Audience figures of one account at one moment."""

    __tablename__ = "account_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(index=True)
    collected_at: datetime
    followers: int | None = None
    following: int | None = None
    posts: int | None = None
    members: int | None = None
    raw: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class Conversion(SQLModel, table=True):
    """Conversions imported from an analytics export, keyed by UTM campaign and content."""

    __tablename__ = "conversion"
    __table_args__ = (
        UniqueConstraint("campaign", "content", "source", "day", name="uq_conversion_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(index=True)
    content: str = ""
    source: str = ""
    day: str = ""  # YYYY-MM-DD, or "" when the export has no date
    clicks: int | None = None
    conversions: int = 0
    value: float | None = None
    imported_at: datetime
    source_file: str = ""
