"""What every connector checks before it sends anything: one overridable hook per rule."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, ClassVar

from connectors.values import Capability, Limits, RenderedPost
from crosspost.rendering.text import grapheme_length

if TYPE_CHECKING:
    from connectors.attachments import MediaItem
    from crosspost.rendering.urls import UrlCounting

__all__ = ["Checks"]


class Checks:
    """The checks of :class:`connectors.base.BaseConnector`, against its limits.

    ``check`` is not overridden; a connector overrides the hooks it needs
    (``_check_text``, ``_check_media``, ``_check_poll``, ``_check_options``) and
    calls ``super()`` to keep the shared rules.
    """

    # Declared here, set by the connector (defaults in BaseConnector).
    name: ClassVar[str]
    limits: ClassVar[Limits]
    capabilities: frozenset[Capability]

    # -- limits ---------------------------------------------------------------

    @property
    def effective_limits(self) -> Limits:
        """The limits in force for this account (an instance may raise the defaults)."""
        return self.limits

    def measure(self, text: str) -> int:
        """Length in grapheme clusters, the most common platform unit."""
        return grapheme_length(text)

    @property
    def counting_key(self) -> Hashable:
        """Equal for connectors whose :meth:`measure` counts every text alike.

        The renderer cuts a thread once per key and reuses it for every account that
        shares it. Plain grapheme counting is shared; a connector that overrides
        ``measure`` counts on its own unless it overrides this too.
        """
        if type(self).measure is Checks.measure:
            return ("graphemes",)
        return self.measure

    @property
    def url_counting(self) -> UrlCounting | None:
        """How :meth:`measure` counts URLs, so texts that differ only inside URLs share a
        cut (:class:`crosspost.rendering.urls.UrlCounting` says what declaring it promises).

        Plain grapheme counting counts a URL by its characters; a connector that overrides
        ``measure`` declares nothing (each text is cut on its own) unless it overrides this too.
        """
        from crosspost.rendering.urls import UrlCounting  # asked only to cut a text

        if type(self).measure is Checks.measure:
            return UrlCounting()
        return None

    def check(self, post: RenderedPost) -> list[str]:
        """Every reason this post would be refused, without sending anything.

        One hook per rule, each overridable on its own: ``_check_text``,
        ``_check_media``, ``_check_poll`` and ``_check_options``.
        """
        limits = self.effective_limits
        problems = self._check_text(post, limits)
        if len(post.parts) > 1 and Capability.THREADS not in self.capabilities:
            problems.append(f"{self.name} cannot publish threads")
        problems.extend(self._check_media(post, limits))
        problems.extend(self._check_poll(post, limits))
        problems.extend(self._check_options(post))
        return problems

    def _check_text(self, post: RenderedPost, limits: Limits) -> list[str]:
        """Each part against the text limit (the caption limit too when media go along)."""
        text_limit = limits.max_length
        if post.media and limits.max_caption_length:
            text_limit = min(text_limit, limits.max_caption_length)
        lengths = [self.measure(part) for part in post.parts]
        return [
            self._too_long(post, number, length, text_limit, limits.unit)
            for number, length in enumerate(lengths, start=1)
            if text_limit and length > text_limit
        ]

    def _too_long(
        self,
        post: RenderedPost,
        number: int,
        length: int,
        limit: int,
        unit: str,
        *,
        what: str = "text",
    ) -> str:
        """The one message for a part over a limit: ``part 2 text is 510 graphemes long …``."""
        label = f"part {number} " if len(post.parts) > 1 else ""
        return f"{label}{what} is {length} {unit} long (at most {limit} on {self.name})"

    def _check_options(self, post: RenderedPost) -> list[str]:
        """The platform's own ``options:`` and settings of the post; none by default."""
        return []

    def _check_media(self, post: RenderedPost, limits: Limits) -> list[str]:
        if not post.media:
            return []
        if limits.max_media == 0:
            return [f"{self.name} takes no media here"]
        problems = []
        if len(post.media) > limits.max_media:
            problems.append(
                f"{len(post.media)} media files (at most {limits.max_media} on {self.name})"
            )
        for item in post.media:
            problems.extend(self._check_media_item(item, limits))
        return problems

    def _check_media_item(self, item: MediaItem, limits: Limits) -> list[str]:
        problems = []
        if limits.media_types and item.mime_type not in limits.media_types:
            allowed = ", ".join(sorted(limits.media_types))
            problems.append(f"{item.path.name}: type {item.mime_type} (expected {allowed})")
        if limits.alt_text_required and not item.alt.strip():
            problems.append(f"{item.path.name}: alt text is missing")
        if limits.alt_text_max and grapheme_length(item.alt) > limits.alt_text_max:
            problems.append(
                f"{item.path.name}: alt text is longer than {limits.alt_text_max} characters"
            )
        try:
            size = item.path.stat().st_size
        except OSError:
            return [*problems, f"{item.path}: file not found"]
        if limits.max_media_bytes and size > limits.max_media_bytes:
            problems.append(f"{item.path.name}: {size} bytes (at most {limits.max_media_bytes})")
        return problems

    def _check_poll(self, post: RenderedPost, limits: Limits) -> list[str]:
        if post.poll is None:
            return []
        if Capability.POLLS not in self.capabilities:
            return [f"{self.name} has no polls"]
        problems = []
        options = post.poll.options
        if limits.max_poll_options and len(options) > limits.max_poll_options:
            problems.append(f"poll has {len(options)} options (at most {limits.max_poll_options})")
        longest = limits.max_poll_option_length
        for option in options:
            if longest and grapheme_length(option) > longest:
                problems.append(f"poll option {option!r} is longer than {longest}")
        return problems
