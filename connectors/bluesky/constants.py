"""Bluesky's numbers, names and patterns, shared by the modules of the connector."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from connectors.bluesky.shapes import ByteSlice
from crosspost.rendering.text import utf8_length

POST_COLLECTION = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
#: Bytes one grapheme may take before the byte rule is the tighter one (3000 / 300).
_BYTES_PER_GRAPHEME = MAX_BYTES // MAX_GRAPHEMES
#: ``app.bsky.embed.images#image`` maxSize since April 2026 (was 1,000,000).
MAX_IMAGE_BYTES = 2_000_000
#: Notification reasons that are member-written content about us.
INBOX_REASONS = ("mention", "reply", "quote")
#: Pages of notifications (50 each) and of followers (100 each) read per call.
INBOX_PAGES = 5
#: ``app.bsky.feed.getPosts`` takes at most 25 ``uris``.
GET_POSTS_BATCH = 25
#: Self-label values the Bluesky app shows as content warnings.
SELF_LABELS = frozenset({"sexual", "nudity", "porn", "graphic-media"})
#: XRPC error names that mean "this session token is no good, get another one".
_RENEW = frozenset({"ExpiredToken", "InvalidToken"})
_NOT_FOUND = frozenset({"RecordNotFound", "InvalidRequest"})

_S32 = "234567abcdefghijklmnopqrstuvwxyz"
_TID_EPOCH_US = 1_672_531_200_000_000  # 2023-01-01T00:00:00Z
_TID_SPAN_BITS = 45  # about 13 months of microseconds: every derived TID lies in the past
_HANDLE_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*$")
_DID_RE = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]+$")
_APP_PASSWORD_RE = re.compile(r"^[a-z0-9]{4}(?:-[a-z0-9]{4}){3}$")
_AT_URI_RE = re.compile(r"^at://(?P<repo>[^/]+)/(?P<collection>[^/]+)/(?P<rkey>[^/]+)$")


def rkey_for(idempotency_key: str) -> str:
    """A valid TID record key derived from ``idempotency_key`` alone.

    Every attempt of one publication writes to the same record key, and a repo
    holds one record per key, so a resend cannot make a second post. The time
    part is drawn from a past window, never the future.
    """
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode("utf-8")).digest()[:8], "big")
    micros = _TID_EPOCH_US + ((digest >> 10) & ((1 << _TID_SPAN_BITS) - 1))
    value = (micros << 10) | (digest & 0x3FF)
    return "".join(_S32[(value >> (5 * shift)) & 31] for shift in range(12, -1, -1))


def _byte_slice(text: str, start: int, end: int) -> ByteSlice:
    """UTF-8 byte offsets of the code point slice ``text[start:end]``."""
    byte_start = utf8_length(text[:start])
    return {"byteStart": byte_start, "byteEnd": byte_start + utf8_length(text[start:end])}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
