"""Publishing in two steps through media containers (Instagram and Threads).

A container is created (``POST /{user}/<edge>``: nothing shows yet, and an
unpublished one expires after 24 hours), polled until its status is
``FINISHED``, then published (``POST /{user}/<publish edge>``): only that last
request may have published anything. Images are not uploaded: Meta fetches
each from a public URL, built from the account's ``media_base_url`` and the
path the content wrote.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, TypeVar

from connectors.base import (
    ConnectorError,
    MediaItem,
    Published,
    Rejected,
    RenderedPost,
    Transient,
)
from connectors.graph.base import GraphConnector
from connectors.graph.payloads import media_url
from connectors.graph.settings import MediaByUrl
from connectors.http import Kind, WaitingConnector

__all__ = ["RECENT_WINDOW", "ContainerConnector"]

#: How far back ``find_recent`` looks: an unpublished container expires after 24 hours.
RECENT_WINDOW = timedelta(hours=24)

MediaSettingsT = TypeVar("MediaSettingsT", bound=MediaByUrl)


class ContainerConnector(GraphConnector[MediaSettingsT], WaitingConnector[MediaSettingsT]):
    """A Meta connector that publishes through containers, waiting until each is ready.

    Built as a :class:`~connectors.http.WaitingConnector` (``sleep``, ``poll_attempts``,
    ``poll_interval``); Threads keeps its refreshed token in the state.
    """

    #: Edges of the account: where containers are made, and where they are published.
    container_edge: ClassVar[str] = ""
    publish_edge: ClassVar[str] = ""
    #: The permission creating and publishing need.
    publish_permission: ClassVar[str] = ""
    #: The field the text goes in (``text`` on Threads, ``caption`` on Instagram).
    caption_field: ClassVar[str] = ""
    #: The container status field (``status`` on Threads, ``status_code`` on Instagram)
    #: and the field that explains a failed container.
    container_status_field: ClassVar[str] = "status"
    container_error_field: ClassVar[str] = "error_message"
    poll_interval_default: ClassVar[float] = 3.0

    def _owner(self) -> str:
        """The id of the account the edges belong to."""
        raise NotImplementedError

    # -- steps ----------------------------------------------------------------

    def _create_container(self, fields: dict[str, str], needs: str = "") -> str:
        """Create one container; its id."""
        kind = Kind.HARMLESS_WRITE
        body = self._object(
            "POST",
            f"{self._owner()}/{self.container_edge}",
            kind,
            data=fields,
            needs=needs or self.publish_permission,
        )
        return self._id(body, kind, "container")

    def _media_container(self, post: RenderedPost, text: str) -> str:
        """One image container with the text, or a carousel of item containers."""
        if len(post.media) == 1:
            return self._create_container(
                {**self._image_fields(post.media[0]), self.caption_field: text}
            )
        children = [
            self._create_container({**self._image_fields(item), "is_carousel_item": "true"})
            for item in post.media
        ]
        for child in children:
            self._wait_until_finished(child)
        carousel = {"media_type": "CAROUSEL", "children": ",".join(children)}
        return self._create_container({**carousel, self.caption_field: text})

    def _image_fields(self, item: MediaItem) -> dict[str, str]:
        """``image_url`` (and ``alt_text``) of one image."""
        url = media_url(self.settings.media_base_url, item)
        assert url is not None, "check refuses media without a URL"
        fields = {"image_url": url}
        if item.alt:
            fields["alt_text"] = item.alt
        return fields

    def _wait_until_finished(self, container_id: str) -> None:
        """Poll the container until it is ``FINISHED`` (a bounded number of times).

        Raises:
            Rejected: Meta could not make the container (``ERROR``, ``EXPIRED``).
            Transient: still ``IN_PROGRESS`` after the last check; nothing was published.
        """
        field, detail = self.container_status_field, self.container_error_field
        for attempt in range(self.poll_attempts):
            if attempt:
                self.sleep(self.poll_interval)
            body = self._object(
                "GET", container_id, Kind.READ, params={"fields": f"{field},{detail}"}
            )
            status = body.get(field)
            if status == "FINISHED":
                return
            if status in ("ERROR", "EXPIRED"):
                why = body.get(detail) or status
                raise self.error(Rejected, f"Meta could not prepare the post: {why}")
        raise self.error(Transient, "Meta is still preparing the post; nothing was published yet")

    def _publish_container(self, container_id: str) -> Published:
        """Wait for the container, then publish it: the one request that publishes."""
        self._wait_until_finished(container_id)
        kind = Kind.PUBLISHING_WRITE
        body = self._object(
            "POST",
            f"{self._owner()}/{self.publish_edge}",
            kind,
            data={"creation_id": container_id},
            needs=self.publish_permission,
        )
        media_id = self._id(body, kind, "post")
        return Published(
            remote_id=media_id,
            url=self._permalink(media_id),
            published_at=self.http.clock(),
            extra={"container_id": container_id},
        )

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        """The account's post of the last 24 hours whose text reads ``text``.

        Meta takes no idempotency key; the text, and that the post is recent, is the
        evidence. A container that was never published expires within that window.
        """
        return self._find_in_recent(
            f"{self._owner()}/{self.container_edge}",
            text,
            (self.caption_field, "timestamp", "permalink"),
            window=RECENT_WINDOW,
            params={"since": self._since(RECENT_WINDOW), "limit": "50"},
        )

    def _permalink(self, media_id: str) -> str | None:
        """The post's URL; None when it cannot be read (the post is out, that is what counts)."""
        try:
            body = self._object("GET", media_id, Kind.READ, params={"fields": "permalink"})
        except ConnectorError as error:
            self.log.warning("published %s but could not read its URL: %s", media_id, error)
            return None
        url = body.get("permalink")
        return url if isinstance(url, str) and url else None
