"""The errors a connector may raise; it raises nothing else.

Error tree::

    ConnectorError
    ├── AuthError        credentials missing, expired or revoked; never retried
    ├── RateLimited      come back at ``retry_at``; the account pauses, others go on
    ├── Rejected         the platform refused this content; never retried as is
    ├── Transient        the request certainly did not take effect; safe to retry
    └── Unknown          the request may have taken effect; never retried blindly

The rule that decides between ``Transient`` and ``Unknown`` is "could the
platform have acted on it?": a refused connection is ``Transient``, a read
timeout after a POST is ``Unknown`` unless the platform honours an idempotency
key that was sent with it. Connectors never make that choice themselves: they
say what each request does (:class:`connectors.http.Kind`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, TypedDict, Unpack

if TYPE_CHECKING:  # an annotation: the errors are imported by check, which publishes nothing
    from connectors.results import Published

__all__ = [
    "AuthError",
    "ConnectorError",
    "RateLimited",
    "Rejected",
    "Transient",
    "Unknown",
]


class _Where(TypedDict, total=False):
    """Where an error happened, as :class:`ConnectorError` takes it."""

    platform: str
    account: str
    status: int | None
    partial: Published | None


class ConnectorError(Exception):
    """Base of every error a connector raises.

    Args:
        message: what happened, in words a user can act on; never a secret.
        platform: connector name, e.g. ``"mastodon"``.
        account: the account alias from ``schedule.yaml``.
        status: HTTP status (or platform error code) when there was one.
    """

    #: Whether the dispatcher may try the same publication again later.
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        platform: str = "",
        account: str = "",
        status: int | None = None,
        partial: Published | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.account = account
        self.status = status
        #: The posts of a thread that went out before this error stopped it.
        self.partial = partial

    def __str__(self) -> str:
        where = "/".join(part for part in (self.platform, self.account) if part)
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{where}: {self.message}{status}" if where else self.message + status


class AuthError(ConnectorError):
    """The account's credentials do not work; a person has to renew them."""


class RateLimited(ConnectorError):
    """The platform asked us to slow down until ``retry_at`` (UTC)."""

    retryable = True

    def __init__(self, message: str, *, retry_at: datetime, **where: Unpack[_Where]) -> None:
        super().__init__(message, **where)
        self.retry_at = retry_at


class Rejected(ConnectorError):
    """The platform refused the content itself (too long, duplicate, bad media)."""

    def __init__(self, reason: str, **where: Unpack[_Where]) -> None:
        super().__init__(reason, **where)
        self.reason = reason


class Transient(ConnectorError):
    """A failure that certainly did not publish anything; retry later."""

    retryable = True


class Unknown(ConnectorError):
    """The request may have reached the platform; reconcile, do not resend."""
