"""An account's own pacing: ``min_interval`` between posts and ``max_per_day``.

Read from the store each time, so every daemon publishing for the account agrees.
"""

from __future__ import annotations

from datetime import datetime

from crosspost.loading.project import Project
from crosspost.store import Store

__all__ = ["is_paced", "is_throttled", "throttled"]


def is_paced(project: Project, name: str) -> bool:
    """Whether ``name`` has pacing (so what was read before a claim may be stale by it)."""
    spec = project.accounts.get(name)
    return spec is not None and bool(spec.spec.min_interval or spec.spec.max_per_day)


def throttled(store: Store, project: Project, now: datetime) -> set[str]:
    """Accounts held back by their own ``min_interval`` or ``max_per_day``."""
    return {name for name in project.accounts if is_throttled(store, project, name, now)}


def is_throttled(store: Store, project: Project, name: str, now: datetime) -> bool:
    """Whether ``name`` published too recently, or too often today, to publish now."""
    account = project.accounts.get(name)
    if account is None:
        return False
    spacing, cap = account.spec.min_interval, account.spec.max_per_day
    if spacing is not None:
        last = store.last_published_at(name)
        if last is not None and now - last < spacing:
            return True
    if cap is not None:
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if store.published_since(name, midnight) >= cap:
            return True
    return False
