"""``crosspost doctor``: prove each account works, without posting anything.

Every connector that can (:class:`~connectors.base.Diagnosable`) makes read-only
calls that show whose credentials it holds, what they lack (a scope, a right), and
how much rate-limit room is left. The limits its server reports on the way are
stored, as after a publish, so ``check`` counts with them. A failed call is a
problem of that account; the other accounts are checked all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from connectors.base import (
    AuthError,
    ConnectorError,
    Diagnosable,
    Diagnosis,
    RateLimited,
    Rejected,
    Transient,
)
from crosspost.loading.limit_sources import limit_sources
from crosspost.loading.limits import apply_reported_limits, remember_reported_limits
from crosspost.loading.project import Project
from crosspost.store import Store

__all__ = ["AccountCheck", "check_account", "check_accounts"]

#: ``ok``: nothing stops crosspost; ``problem``: something does (see ``problems``);
#: ``unchecked``: the connector cannot check itself (a third-party one, say).
CheckStatus = Literal["ok", "problem", "unchecked"]


@dataclass(frozen=True)
class AccountCheck:
    """What ``crosspost doctor`` found out about one account."""

    account: str
    platform: str
    status: CheckStatus
    identity: str | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scopes: list[str] | None = None
    #: ``{"limit", "remaining", "reset_at"}`` from the rate-limit headers, when sent.
    rate: dict[str, Any] | None = None
    #: ``{"max_length", "unit", "source", "max_media"}``: what ``check`` counts with.
    limits: dict[str, Any] = field(default_factory=dict)
    capabilities: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)


def _failure(error: ConnectorError) -> str:
    """A failed check in words that say what to do."""
    if isinstance(error, AuthError):
        return f"the credentials do not work: {error.message}"
    if isinstance(error, RateLimited):
        return f"rate limited until {error.retry_at:%Y-%m-%d %H:%M}Z; try again then"
    if isinstance(error, Transient):
        return f"the platform could not be reached: {error.message}"
    if isinstance(error, Rejected):
        return f"the platform refused the check: {error.message}"
    return error.message


def _rate(diagnosis: Diagnosis) -> tuple[dict[str, Any] | None, list[str]]:
    rate = diagnosis.rate
    if rate is None:
        return None, []
    shown = {
        "limit": rate.limit,
        "remaining": rate.remaining,
        "reset_at": rate.reset_at.isoformat() if rate.reset_at else None,
        "unit": "percent" if rate.percent else "requests",
        "text": rate.describe(),
    }
    if rate.remaining <= 0:
        return shown, [f"nothing left in the rate-limit window ({rate.describe()})"]
    return shown, []


def _limits(project: Project, store: Store, account: str) -> dict[str, Any]:
    used = apply_reported_limits(store, project)
    source = next(s for s in limit_sources(project, used) if s.account == account)
    limits = project.connector(account).effective_limits
    return {
        "max_length": limits.max_length,
        "unit": limits.unit,
        "max_media": limits.max_media,
        "source": source.source,
        "text": source.describe().split(": ", 1)[1],
    }


def check_account(project: Project, store: Store, account: str, now: datetime) -> AccountCheck:
    """Diagnose one account; its server's reported limits are stored on the way."""
    connector = project.connector(account)
    capabilities = sorted(str(c) for c in connector.capabilities)
    base = AccountCheck(account, connector.name, "unchecked", capabilities=capabilities)
    if not isinstance(connector, Diagnosable):
        note = f"the {connector.name} connector has no diagnose(): not checked"
        return _with(base, "unchecked", notes=[note], limits=_limits(project, store, account))
    try:
        diagnosis = connector.diagnose()
    except ConnectorError as error:
        remember_reported_limits(store, project, account, now)
        limits = _limits(project, store, account)
        return _with(base, "problem", problems=[_failure(error)], limits=limits)
    remember_reported_limits(store, project, account, now)
    rate, exhausted = _rate(diagnosis)
    problems = [*diagnosis.problems, *exhausted]
    return _with(
        base,
        "problem" if problems else "ok",
        identity=diagnosis.identity,
        problems=problems,
        notes=list(diagnosis.notes),
        scopes=list(diagnosis.scopes) if diagnosis.scopes is not None else None,
        rate=rate,
        limits=_limits(project, store, account),
        details=dict(diagnosis.details),
    )


def _with(check: AccountCheck, status: CheckStatus, **changes: Any) -> AccountCheck:
    return AccountCheck(**{**check.__dict__, "status": status, **changes})


def check_accounts(
    project: Project,
    store: Store,
    accounts: Sequence[str],
    clock: Callable[[], datetime],
    progress: Callable[[int, str], None] = lambda _n, _a: None,
) -> list[AccountCheck]:
    """Diagnose ``accounts`` one after the other; ``progress(n, account)`` before each."""
    checks = []
    for number, account in enumerate(accounts, start=1):
        progress(number, account)
        checks.append(check_account(project, store, account, clock()))
    return checks
