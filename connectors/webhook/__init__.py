"""Generic webhook: each post as one signed JSON POST to the user's own automation.

Specification used:

- https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
  (``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,…``, ``whsec_`` secrets,
  the ``type``/``timestamp``/``data`` payload, 2xx success, no redirects followed,
  ``Retry-After`` on 429)

The ``webhook-id`` is the publication's idempotency key, the same for every attempt,
so the request is a keyed write: a 5xx or a refused connection is sent again under
the same id, and receivers must drop an id they have seen (docs/connectors/webhook.md).
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

import requests

from connectors.base import Capability, Limits, Published, Rejected, RenderedPost, ThreadPart
from connectors.diagnosis import Diagnosis
from connectors.http import HttpClient, HttpConnector, Kind, Outcome, Verdict
from connectors.webhook.payload import (
    EVENT_TYPE,
    BodyTemplate,
    BodyTemplateError,
    Payload,
    dumps,
    payload,
)
from connectors.webhook.settings import WebhookSettings, origin
from connectors.webhook.signing import decode_secret, sign
from crosspost.rendering.markdown_forms import TextFormat
from crosspost.rendering.urls import UrlCounting

__all__ = ["EVENT_TYPE", "BodyTemplate", "Payload", "WebhookConnector", "WebhookSettings", "sign"]

#: The receiver sets its own limits; this one only keeps a runaway render out of a request.
MAX_LENGTH = 1_000_000
#: Header values shorter than this are not masked (``1``, ``yes``): masking them would
#: blank out every message they happen to appear in.
_MASKED_FROM = 4
#: The key ``check`` renders a body template with.
_CHECK_KEY = "crosspost-check"
#: What ``doctor`` renders a body template with: every field filled in.
_SAMPLE = RenderedPost(
    parts=("crosspost doctor: a sample post",),
    content_id="crosspost-doctor",
    title="crosspost doctor",
    link="https://example.org/crosspost-doctor",
    tags=("crosspost",),
)
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class WebhookConnector(HttpConnector[WebhookSettings]):
    """POSTs each post as JSON to one URL, signed per Standard Webhooks v1."""

    name: ClassVar[str] = "webhook"
    docs_url: ClassVar[str] = "https://www.standardwebhooks.com/"
    #: The text goes as the Markdown it was written in; the receiver decides what to make of it.
    text_format: ClassVar[TextFormat] = TextFormat.MARKDOWN
    limits: ClassVar[Limits] = Limits(max_length=MAX_LENGTH, unit="characters", max_media=100)
    capabilities: frozenset[Capability] = frozenset(
        {Capability.MEDIA, Capability.POLLS, Capability.IDEMPOTENCY_KEY}
    )

    Settings = WebhookSettings

    def _make_client(self) -> HttpClient:
        settings = self.settings
        secrets = [value for value in settings.headers.values() if len(value) >= _MASKED_FROM]
        if settings.secret is not None:
            secrets.append(settings.secret.get_secret_value())
        address = urlsplit(settings.url)
        # hook URLs often carry their token in the path or query: show only the host
        private = address.path + (f"?{address.query}" if address.query else "")
        if len(private) > 1:
            secrets.append(private)
        if address.password:
            secrets.append(address.password)
        return HttpClient(
            self.name,
            self.account,
            headers=dict(settings.headers),
            secrets=secrets,
            timeout=(5.0, settings.timeout),
            classify=self.classify,
        )

    def measure(self, text: str) -> int:
        """Code points of the text (the receiver decides what it takes)."""
        return len(text)

    @property
    def url_counting(self) -> UrlCounting:
        """Code points: a URL counts its characters, like any text."""
        return UrlCounting()

    def classify(self, response: requests.Response) -> Verdict | None:
        """A redirect is not followed (Standard Webhooks): the address must be the final one."""
        if 300 <= response.status_code < 400:
            moved = urlsplit(response.headers.get("Location", "")).hostname or "another address"
            message = (
                f"the receiver answered {response.status_code} (redirect to {moved}); "
                "put the final address in the account's url"
            )
            return Verdict(Outcome.REJECTED, message, response.status_code)
        return None

    def _check_options(self, post: RenderedPost) -> list[str]:
        """The body template renders this post to JSON."""
        template = self.settings.body()
        if template is None:
            return []
        try:
            template.render(self._variables(post, _CHECK_KEY))
        except BodyTemplateError as error:
            return [f"body_template {error}"]
        return []

    def diagnose(self) -> Diagnosis:
        """What can be known without sending: the body template renders, signing is set up.

        A webhook has nothing to read, and a request of any kind could run the
        receiver's flow, so nothing is sent: whether it answers shows at the first post.
        """
        settings, problems = self.settings, []
        template = settings.body()
        if template is not None:
            try:
                template.render(self._variables(_SAMPLE, "crosspost-doctor"))
            except BodyTemplateError as error:
                problems.append(f"body_template {error}")
        notes = ["nothing was sent: a webhook cannot be asked anything without posting to it"]
        if settings.secret is None:
            notes.append("requests are not signed (no secret): receivers cannot tell them apart")
        address = urlsplit(settings.url)
        if address.scheme == "http" and address.hostname not in _LOOPBACK:
            notes.append(f"plain http: posts and headers travel readable to {address.hostname}")
        return Diagnosis(
            identity=f"POST {origin(settings.url)}",
            problems=tuple(problems),
            notes=tuple(notes),
            details={
                "body": f"template {settings.body_template}"
                if settings.body_template
                else f"{EVENT_TYPE} payload",
                "signature": "Standard Webhooks v1" if settings.secret else "none",
            },
        )

    # -- publishing -----------------------------------------------------------

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        """One POST whose ``webhook-id`` is the publication's key (the receiver dedups).

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        key = part.idempotency_key
        body = self._body(post, key)
        response = self.http.request(
            "POST",
            self.settings.url,
            kind=Kind.KEYED_WRITE,
            data=body.encode("utf-8"),
            headers=self._headers(key, body),
            allow_redirects=False,
        )
        return self._published(response, key)

    def _body(self, post: RenderedPost, key: str) -> str:
        template = self.settings.body()
        if template is None:
            return dumps(payload(post, key, self.account, self.http.clock()))
        try:
            return template.render(self._variables(post, key))
        except BodyTemplateError as error:  # check() ran it already; a bound can still trip
            raise self.error(Rejected, f"body_template {error}") from None

    def _variables(self, post: RenderedPost, key: str) -> dict[str, object]:
        """The template's variables: the payload's ``data`` fields, and the payload itself."""
        event = payload(post, key, self.account, self.http.clock())
        return {
            **event["data"],
            "event": event["type"],
            "timestamp": event["timestamp"],
            "payload": event,
        }

    def _headers(self, key: str, body: str) -> dict[str, str]:
        timestamp = int(self.http.clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": key,
            "webhook-timestamp": str(timestamp),
        }
        secret = self.settings.secret
        if secret is not None:
            key_bytes = decode_secret(secret.get_secret_value())
            headers["webhook-signature"] = sign(key_bytes, key, timestamp, body)
        if self.settings.idempotency_header:
            headers[self.settings.idempotency_header] = key
        return headers

    def _published(self, response: requests.Response, key: str) -> Published:
        """The receiver's ``{"id", "url"}`` when it answers with them; else the key, no URL."""
        try:
            answer = response.json()
        except ValueError:
            answer = None
        remote_id, url = key, None
        if isinstance(answer, dict):
            given = answer.get("id")
            if isinstance(given, str | int) and not isinstance(given, bool) and str(given):
                remote_id = str(given)
            link = answer.get("url")
            if isinstance(link, str) and urlsplit(link).scheme in ("http", "https"):
                url = link
        return Published(
            remote_id=remote_id,
            url=url,
            published_at=self.http.clock(),
            extra={"webhook_id": key, "status": response.status_code},
        )
