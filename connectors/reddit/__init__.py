"""Reddit: text and link posts to one subreddit as the user of a "script" app.

API pages used:

- https://github.com/reddit-archive/reddit/wiki/OAuth2 (script apps, password grant)
- https://github.com/reddit-archive/reddit/wiki/API (User-Agent, ``X-Ratelimit-*``)
- https://www.reddit.com/dev/api/#POST_api_submit (``kind``, ``sr``, ``title`` ≤ 300,
  ``text``, ``url``, ``flair_id``, ``flair_text``, ``sendreplies``, ``nsfw``,
  ``spoiler``, ``resubmit``, ``api_type=json``)
- https://www.reddit.com/dev/api/#POST_api_comment, #POST_api_del, #GET_api_info,
  #GET_api_v1_me, #GET_user_{username}_{where}, #GET_message_{where}, #GET_r_{subreddit}_about
- Limits and error codes: ``r2/r2/lib/errors.py``, ``VTitle``, ``VMarkdownLength`` and
  ``Link.SELFTEXT_MAX_LENGTH`` in https://github.com/reddit-archive/reddit

Reddit takes no idempotency key: a submission whose answer was lost is ``Unknown`` and is
looked for among the user's newest submissions (see ``docs/connectors/reddit.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pydantic import ValidationError

from connectors.base import (
    Capability,
    ConnectorSettings,
    ConnectorState,
    Extra,
    InboxItem,
    Limits,
    Published,
    Rejected,
    RenderedPost,
    ThreadPart,
)
from connectors.http import Kind
from connectors.reddit.answers import (
    WEB_URL,
    Comment,
    Submitted,
    comparable,
    created,
    envelope_data,
    fullname,
    parse_all,
    web_url,
)
from connectors.reddit.doctor import RedditDoctor
from connectors.reddit.reading import Attempt
from connectors.reddit.settings import KINDS, RedditSettings
from crosspost.rendering.markdown_forms import TextFormat
from crosspost.rendering.urls import UrlCounting

__all__ = ["COMMENT_MAX", "TITLE_MAX", "RedditConnector", "RedditSettings"]

#: ``VTitle``: at most 300 characters.
TITLE_MAX = 300
#: ``Link.SELFTEXT_MAX_LENGTH``: the body of a post.
BODY_MAX = 40_000
#: ``VMarkdownLength`` of ``/api/comment``.
COMMENT_MAX = 10_000
_BOOLEAN_OPTIONS = ("nsfw", "spoiler", "send_replies", "resubmit")
_TEXT_OPTIONS = ("flair_id", "flair_text")
_OPTIONS = frozenset({"kind", *_BOOLEAN_OPTIONS, *_TEXT_OPTIONS})


class RedditConnector(RedditDoctor):
    """Submits self and link posts to one subreddit; scores, karma, replies and mentions."""

    name: ClassVar[str] = "reddit"
    docs_url: ClassVar[str] = "https://www.reddit.com/dev/api/#POST_api_submit"
    #: Reddit renders Markdown in posts and comments: the body goes as written.
    text_format: ClassVar[TextFormat] = TextFormat.MARKDOWN
    limits: ClassVar[Limits] = Limits(max_length=BODY_MAX, unit="characters")
    capabilities: frozenset[Capability] = frozenset(
        {Capability.RECONCILE, Capability.DELETE, Capability.INBOX, Capability.REPLY}
    )

    Settings = RedditSettings

    def __init__(
        self, account: str, settings: ConnectorSettings, state: ConnectorState | None = None
    ) -> None:
        super().__init__(account, settings, state)
        self.attempts = {}

    def measure(self, text: str) -> int:
        """Code points, as Reddit's validators count (``len`` of the text sent)."""
        return len(text)

    @property
    def url_counting(self) -> UrlCounting:
        """Code points: a URL counts its characters, like any text."""
        return UrlCounting()

    # -- checks ---------------------------------------------------------------

    def _check_text(self, post: RenderedPost, limits: Limits) -> list[str]:
        """The body against 40,000 characters, and the title: present, at most 300."""
        problems = super()._check_text(post, limits)
        title = _title(post)
        if not title:
            problems.append(
                "a Reddit post needs a title: set title: in the content "
                "(or overrides: {reddit: {title: …}})"
            )
        elif len(title) > TITLE_MAX:
            problems.append(
                self._too_long(post, 1, len(title), TITLE_MAX, "characters", what="title")
            )
        return problems

    def _check_media(self, post: RenderedPost, limits: Limits) -> list[str]:
        if not post.media or self.settings.ignore_media:
            return []
        return [
            "reddit takes no media here: leave them out for reddit "
            "(overrides: {reddit: {media: []}}) or set ignore_media: true on the account"
        ]

    def _check_options(self, post: RenderedPost) -> list[str]:
        """The ``reddit`` options of a post: known names, the right types, a link for links."""
        options = post.options
        problems = [
            f"unknown reddit option {name!r} (expected one of: {', '.join(sorted(_OPTIONS))})"
            for name in options
            if name not in _OPTIONS
        ]
        problems += [
            f"reddit option {name} must be true or false"
            for name in _BOOLEAN_OPTIONS
            if name in options and not isinstance(options[name], bool)
        ]
        problems += [
            f"reddit option {name} must be text"
            for name in _TEXT_OPTIONS
            if name in options and not (isinstance(options[name], str) and options[name])
        ]
        kind = options.get("kind", self.settings.kind)
        if kind not in KINDS:
            problems.append(f"reddit option kind must be self or link, not {kind!r}")
        elif kind == "link" and not post.link:
            problems.append("a reddit link post needs a link: in the content")
        return problems

    # -- publishing -----------------------------------------------------------

    def _publish_part(self, post: RenderedPost, part: ThreadPart) -> Published:
        """``POST /api/submit``: a self or link post; nothing stops a resend from doubling it.

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        form = self._submission(post, part.text)
        self.attempts[part.idempotency_key] = Attempt(
            title=form["title"],
            subreddit=self.settings.subreddit,
            kind=form["kind"],
            url=form.get("url"),
            started=self.http.clock(),
        )
        kind = Kind.PUBLISHING_WRITE
        body = self._api_json("POST", "/api/submit", kind, data=form)
        try:
            submitted = Submitted.model_validate(envelope_data(body))
        except ValidationError:
            raise self.http.unreadable("Reddit's answer has no post name or URL", kind) from None
        return Published(
            remote_id=submitted.name,
            url=submitted.url,
            published_at=self.http.clock(),
            extra={"subreddit": self.settings.subreddit, "kind": form["kind"]},
        )

    def _submission(self, post: RenderedPost, text: str) -> dict[str, str]:
        """The form of ``/api/submit`` for ``post``: account settings, then its options."""
        settings, options = self.settings, post.options

        def flag(name: str, default: bool) -> str:
            return "true" if options.get(name, default) else "false"

        kind = str(options.get("kind", settings.kind))
        form = {
            "api_type": "json",
            "sr": settings.subreddit,
            "kind": kind,
            "title": _title(post),
            "sendreplies": flag("send_replies", settings.send_replies),
            "nsfw": flag("nsfw", settings.nsfw),
            # a content warning hides the post as a spoiler: Reddit's nearest thing
            "spoiler": flag("spoiler", settings.spoiler or bool(post.content_warning)),
            "resubmit": flag("resubmit", settings.resubmit),
        }
        if text.strip():
            form["text"] = text
        if kind == "link" and post.link:
            form["url"] = post.link
        form.update(_flair(options, settings))
        return form

    def comment(self, remote_id: str, text: str) -> Published:
        """Comment under the post ``remote_id`` (or answer the comment, for a ``t1_`` id).

        ``POST /api/comment`` with ``thing_id``; Markdown as written, at most 10,000
        characters. Like a submission, a comment whose answer was lost may exist.

        Raises:
            AuthError, RateLimited, Rejected, Transient, Unknown.
        """
        if not text.strip():
            raise self.error(Rejected, "a Reddit comment needs text")
        if len(text) > COMMENT_MAX:
            raise self.error(
                Rejected, f"comment is {len(text)} characters long (at most {COMMENT_MAX})"
            )
        parent = fullname(remote_id)
        form = {"api_type": "json", "thing_id": parent, "text": text}
        kind = Kind.PUBLISHING_WRITE
        body = self._api_json("POST", "/api/comment", kind, data=form)
        data = envelope_data(body) or {}
        found = parse_all(Comment, [t["data"] for t in data.get("things") or [] if _is_t1(t)])
        if not found:
            raise self.http.unreadable("Reddit's answer has no comment", kind)
        comment = found[0]
        url = web_url(comment.permalink) or (
            f"{WEB_URL}/r/{comment.subreddit}/comments/{comment.link_id.removeprefix('t3_')}"
            f"/_/{comment.id}/"
        )
        return Published(
            remote_id=comment.name,
            url=url,
            published_at=created(comment),
            thread_ids=(comment.name,),
            extra={"parent": parent},
        )

    def reply_post(self, item: InboxItem, post: RenderedPost) -> RenderedPost:
        """The post as written: Reddit tells the member their comment was answered."""
        return post

    def reply(self, item: InboxItem, post: RenderedPost, idempotency_key: str) -> Published:
        """Answer a member's comment or mention with a comment under it (:meth:`comment`).

        Raises:
            Rejected: the answer is empty, over 10,000 characters, or the comment is gone.
            AuthError, RateLimited, Transient, Unknown.
        """
        if len(post.parts) != 1:
            raise self.error(Rejected, "a reply is one comment")
        return self.comment(item.remote_id, post.text)

    def delete(self, remote_id: str, extra: Extra | None = None) -> None:
        """``POST /api/del``; Reddit answers the same for a post that is already gone.

        Raises:
            AuthError, RateLimited, Rejected, Transient.
        """
        self._api("POST", "/api/del", Kind.HARMLESS_WRITE, data={"id": fullname(remote_id)})


def _title(post: RenderedPost) -> str:
    """The title as Reddit keeps it: whitespace runs made one space, ends stripped."""
    return comparable(post.title)


def _flair(options: Mapping[str, object], settings: RedditSettings) -> dict[str, str]:
    flair = {}
    for name in _TEXT_OPTIONS:
        value = options.get(name, getattr(settings, name))
        if isinstance(value, str) and value:
            flair[name] = value
    return flair


def _is_t1(thing: object) -> bool:
    return (
        isinstance(thing, dict)
        and thing.get("kind") == "t1"
        and isinstance(thing.get("data"), dict)
    )
