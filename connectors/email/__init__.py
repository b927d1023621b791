"""E-mail newsletter over SMTP: one message per recipient of a list kept in the project.

Standards used (there is no platform API; the server is any SMTP submission server):

- https://www.rfc-editor.org/rfc/rfc5321 (SMTP), rfc3207 (STARTTLS), rfc4954 (AUTH),
  rfc8314 (implicit TLS)
- https://www.rfc-editor.org/rfc/rfc5322 (message format), rfc2045/rfc2046 (MIME)
- https://www.rfc-editor.org/rfc/rfc2369 and rfc8058 (``List-Unsubscribe``, one-click)

A publication is many messages, so the connector is :class:`Resumable`: each
recipient is a step the core keeps in its store, written just before the
message's final line leaves and again when the server answers. A daemon killed
in the middle resumes with the recipients it never reached and sends nothing
again; the one recipient whose message was on the wire at that moment is
reported as uncertain rather than sent twice (at most once: SMTP has no
idempotency key). Pacing (``max_per_minute``) ends a round with ``RateLimited``,
so the dispatcher, not a sleeping worker, waits for the next minute.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from connectors.base import (
    AccountMetrics,
    BaseConnector,
    Capability,
    ConnectorError,
    ConnectorSettings,
    ConnectorState,
    FollowerRef,
    Limits,
    Published,
    RateLimited,
    Rejected,
    RenderedPost,
    Transient,
)
from connectors.diagnosis import Diagnosis
from connectors.email.addresses import Recipient, read_recipients
from connectors.email.delivery import Round, RoundEnd, Tally, settle_interrupted
from connectors.email.message import Attachment, Letter, Unsubscribe
from connectors.email.settings import EmailSettings, Security, placeholders
from connectors.email.smtp import Factory, Relay, SmtpFailure
from connectors.feed.files import resolve_path
from connectors.http import Kind, error_class
from connectors.progress import MemoryProgress, Progress
from crosspost.errors import Problem
from crosspost.rendering.markdown_forms import BLOCK_HTML_TAGS, TextFormat

__all__ = ["EmailConnector", "EmailSettings", "Security"]

#: How long a server that said "not now" before any message (4xx) is left alone.
_SERVER_BACKOFF = timedelta(minutes=5)
#: Per-content options (``overrides: {email: {options: …}}``).
_OPTIONS = frozenset({"subject"})
_SUBJECT_FALLBACK = 78


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EmailConnector(BaseConnector[EmailSettings]):
    """Sends each publication as one message per recipient, text and HTML."""

    name: ClassVar[str] = "email"
    docs_url: ClassVar[str] = "https://www.rfc-editor.org/rfc/rfc5321"
    text_format: ClassVar[TextFormat] = TextFormat.HTML
    html_tags: ClassVar[frozenset[str]] = BLOCK_HTML_TAGS
    alternative_format: ClassVar[TextFormat | None] = TextFormat.PLAIN
    #: Gmail clips an HTML body past 102 KB ("[Message clipped]"): the body's UTF-8 bytes.
    limits: ClassVar[Limits] = Limits(
        max_length=102_000, unit="bytes", max_media=10, max_media_bytes=10 * 1024 * 1024
    )
    capabilities: frozenset[Capability] = frozenset(
        {Capability.MEDIA, Capability.FOLLOWER_LIST, Capability.RESUMABLE}
    )

    Settings = EmailSettings

    def __init__(
        self,
        account: str,
        settings: ConnectorSettings,
        state: ConnectorState | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
        smtp_factory: Factory | None = None,
    ) -> None:
        super().__init__(account, settings, state)
        self.clock = clock
        self.smtp_factory = smtp_factory
        self.list_path = resolve_path(self.settings.recipients, self.settings.base_dir)

    def measure(self, text: str) -> int:
        """UTF-8 bytes of the HTML body."""
        return len(text.encode("utf-8"))

    # -- the recipient list --------------------------------------------------

    def _shown_list(self) -> str:
        base = self.settings.base_dir
        if base is not None and self.list_path.is_relative_to(base):
            return str(self.list_path.relative_to(base))
        return str(self.list_path)

    def _read_list(self) -> tuple[list[Recipient], list[Problem]]:
        shown = self._shown_list()
        recipients, problems = read_recipients(self.list_path, shown)
        if not recipients and not problems:
            problems = [Problem.at(shown, 1, 1, "the recipient list is empty")]
        return recipients, problems

    def input_problems(self) -> list[Problem]:
        """Every bad line of the recipient list, at its file:line."""
        return self._read_list()[1]

    def recipients(self) -> list[Recipient]:
        """The recipient list; nothing is sent from a list with a problem.

        Raises:
            Rejected: the list is unreadable, empty, or has a bad or repeated address.
        """
        recipients, problems = self._read_list()
        if problems:
            shown = "; ".join(str(problem) for problem in problems[:3])
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            raise self.error(Rejected, f"the recipient list needs fixing first: {shown}{more}")
        return recipients

    # -- checks --------------------------------------------------------------

    def _check_options(self, post: RenderedPost) -> list[str]:
        unknown = [key for key in post.options if key not in _OPTIONS]
        problems = [f"unknown option {key!r} (known: subject)" for key in unknown]
        subject = post.options.get("subject")
        if subject is not None:
            if not isinstance(subject, str) or not subject.strip() or "\n" in subject:
                problems.append("option subject: expected one line of text")
            elif names := placeholders(subject) - {"title", "date"}:
                problems.append(f"option subject: unknown placeholder {{{sorted(names)[0]}}}")
        if not self._subject(post):
            problems.append("no subject: the content has no title and no text")
        return problems

    def _subject(self, post: RenderedPost) -> str:
        pattern = post.options.get("subject") or self.settings.subject
        title = post.title.strip() or _first_line(post.alternative or post.text)
        day = self.clock().date().isoformat()
        return " ".join(str(pattern).replace("{title}", title).replace("{date}", day).split())

    # -- publishing ----------------------------------------------------------

    def _publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        """A bare ``publish`` (no store): the steps live as long as this call."""
        return self._deliver(post, idempotency_key, MemoryProgress())

    def publish_steps(
        self, post: RenderedPost, idempotency_key: str, progress: Progress
    ) -> Published:
        """Send to every recipient ``progress`` has not settled; see the module docstring.

        Raises:
            Rejected: the post or the list has a problem (nothing sent), or every
                recipient was refused.
            AuthError: the server refused the login, or offers no STARTTLS or AUTH.
            RateLimited: paced (``max_per_minute``), or the server said "not now".
            Transient: the connection failed, or some recipients were deferred (4xx);
                the next attempt resumes.
        """
        problems = self.check(post)
        if problems:
            raise self.error(Rejected, "; ".join(problems))
        return self._deliver(post, idempotency_key, progress)

    def _deliver(self, post: RenderedPost, key: str, progress: Progress) -> Published:
        recipients = self.recipients()
        steps = settle_interrupted(progress)
        todo = [r for r in recipients if r.key not in steps or not steps[r.key].state.settled]
        batch = todo[: self.settings.max_per_minute]
        letter = self._letter(post, key)
        try:
            end = Round(self._relay, progress, letter, self.clock, self.log).run(batch)
        except SmtpFailure as failure:
            raise self._session_failure(failure) from None
        tally = Tally.of(recipients, progress.steps())
        self.log.info("%s: %s", key, tally.summary())
        return self._result(key, tally, end, paced=len(todo) > len(batch))

    def _result(self, key: str, tally: Tally, end: RoundEnd, *, paced: bool) -> Published:
        if end.claim_lost:
            message = f"stopped: another worker holds the newsletter now; {tally.summary()}"
            raise self.error(Transient, message)
        if tally.pending and end.reason:
            raise self.error(Transient, f"{end.reason}; {tally.summary()} so far")
        if tally.pending and paced:
            retry_at = (end.last_sent_at or self.clock()) + timedelta(minutes=1)
            message = (
                f"paced at {self.settings.max_per_minute} a minute: {tally.summary()} "
                f"so far; the next ones at {retry_at:%H:%M:%S} UTC"
            )
            raise self.rate_limited(message, retry_at)
        if tally.deferred:
            raise self.error(Transient, f"{tally.summary()}; the deferred are tried again")
        if tally.done == 0 and not tally.uncertain:
            raise self.error(Rejected, f"refused for every recipient: {tally.summary()}")
        domain = self.settings.from_address.rpartition("@")[2].lower()
        counts = {
            "recipients": tally.total,
            "sent": tally.done,
            "refused": len(tally.refused),
            "uncertain": len(tally.uncertain),
        }
        complete = tally.done == tally.total
        return Published(
            remote_id=f"{key}@{domain}",
            url=None,
            published_at=self.clock(),
            thread_ids=(f"{key}@{domain}",),
            extra=counts,
            note=None if complete else tally.summary(),
        )

    def _session_failure(self, failure: SmtpFailure) -> ConnectorError:
        """The error a session that could not start means (connecting is a harmless write)."""
        verdict = failure.verdict
        cls = error_class(verdict.outcome, Kind.HARMLESS_WRITE)
        if cls is RateLimited:
            retry_at = self.clock() + _SERVER_BACKOFF
            return self.rate_limited(verdict.message, retry_at, verdict.status)
        return self.error(cls, verdict.message, verdict.status)

    def _relay(self) -> Relay:
        settings = self.settings
        credentials = None
        if settings.username is not None and settings.password is not None:
            credentials = (settings.username, settings.password.get_secret_value())
        return Relay(
            settings.host,
            settings.effective_port,
            settings.security.value,
            credentials=credentials,
            timeout=settings.timeout,
            ca_file=resolve_path(settings.ca_file, settings.base_dir) if settings.ca_file else None,
            factory=self.smtp_factory,
        )

    def _letter(self, post: RenderedPost, key: str) -> Letter:
        settings = self.settings
        text, body = post.alternative, post.text
        if not text:  # a notification: plain text only, made safe to show as HTML
            text, body = post.text, "<p>" + html.escape(post.text).replace("\n", "<br>\n") + "</p>"
        if post.content_warning:
            text = f"{post.content_warning}\n\n{text}"
            body = f"<p><b>{html.escape(post.content_warning)}</b></p>\n{body}"
        return Letter(
            key=key,
            subject=self._subject(post),
            html=body,
            text=text,
            from_address=settings.from_address,
            from_name=settings.from_name,
            reply_to=settings.reply_to,
            date=self.clock(),
            unsubscribe=Unsubscribe(
                settings.unsubscribe_url, settings.unsubscribe_mailto, settings.unsubscribe_text
            ),
            language=post.language,
            attachments=tuple(self._attachment(item.path, item.mime_type) for item in post.media),
        )

    def _attachment(self, path: Path, mime_type: str) -> Attachment:
        maintype, _, subtype = mime_type.partition("/")
        try:
            data = path.read_bytes()
        except OSError as error:
            raise self.error(Rejected, f"cannot read {path.name}: {error.strerror}") from None
        return Attachment(path.name, data, maintype, subtype or "octet-stream")

    # -- reading back --------------------------------------------------------

    def account_metrics(self) -> AccountMetrics:
        """The number of valid addresses on the list, as followers."""
        recipients, _problems = self._read_list()
        return AccountMetrics(followers=len(recipients))

    def followers(self, limit: int) -> list[FollowerRef]:
        """The list's addresses, so that joins and leaves are exact."""
        recipients, _problems = self._read_list()
        return [FollowerRef(id=r.key, handle=r.address) for r in recipients[:limit]]

    def diagnose(self) -> Diagnosis:
        """Log in to the SMTP server and read the recipient list; no message is sent.

        Raises:
            AuthError: the login is refused (or the server offers no STARTTLS or AUTH).
            RateLimited, Transient: the server says "not now", or cannot be reached.
        """
        relay = self._relay()
        try:
            relay.open()
        except SmtpFailure as failure:
            raise self._session_failure(failure) from None
        finally:
            relay.close()
        recipients, problems = self._read_list()
        settings = self.settings
        return Diagnosis(
            identity=f"{settings.from_address} via {settings.host}:{settings.effective_port}",
            problems=tuple(str(problem) for problem in problems),
            notes=("SMTP servers send no rate headroom; the provider's sending limits apply",),
            details={"recipients": str(len(recipients)), "security": settings.security.value},
        )


def _first_line(text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= _SUBJECT_FALLBACK else line[: _SUBJECT_FALLBACK - 1] + "…"
