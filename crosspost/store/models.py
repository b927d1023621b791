"""The tables. Only :mod:`crosspost.store` reads or writes them.

They are declared by concern in the ``models_*`` modules beside this one. This module
is their public import point: importing it registers every table in
``SQLModel.metadata`` (the Alembic migrations, the schema test and
:class:`~crosspost.store.Store` rely on it), so every table is imported from here.
"""

from __future__ import annotations

from crosspost.store.models_accounts import AccountClaim, AccountHold, AccountLimits
from crosspost.store.models_community import (
    CollectCursor,
    Follower,
    FollowerEvent,
    FollowerList,
    InboxPoll,
    Interaction,
)
from crosspost.store.models_metrics import (
    AccountSnapshot,
    Conversion,
    MetricObservation,
    MetricSnapshot,
)
from crosspost.store.models_plan import (
    Approval,
    DaemonHeartbeat,
    EntryState,
    FeedEntry,
    FeedState,
    Notification,
)
from crosspost.store.models_publication import Publication, PublicationStep, is_post

__all__ = [
    "AccountClaim",
    "AccountHold",
    "AccountLimits",
    "AccountSnapshot",
    "Approval",
    "CollectCursor",
    "Conversion",
    "DaemonHeartbeat",
    "EntryState",
    "FeedEntry",
    "FeedState",
    "Follower",
    "FollowerEvent",
    "FollowerList",
    "InboxPoll",
    "Interaction",
    "MetricObservation",
    "MetricSnapshot",
    "Notification",
    "Publication",
    "PublicationStep",
    "is_post",
]
