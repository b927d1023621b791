"""What the mock server remembers: accounts, statuses, media, idempotency keys, requests.

Behaviour follows the Mastodon API pages (values are the mock's own):

- https://docs.joinmastodon.org/methods/statuses/ (post, get, delete; ``Idempotency-Key``)
- https://docs.joinmastodon.org/methods/media/
- https://docs.joinmastodon.org/methods/accounts/ (verify_credentials, statuses)

Like Mastodon's PostStatusService, an idempotency key is remembered per account
for one hour and a repeat returns the status it created. Every token belongs to
its own account, so keys are effectively per token.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from tests.mockplatform.entities import (
    SUPPORTED_MIME_TYPES,
    Account,
    IdMaker,
    Media,
    Status,
    account_json,
    media_json,
    status_json,
    status_length,
)
from tests.mockplatform.notifications import Notification, mentioned, notification_json, page

__all__ = ["ApiError", "MastodonState", "RecordedRequest"]

IDEMPOTENCY_TTL = 3600.0
MAX_MEDIA = 4
DESCRIPTION_LIMIT = 1500
VISIBILITIES = ("public", "unlisted", "private", "direct")
NOT_FOUND = "Record not found"


class ApiError(Exception):
    """An API error answer: ``status`` with ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class RecordedRequest:
    """One request as the server saw it (the ``Authorization`` header left out).

    ``headers`` keys are lower-case. ``form`` holds the decoded body: form fields
    (``media_ids[]`` as a list), a JSON object, or multipart fields with files as
    ``{filename, content_type, size}``. ``status`` is the answer's HTTP status,
    ``None`` while pending or when the connection was dropped.
    """

    method: str
    path: str
    query: dict[str, Any]
    headers: dict[str, str]
    form: dict[str, Any]
    time: float
    status: int | None = None
    fault: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return asdict(self)


def field(form: Mapping[str, Any], name: str) -> str | None:
    """A single form value (the last one if repeated)."""
    value = form.get(name)
    if isinstance(value, list):
        value = value[-1] if value else None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_list(form: Mapping[str, Any], name: str) -> list[str]:
    """A list field, sent as ``name[]`` (form) or ``name`` (JSON)."""
    value = form.get(f"{name}[]", form.get(name))
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values]


def truthy(value: str | None) -> bool:
    """Rails' reading of a boolean parameter."""
    return value is not None and value.lower() in ("1", "true", "t", "on", "yes")


class MastodonState:
    """Thread-safe store; one lock guards everything so checks and writes are atomic."""

    def __init__(self, tokens: Iterable[str], base_url: str, max_characters: int = 500) -> None:
        self.base_url = base_url
        self.max_characters = max_characters
        self._lock = threading.RLock()
        #: Told of each new notification (the streaming endpoint waits on it).
        self._notified = threading.Condition(self._lock)
        self._ids = IdMaker()
        self._accounts: dict[str, Account] = {}
        for number, token in enumerate(tokens, start=1):
            name = "crosspost_mock" if number == 1 else f"crosspost_mock{number}"
            self._accounts[token] = Account(self._ids.next(), name, datetime.now(UTC))
        self.reset()

    def reset(self) -> None:
        """Forget statuses, media, keys and requests; accounts and tokens stay."""
        with self._lock:
            self._statuses: dict[str, Status] = {}
            #: Statuses per account id, kept as Mastodon keeps ``statuses_count``: counting
            #: them at each request made every request slower than the one before it.
            self._counts: Counter[str] = Counter()
            self._media: dict[str, Media] = {}
            self._keys: dict[tuple[str, str], tuple[str, float]] = {}
            self._requests: list[RecordedRequest] = []
            self._notifications: list[Notification] = []
            for account in self._accounts.values():
                account.followers_count = account.following_count = 0

    # -- accounts -------------------------------------------------------------

    def account_for(self, token: str | None) -> Account | None:
        """The account a bearer token belongs to."""
        return self._accounts.get(token) if token else None

    def account_by_id(self, account_id: str) -> Account:
        """An account by id; 404 if unknown."""
        for account in self._accounts.values():
            if account.id == account_id:
                return account
        raise ApiError(404, NOT_FOUND)

    def account_view(self, account: Account) -> dict[str, Any]:
        """The Account entity with a live ``statuses_count``."""
        with self._lock:
            return account_json(account, self.base_url, self._counts[account.id])

    def set_followers(self, token: str, followers: int, following: int | None = None) -> None:
        """Set the counts ``verify_credentials`` reports for the token's account."""
        with self._lock:
            account = self._accounts[token]
            account.followers_count = followers
            if following is not None:
                account.following_count = following

    # -- statuses -------------------------------------------------------------

    def view(self, status: Status, *, source: bool = False) -> dict[str, Any]:
        """The Status entity for a stored status."""
        with self._lock:
            account = self.account_view(self.account_by_id(status.account_id))
            media = [media_json(self._media[m], self.base_url) for m in status.media_ids]
            body = status_json(status, account, media, self.base_url, source=source)
            named = (self.account_by_id(i) for i in status.mentions)
            body["mentions"] = [
                {
                    "id": a.id,
                    "username": a.username,
                    "acct": a.username,
                    "url": f"{self.base_url}/@{a.username}",
                }
                for a in named
            ]
            return body

    def post_status(
        self, account: Account, form: Mapping[str, Any], key: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Create a status (or find the one made with ``key``); returns (entity, created)."""
        with self._lock:
            if key:
                known = self._keys.get((account.id, key))
                if known and known[1] > time.monotonic():
                    return self.view(self.get_status(known[0])), False
            status = self._new_status(account, form)
            self._statuses[status.id] = status
            self._counts[account.id] += 1
            for media_id in status.media_ids:
                self._media[media_id].status_id = status.id
            if status.in_reply_to_id:
                self._statuses[status.in_reply_to_id].replies_count += 1
            if key:
                status.idempotency_key = key
                self._keys[(account.id, key)] = (status.id, time.monotonic() + IDEMPOTENCY_TTL)
            self._notify(status)
            return self.view(status), True

    def _notify(self, status: Status) -> None:
        host = self.base_url.split("://", 1)[-1]
        for account in mentioned(status.text, self._accounts.values(), host):
            status.mentions.append(account.id)
            if account.id != status.account_id:
                note = Notification(
                    self._ids.next(), account.id, "mention", status.id, status.created_at
                )
                self._notifications.append(note)
                self._notified.notify_all()

    def notification_mark(self) -> int:
        """A mark for :meth:`wait_notifications`: the notifications so far."""
        with self._lock:
            return len(self._notifications)

    def wait_notifications(
        self, account: Account, mark: int, timeout: float
    ) -> tuple[list[dict[str, Any]], int]:
        """``account``'s notifications after ``mark`` (waiting up to ``timeout`` seconds
        for one), oldest first, and the new mark."""
        with self._lock:
            self._notified.wait_for(lambda: len(self._notifications) > mark, timeout)
            new = [n for n in self._notifications[mark:] if n.account_id == account.id]
            found = []
            for note in new:
                status = self._statuses.get(note.status_id)
                if status is not None:
                    found.append(notification_json(note, self.view(status)))
            return found, len(self._notifications)

    def notifications(
        self,
        account: Account,
        types: list[str],
        since_id: str | None,
        max_id: str | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """``account``'s notifications, newest first (those of deleted statuses left out)."""
        with self._lock:
            mine = [n for n in self._notifications if n.account_id == account.id]

            def view(note: Notification) -> dict[str, Any] | None:
                status = self._statuses.get(note.status_id)
                return notification_json(note, self.view(status)) if status else None

            return page(mine, view, types=types, since_id=since_id, max_id=max_id, limit=limit)

    def _new_status(self, account: Account, form: Mapping[str, Any]) -> Status:
        text = field(form, "status") or ""
        spoiler = field(form, "spoiler_text") or ""
        media_ids = field_list(form, "media_ids")
        self._check_status(account, text, spoiler, media_ids, form)
        parent_id = field(form, "in_reply_to_id")
        parent = self._statuses.get(parent_id) if parent_id else None
        return Status(
            id=self._ids.next(),
            account_id=account.id,
            text=text,
            spoiler_text=spoiler,
            visibility=field(form, "visibility") or "public",
            sensitive=truthy(field(form, "sensitive")) or bool(spoiler),
            language=field(form, "language") or "en",
            created_at=datetime.now(UTC),
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_account_id=parent.account_id if parent else None,
            media_ids=media_ids,
        )

    def _check_status(
        self,
        account: Account,
        text: str,
        spoiler: str,
        media_ids: list[str],
        form: Mapping[str, Any],
    ) -> None:
        if field(form, "scheduled_at"):
            raise ApiError(422, "scheduled_at is not supported by the mock server")
        parent_id = field(form, "in_reply_to_id")
        if parent_id and parent_id not in self._statuses:
            raise ApiError(404, "The post you are trying to reply to does not appear to exist.")
        if (field(form, "visibility") or "public") not in VISIBILITIES:
            raise ApiError(422, "Validation failed: Visibility is not included in the list")
        if len(media_ids) > MAX_MEDIA:
            raise ApiError(422, f"Cannot attach more than {MAX_MEDIA} files")
        for media_id in media_ids:
            media = self._media.get(media_id)
            if media is None or media.account_id != account.id or media.status_id is not None:
                raise ApiError(422, f"Media {media_id} not found or already attached to a post")
        if not text.strip() and not media_ids:
            raise ApiError(422, "Validation failed: Text can't be blank")
        if status_length(text, spoiler) > self.max_characters:
            raise ApiError(
                422, f"Validation failed: Text character limit of {self.max_characters} exceeded"
            )

    def get_status(self, status_id: str) -> Status:
        """A stored status; 404 ``Record not found`` if unknown or deleted."""
        with self._lock:
            status = self._statuses.get(status_id)
            if status is None:
                raise ApiError(404, NOT_FOUND)
            return status

    def delete_status(self, account: Account, status_id: str, delete_media: bool) -> dict[str, Any]:
        """Delete one of ``account``'s statuses; returns it with its source ``text``."""
        with self._lock:
            status = self.get_status(status_id)
            if status.account_id != account.id:
                raise ApiError(404, NOT_FOUND)
            body = self.view(status, source=True)
            del self._statuses[status_id]
            self._counts[account.id] -= 1
            if delete_media:
                for media_id in status.media_ids:
                    self._media.pop(media_id, None)
            return body

    def account_statuses(
        self, account_id: str, limit: int, max_id: str | None, since_id: str | None
    ) -> list[dict[str, Any]]:
        """Newest first, at most ``limit``, strictly between ``since_id`` and ``max_id``."""
        with self._lock:
            self.account_by_id(account_id)
            mine = [s for s in self._statuses.values() if s.account_id == account_id]
            mine.sort(key=lambda s: int(s.id), reverse=True)
            if max_id:
                mine = [s for s in mine if int(s.id) < int(max_id)]
            if since_id:
                mine = [s for s in mine if int(s.id) > int(since_id)]
            return [self.view(s) for s in mine[:limit]]

    def set_counts(self, status_id: str, **counts: int) -> None:
        """Set ``favourites``, ``reblogs``, ``replies`` or ``quotes`` counts of a status."""
        with self._lock:
            status = self.get_status(status_id)
            for name, value in counts.items():
                if name not in ("favourites", "reblogs", "replies", "quotes"):
                    raise ValueError(f"no count named {name!r}")
                setattr(status, f"{name}_count", value)

    def all_statuses(self) -> list[dict[str, Any]]:
        """Every stored status, oldest first."""
        with self._lock:
            ordered = sorted(self._statuses.values(), key=lambda s: int(s.id))
            return [self.view(s) | {"idempotency_key": s.idempotency_key} for s in ordered]

    # -- media ----------------------------------------------------------------

    def add_media(self, account: Account, form: Mapping[str, Any]) -> dict[str, Any]:
        """Store an upload (always processed at once: 200 with ``url`` set)."""
        upload = form.get("file")
        if not isinstance(upload, dict):
            raise ApiError(422, "Validation failed: File can't be blank")
        content_type = str(upload.get("content_type") or "application/octet-stream")
        if content_type not in SUPPORTED_MIME_TYPES:
            raise ApiError(422, "Validation failed: File content type is invalid")
        description = field(form, "description")
        if description and len(description) > DESCRIPTION_LIMIT:
            raise ApiError(422, "Validation failed: Description is too long")
        media = Media(
            id=self._ids.next(),
            account_id=account.id,
            kind=content_type.split("/", 1)[0],
            content_type=content_type,
            size=int(upload.get("size", 0)),
            description=description,
            focus=_focus(field(form, "focus")),
        )
        with self._lock:
            self._media[media.id] = media
        return media_json(media, self.base_url)

    def get_media(self, account: Account, media_id: str) -> dict[str, Any]:
        """An unattached upload of ``account`` (Mastodon hides attached ones: 404)."""
        with self._lock:
            media = self._media.get(media_id)
            if media is None or media.account_id != account.id or media.status_id:
                raise ApiError(404, NOT_FOUND)
            return media_json(media, self.base_url)

    def all_media(self) -> list[dict[str, Any]]:
        """Every stored upload."""
        with self._lock:
            return [media_json(m, self.base_url) for m in self._media.values()]

    # -- requests -------------------------------------------------------------

    def record(self, request: RecordedRequest) -> None:
        """Append a request to the record."""
        with self._lock:
            self._requests.append(request)

    def requests(self) -> list[RecordedRequest]:
        """The requests so far, in arrival order (a copy)."""
        with self._lock:
            return [RecordedRequest(**asdict(r)) for r in self._requests]


def _focus(value: str | None) -> tuple[float, float] | None:
    if not value:
        return None
    try:
        x, y = (float(v) for v in value.split(","))
    except ValueError:
        raise ApiError(422, "Validation failed: focus must be two numbers, x,y") from None
    if not (-1 <= x <= 1 and -1 <= y <= 1):
        raise ApiError(422, "Validation failed: focus values must be within -1..1")
    return (x, y)
