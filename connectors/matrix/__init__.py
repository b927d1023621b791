"""Matrix (client-server API, no SDK): HTML messages, images, threads, reactions, members.

API pages used:

- https://spec.matrix.org/v1.16/client-server-api/#put_matrixclientv3roomsroomidsendeventtypetxnid
  (transaction ids: a resend from the same device returns the first event's id)
- https://spec.matrix.org/v1.16/client-server-api/#mroommessage-msgtypes (``m.text``,
  ``org.matrix.custom.html``, ``m.image`` and its ``info``)
- https://spec.matrix.org/v1.16/client-server-api/#post_matrixmediav3upload
- https://spec.matrix.org/v1.16/client-server-api/#threading (``m.thread``,
  ``is_falling_back`` with ``m.in_reply_to`` for clients without threads)
- the reading half and the session: ``reading.py``, ``api.py``; answers: ``replies.py``

Checked against Synapse 1.163 (tests/realserver/test_matrix.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar

from connectors.attachments import MediaItem
from connectors.base import Capability, ConnectorSettings, Limits, RenderedPost
from connectors.errors import Rejected
from connectors.http import Kind
from connectors.images import image_size
from connectors.matrix.body import (
    MATRIX_HTML_TAGS,
    TEXT_BYTES,
    JsonObject,
    message_content,
    text_bytes,
    txn_id,
)
from connectors.matrix.doctor import MatrixDoctor
from connectors.matrix.replies import MatrixReplies
from connectors.matrix.settings import MatrixSettings
from connectors.results import Published, ThreadPart
from crosspost.rendering.markdown_forms import TextFormat

__all__ = ["MatrixConnector", "MatrixSettings", "txn_id"]

#: Synapse's default upload cap (``max_upload_size``); a server may set another.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class MatrixConnector(MatrixReplies, MatrixDoctor):
    """Posts to one Matrix room as one account (unencrypted rooms only)."""

    name: ClassVar[str] = "matrix"
    docs_url: ClassVar[str] = "https://spec.matrix.org/v1.16/client-server-api/"
    #: HTML in ``formatted_body``, with a plain ``body`` written from it.
    text_format: ClassVar[TextFormat] = TextFormat.HTML
    html_tags: ClassVar[frozenset[str]] = MATRIX_HTML_TAGS
    #: Synapse keeps a device's transaction ids for 24 hours, but its request cache
    #: and other servers' (Dendrite) for 30 minutes: the shorter, with a margin.
    idempotency_window: ClassVar[timedelta | None] = timedelta(minutes=25)
    limits: ClassVar[Limits] = Limits(
        max_length=TEXT_BYTES,
        unit="bytes",
        max_media=10,
        max_media_bytes=MAX_UPLOAD_BYTES,
        media_types=frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
    )
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.THREADS,
            Capability.MEDIA,
            Capability.IDEMPOTENCY_KEY,
            Capability.RECONCILE,
            Capability.DELETE,
            Capability.INBOX,
            Capability.REPLY,
            Capability.FOLLOWER_LIST,
        }
    )

    Settings = MatrixSettings

    @classmethod
    def capabilities_for(cls, settings: ConnectorSettings) -> frozenset[Capability]:
        """The class's abilities, and the room's ``/sync`` when ``inbox_stream`` is on."""
        if isinstance(settings, MatrixSettings) and settings.inbox_stream:
            return cls.capabilities | {Capability.INBOX_STREAM}
        return cls.capabilities

    def measure(self, text: str) -> int:
        """UTF-8 bytes of the HTML and of the plain body written from it, as JSON strings."""
        return text_bytes(text)

    # -- publishing -------------------------------------------------------------

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        """Send one message with the txn id of its key; the first part then its images."""
        # Asked before sending (once), so that nothing can fail once the message exists.
        self.room_id()
        self.server_name()
        content = message_content(part.text, self.settings.msgtype)
        if part.root is not None and part.reply_to is not None:
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": part.root.remote_id,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": part.reply_to.remote_id},
            }
        event_id = self.send_message(content, part.idempotency_key)
        sent_at = datetime.now(UTC)
        if part.index > 0 or not post.media:
            return self._published(event_id, sent_at)
        media = [
            self.send_message(self._image(item), f"{part.idempotency_key} media {number}")
            for number, item in enumerate(post.media)
        ]
        return self._published(event_id, sent_at, event_id=event_id, media_event_ids=media)

    def _image(self, item: MediaItem) -> JsonObject:
        """Upload one image (nothing shows until an event names it) and its ``m.image``."""
        try:
            data = item.path.read_bytes()
        except OSError as error:
            reason = f"{item.path.name}: cannot read the file ({error.strerror})"
            raise self.error(Rejected, reason) from None
        response = self._call(
            "POST",
            "/_matrix/media/v3/upload",
            kind=Kind.HARMLESS_WRITE,
            params={"filename": item.path.name},
            data=data,
            headers={"Content-Type": item.mime_type},
        )
        uri = self._text(
            self._json(response, Kind.HARMLESS_WRITE), "content_uri", Kind.HARMLESS_WRITE
        )
        info: dict[str, str | int] = {"mimetype": item.mime_type, "size": len(data)}
        size = image_size(data)
        if size and all(size):
            info.update(w=size[0], h=size[1])
        # No alt-text field exists: clients use the body as the image's alt. No
        # ``filename`` either: a body that differs from it is shown as a caption (v1.10).
        return {
            "msgtype": "m.image",
            "body": item.alt or item.path.name,
            "url": uri,
            "info": info,
        }
