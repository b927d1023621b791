"""The connector contract and the base class of the built-in connectors.

This module is the one import for connector authors (docs/writing-a-connector.md): the
contract lives in small modules, and every public name of them is re-exported here:
:mod:`connectors.errors` (the error tree), :mod:`connectors.values` (posts and
limits), :mod:`connectors.attachments` (media, polls, an article's fields and cover),
:mod:`connectors.results` (publications, counts, inbox items),
:mod:`connectors.contract` (the protocols, optional abilities and settings),
:mod:`connectors.state` (tokens that rotate), :mod:`connectors.checks` (the checks run
before anything is sent), and ``Diagnosis`` and ``RateHeadroom`` of
:mod:`connectors.diagnosis` (``crosspost doctor``).

The attachments, the results and the diagnosis are imported when first named here:
``crosspost check`` builds connectors without ever publishing (nor, for a project
without media, polls or articles, attaching anything), and on Python 3.11 each of their
frozen dataclasses compiles six methods at import.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar, cast

from connectors.checks import Checks
from connectors.contract import (
    Commentable,
    Connector,
    ConnectorSettings,
    Diagnosable,
    FollowerList,
    Inbox,
    InboxStream,
    InputFiles,
    NonBlankSecret,
    Reconcilable,
    Replier,
    ReportsLimits,
)
from connectors.errors import (
    AuthError,
    ConnectorError,
    RateLimited,
    Rejected,
    Transient,
    Unknown,
)
from connectors.state import ConnectorState, FileState, MemoryState, StateData
from connectors.values import STANDARD_CAPABILITIES, Capability, Extra, Limits, RenderedPost
from crosspost.rendering.markdown_forms import INLINE_HTML_TAGS, TextFormat

if TYPE_CHECKING:
    from connectors.attachments import ArticleFields, Cover, MediaItem, Poll
    from connectors.diagnosis import Diagnosis, RateHeadroom
    from connectors.results import (
        AccountMetrics,
        FollowerRef,
        InboxItem,
        InboxPage,
        Metrics,
        Published,
        ThreadPart,
    )

__all__ = [
    "STANDARD_CAPABILITIES",
    "AccountMetrics",
    "ArticleFields",
    "AuthError",
    "BaseConnector",
    "Capability",
    "Commentable",
    "CommentsAsReplies",
    "Connector",
    "ConnectorError",
    "ConnectorSettings",
    "ConnectorState",
    "Cover",
    "Diagnosable",
    "Diagnosis",
    "Extra",
    "FileState",
    "FollowerList",
    "FollowerRef",
    "Inbox",
    "InboxItem",
    "InboxPage",
    "InboxStream",
    "InputFiles",
    "Limits",
    "MediaItem",
    "MemoryState",
    "Metrics",
    "NonBlankSecret",
    "Poll",
    "Published",
    "RateHeadroom",
    "RateLimited",
    "Reconcilable",
    "Replier",
    "Rejected",
    "RenderedPost",
    "ReportsLimits",
    "SettingsT",
    "StateData",
    "ThreadPart",
    "Transient",
    "Unknown",
]

#: The names re-exported from the modules imported on first use, and where each lives.
_LATER = {
    "AccountMetrics": "connectors.results",
    "ArticleFields": "connectors.attachments",
    "Cover": "connectors.attachments",
    "Diagnosis": "connectors.diagnosis",
    "FollowerRef": "connectors.results",
    "InboxItem": "connectors.results",
    "InboxPage": "connectors.results",
    "MediaItem": "connectors.attachments",
    "Metrics": "connectors.results",
    "Poll": "connectors.attachments",
    "Published": "connectors.results",
    "RateHeadroom": "connectors.diagnosis",
    "ThreadPart": "connectors.results",
}


def __getattr__(name: str) -> object:
    """The attachments, results and diagnosis, imported the first time one is named (PEP 562)."""
    if name not in _LATER:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LATER[name]), name)


_E = TypeVar("_E", bound=ConnectorError)
#: The settings model of a connector: ``BaseConnector["MyConnector.Settings"]``.
SettingsT = TypeVar("SettingsT", bound=ConnectorSettings)


class BaseConnector(Checks, Generic[SettingsT]):
    """Shared behaviour of the built-in connectors (template method).

    Subclasses set the class attributes and implement ``_publish``; the public
    ``publish`` checks the post against the limits first, so that nothing the
    platform would refuse for its size is ever sent.
    """

    name: ClassVar[str] = ""
    limits: ClassVar[Limits] = Limits(max_length=0)
    capabilities: frozenset[Capability] = frozenset()
    Settings: ClassVar[type[ConnectorSettings]] = ConnectorSettings
    #: Link to the platform's API documentation used to write the connector.
    docs_url: ClassVar[str] = ""
    #: The form Markdown bodies are rendered in for this platform (crosspost.rendering.markdown).
    text_format: ClassVar[TextFormat] = TextFormat.PLAIN
    #: The HTML tags the platform accepts, when ``text_format`` is HTML.
    html_tags: ClassVar[frozenset[str]] = INLINE_HTML_TAGS
    #: A second form the text is rendered in, as ``RenderedPost.alternative`` (e-mail:
    #: plain text beside the HTML); None for most platforms.
    alternative_format: ClassVar[TextFormat | None] = None
    #: How long the platform remembers an idempotency key: within it, a publication
    #: whose outcome is unknown may be sent again with the same key and cannot
    #: duplicate. None: never resend by itself.
    idempotency_window: ClassVar[timedelta | None] = None
    #: How many ids one ``fetch_metrics`` request answers: the collector fills its
    #: batches up to a multiple of it (crosspost.collecting.metric_batches). 1: one per id.
    metrics_batch: ClassVar[int] = 1

    def __init__(
        self,
        account: str,
        settings: ConnectorSettings,
        state: ConnectorState | None = None,
    ) -> None:
        if not isinstance(settings, self.Settings):
            raise TypeError(f"{type(self).__name__} needs {type(self).__name__}.Settings")
        self.account = account
        #: The account's settings, typed as the connector's own model.
        self.settings: SettingsT = cast(SettingsT, settings)
        self.capabilities = self.capabilities_for(settings)
        self.state: ConnectorState = state if state is not None else MemoryState()
        self.log = logging.getLogger(f"crosspost.connectors.{self.name}[@{account}]")
        self._open()

    def _open(self) -> None:
        """Set up what the account needs before its first request (an HTTP client)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account={self.account!r})"

    def error(self, cls: type[_E], message: str, status: int | None = None) -> _E:
        """The one way to build an error of this account (connectors over HTTP mask secrets)."""
        return cls(message, platform=self.name, account=self.account, status=status)

    def rate_limited(
        self, message: str, retry_at: datetime, status: int | None = None
    ) -> RateLimited:
        """The :class:`RateLimited` of this account, ending at ``retry_at``."""
        return RateLimited(
            message, retry_at=retry_at, platform=self.name, account=self.account, status=status
        )

    def unable(self, what: str) -> Rejected:
        """The refusal of an ability this account lacks (e.g. an inbox in webhook mode)."""
        return self.error(Rejected, f"{self.name} account {self.account!r} has no {what}")

    @classmethod
    def capabilities_for(cls, settings: ConnectorSettings) -> frozenset[Capability]:
        """What an account with ``settings`` can do; the manifest unless a mode narrows it."""
        return cls.capabilities

    # -- the contract ---------------------------------------------------------

    def publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        """Check the post against the limits, then hand it to ``_publish``.

        Raises:
            Rejected: the post breaks a limit; nothing was sent.
            AuthError, RateLimited, Transient, Unknown: from ``_publish``.
        """
        self._prepare()
        problems = self.check(post)
        if problems:
            raise Rejected("; ".join(problems), platform=self.name, account=self.account)
        parts = f"{len(post.parts)} parts" if len(post.parts) > 1 else "1 part"
        # at DEBUG: the publisher logs each post it records, with its entry (one line a post)
        self.log.debug("publishing %s to %s (%s)", post.content_id, self.account, parts)
        published = self._publish(post, idempotency_key)
        where = published.url or published.remote_id
        self.log.debug("published %s to %s as %s", post.content_id, self.account, where)
        return published

    def _prepare(self) -> None:
        """Learn what ``check`` needs from the platform (e.g. an instance's limits)."""

    def _publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        """Publish every part of ``post`` as a chain of replies, media and poll on the first.

        A failure after the first part carries the parts that did go out in
        ``error.partial``, so the publication is recorded, not resent.
        """
        from connectors.results import ThreadPart

        root: Published | None = None
        previous: Published | None = None
        ids: list[str] = []
        for index, text in enumerate(post.parts):
            key = idempotency_key if index == 0 else f"{idempotency_key}-{index}"
            try:
                part = ThreadPart(index, text, previous, root, key)
                previous = self._publish_part(post, part)
            except ConnectorError as error:
                if root is not None:
                    error.partial = replace(root, thread_ids=tuple(ids))
                raise
            root = root or previous
            ids.append(previous.remote_id)
        assert root is not None, "a post has at least one part"
        return replace(root, thread_ids=tuple(ids))

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        """Publish one post of a thread (``index`` 0 carries media and poll)."""
        raise NotImplementedError

    def _answer(
        self, post: RenderedPost, parent: Published, root: Published, idempotency_key: str
    ) -> Published:
        """Publish one-part ``post`` as a reply to ``parent`` in the thread of ``root``.

        The path replying connectors share: the same checks as ``publish``, then
        ``_publish_part`` as for a later part of a thread.

        Raises:
            Rejected: the reply breaks a limit or has more than one part; nothing was sent.
            AuthError, RateLimited, Transient, Unknown: from ``_publish_part``.
        """
        self._prepare()
        problems = self.check(post)
        if len(post.parts) != 1:
            problems.append("a reply is one post")
        if problems:
            raise Rejected("; ".join(problems), platform=self.name, account=self.account)
        from connectors.results import ThreadPart

        part = ThreadPart(0, post.text, parent, root, idempotency_key)
        published = self._publish_part(post, part)
        self.log.info("replied to %s as %s", parent.remote_id, published.url or published.remote_id)
        return replace(published, thread_ids=(published.remote_id,))

    def fetch_metrics(self, remote_ids: Sequence[str]) -> dict[str, Metrics]:
        """No metrics unless the platform has them."""
        return {}

    def account_metrics(self) -> AccountMetrics:
        """No audience figures unless the platform has them."""
        from connectors.results import AccountMetrics

        return AccountMetrics()

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """Refuse: this platform cannot delete."""
        raise Rejected(f"{self.name} cannot delete posts", platform=self.name, account=self.account)


class CommentsAsReplies(BaseConnector[SettingsT]):
    """For connectors whose threads are chains of replies: the first comment is one more."""

    def publish_comment(
        self, post: RenderedPost, parent: Published, idempotency_key: str
    ) -> Published:
        """The first comment: a reply to the post, checked and sent as a reply is.

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        return self._answer(post, parent, parent, idempotency_key)
