"""The connector contract: what the core needs from a platform module, and what is optional.

A connector turns one :class:`RenderedPost` into one post (or thread) on one
account of one platform, and reads back what the platform says about it. Every
ability beyond publishing is a protocol of its own that the core checks with
``isinstance``, never with ``getattr``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, ClassVar, Protocol, runtime_checkable

from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr

from connectors.state import ConnectorState
from connectors.values import Capability, Limits, RenderedPost
from crosspost.errors import Problem

if TYPE_CHECKING:  # annotations only: check builds connectors and never imports these
    from connectors.diagnosis import Diagnosis
    from connectors.results import (
        AccountMetrics,
        FollowerRef,
        InboxItem,
        InboxPage,
        Metrics,
        Published,
    )
    from connectors.values import Extra

__all__ = [
    "Commentable",
    "Connector",
    "ConnectorSettings",
    "Diagnosable",
    "FollowerList",
    "Inbox",
    "InboxStream",
    "InputFiles",
    "NonBlankSecret",
    "Reconcilable",
    "Replier",
    "ReportsLimits",
]


def _not_blank(value: SecretStr) -> SecretStr:
    if not value.get_secret_value().strip():
        raise ValueError("must not be empty")
    return value


#: A token or password in an account's settings, which must not be blank.
NonBlankSecret = Annotated[SecretStr, AfterValidator(_not_blank)]


class ConnectorSettings(BaseModel):
    """Base of every connector's account settings (the ``accounts:`` entry).

    Secrets are declared as ``pydantic.SecretStr`` so that they never show in
    ``repr``, logs or dumps. Unknown keys are an error, so typos are caught by
    ``crosspost check``.
    """

    # hide_input_in_errors: a validation error must never echo a token back
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


@runtime_checkable
class Connector(Protocol):
    """What the core needs from a platform module.

    Instances are built with ``Cls(account, settings, state)`` where
    ``settings`` is an instance of ``Cls.Settings``.

    Optional abilities are protocols of their own, checked with ``isinstance``
    where they are used: :class:`Reconcilable` (``find_recent`` and
    ``idempotency_window``), :class:`Inbox` (``fetch_inbox``) and
    :class:`FollowerList` (``followers``). A connector has the ability when it
    has the methods AND its account's ``capabilities`` name it.

    A connector whose server reports its own limits (a Mastodon instance) is also
    :class:`ReportsLimits`.
    """

    name: ClassVar[str]
    limits: ClassVar[Limits]
    #: What this account can do (the class's manifest, narrowed by its settings).
    capabilities: frozenset[Capability]
    Settings: ClassVar[type[ConnectorSettings]]

    def __init__(
        self, account: str, settings: ConnectorSettings, state: ConnectorState | None = None
    ) -> None:
        """Build the connector of ``account``; no network I/O."""
        ...

    @property
    def effective_limits(self) -> Limits:
        """The limits in force for this account (an instance may differ from the defaults)."""
        ...

    def measure(self, text: str) -> int:
        """Length of ``text`` in ``limits.unit``, by the platform's own rules."""
        ...

    def check(self, post: RenderedPost) -> list[str]:
        """Every reason the platform would refuse ``post``; sends nothing."""
        ...

    def publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        """Publish ``post``; the key is the same for every attempt of one publication.

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        ...

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """Reactions for each id, batched where the API allows; unknown ids are left out."""
        ...

    def account_metrics(self) -> AccountMetrics:
        """Followers, following, posts or members of the account."""
        ...

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Delete a published post."""
        ...


@runtime_checkable
class Reconcilable(Protocol):
    """A connector that can look for a post whose outcome is unknown (``RECONCILE``)."""

    #: How long the platform remembers an idempotency key: within it, a publication
    #: whose outcome is unknown may be sent again with the same key. None: never.
    idempotency_window: timedelta | None

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """Look for a post this key or text produced lately, else None."""
        ...


@runtime_checkable
class Inbox(Protocol):
    """A connector that reads mentions and replies (``Capability.INBOX``)."""

    def fetch_inbox(self, cursor: str | None) -> InboxPage:
        """Mentions and replies newer than ``cursor`` (opaque; None on the first call)."""
        ...


@runtime_checkable
class InboxStream(Protocol):
    """A connector told of new mentions as they happen (``Capability.INBOX_STREAM``)."""

    def stream_inbox(self, stop: threading.Event) -> Iterator[None]:
        """Yield once connected, then each time something may have arrived in the inbox.

        The core reads the inbox (:meth:`Inbox.fetch_inbox`, from the stored cursor) at
        each yield: the stream carries no items of its own, so nothing is lost while it
        is down, and the first yield reads what came meanwhile. Returns when ``stop`` is
        set or the server ends the stream.

        Raises:
            AuthError, RateLimited, Rejected, Transient: the stream could not be opened, or
            it broke.
        """
        ...


@runtime_checkable
class FollowerList(Protocol):
    """A connector that lists the account's followers (``Capability.FOLLOWER_LIST``)."""

    def followers(self, limit: int) -> list[FollowerRef]:
        """At most ``limit`` followers; a list of exactly ``limit`` may be cut short."""
        ...


@runtime_checkable
class ReportsLimits(Protocol):
    """A connector whose server reports its own limits (a Mastodon instance)."""

    def reported_limits(self) -> Mapping[str, object] | None:
        """What the server reported in this process, as JSON-ready data, or ``None``.

        The core keeps it in the store.
        """
        ...

    def use_reported_limits(self, data: Mapping[str, object]) -> None:
        """Count with what the server reported in an earlier run, until it is asked again.

        ``effective_limits`` reflects it. ``check`` and ``plan`` never ask the server;
        they use this.
        """
        ...


@runtime_checkable
class Commentable(Protocol):
    """A connector that posts a first comment under a post (``Capability.FIRST_COMMENT``)."""

    def publish_comment(
        self, post: RenderedPost, parent: Published, idempotency_key: str
    ) -> Published:
        """Post ``post`` (one part) as a reply or comment to ``parent``, the published post.

        ``parent`` is what ``publish`` returned (remote id, thread ids, extra), as recorded.

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        ...


@runtime_checkable
class Replier(Protocol):
    """A connector that answers inbox items in their own thread (``Capability.REPLY``).

    The item is what ``fetch_inbox`` returned (as the store kept it): its
    ``remote_id`` and ``raw`` carry the references a reply needs.
    """

    def reply_post(self, item: InboxItem, post: RenderedPost) -> RenderedPost:
        """``post`` as it goes out in answer to ``item`` (e.g. with the author's handle)."""
        ...

    def reply(self, item: InboxItem, post: RenderedPost, idempotency_key: str) -> Published:
        """Publish ``post`` (from ``reply_post``) as an answer to ``item``.

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        ...


@runtime_checkable
class Diagnosable(Protocol):
    """A connector that can prove its account works without posting (``crosspost doctor``)."""

    def diagnose(self) -> Diagnosis:
        """Read-only calls: who the credentials are, what they may do, the rate headroom.

        Raises:
            AuthError, RateLimited, Rejected, Transient: the check itself failed.
        """
        ...


@runtime_checkable
class InputFiles(Protocol):
    """A connector that reads project files of its own (an e-mail account's recipient list).

    ``crosspost check`` reports their problems at their own file:line.
    """

    def input_problems(self) -> list[Problem]:
        """Every problem in those files, each at its file:line; reads, sends nothing."""
        ...
