"""What a template renders with, and the fields of a post that come from the item itself.

A template sees the item's variables (:meth:`ContentItem.template_variables`) and
those of :func:`template_context`: the body and summary rendered for the target's
text form, the link tagged for the target (``utm_source=<platform>``,
``utm_campaign=<entry>``, ``utm_content=<id>``), and the target itself. An article
goes out whole on a long-form platform and is announced elsewhere: an announcement
links to the article's canonical URL, else to where the article went out, else to
its ``link`` (:mod:`crosspost.rendering.articles`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crosspost.loading.content_item import ContentItem
from crosspost.rendering.filters import tagged
from crosspost.rendering.markdown import Formatted, first_paragraph, render_markdown
from crosspost.rendering.markdown_forms import OutputForm
from crosspost.rendering.markup import unmark
from crosspost.rendering.target import Target

if TYPE_CHECKING:  # imported where one is made: most posts carry no media and no article
    from connectors.attachments import ArticleFields, MediaItem

__all__ = ["PLAIN", "article_fields", "media_items", "post_link", "template_context"]

#: Plain text: the form of a render that names none.
PLAIN = OutputForm()


def template_context(
    item: ContentItem, target: Target, form: OutputForm, whole: bool
) -> dict[str, Any]:
    """The variables a template of ``item`` renders with for ``target``, besides the item's.

    ``whole``: an article goes out whole; otherwise an article is announced.
    """
    summary = item.summary or first_paragraph(item.body)
    announced = _announced(item, target) if item.is_article else None
    link = _link(item, target, announced if not whole else None)
    return {
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "body": Formatted(render_markdown(item.body, form)),
        "body_markdown": item.body,
        "summary": Formatted(render_markdown(summary, form)),
        "text_format": form.format.value,
        "link": link,
        "raw_link": item.link,
        "canonical_url": item.canonical_url,
        #: The untagged address an announcement of an article points to.
        "article_url": announced,
        "cover": item.cover.model_dump(mode="json") if item.cover else None,
        "tags": list(item.tags),
        "media": [m.model_dump(mode="json") for m in item.media],
        "vars": _frozen(item.vars),
        "platform": target.platform,
        "account": target.account,
        "entry": target.entry,
        "occurrence": target.occurrence,
    }


def post_link(item: ContentItem, target: Target, whole: bool) -> str | None:
    """``RenderedPost.link``: an article's own address is its canonical URL, untagged."""
    if not item.is_article:
        return _link(item, target)
    if whole:
        return item.canonical_url or _link(item, target)
    return _link(item, target, _announced(item, target))


def article_fields(item: ContentItem, base_dir: Path) -> ArticleFields:
    """The fields of an article besides its body, for a long-form platform."""
    from connectors.attachments import ArticleFields, Cover

    summary = item.summary or first_paragraph(item.body)
    cover = item.cover
    return ArticleFields(
        summary=unmark(render_markdown(summary, PLAIN)).text,
        canonical_url=item.canonical_url,
        cover=Cover(
            alt=cover.alt,
            path=_item_path(item, cover.path, base_dir) if cover.path else None,
            url=cover.url,
            mime_type=cover.mime_type,
        )
        if cover
        else None,
        tags=tuple(item.tags),
    )


def media_items(item: ContentItem, base_dir: Path) -> tuple[MediaItem, ...]:
    """The media of ``item``, their paths resolved next to its file (or ``base_dir``)."""
    if not item.media:
        return ()
    from connectors.attachments import MediaItem

    return tuple(
        MediaItem(path, m.alt, m.mime_type, _relative(m.path))
        for m, path in zip(item.media, item.media_paths(_item_dir(item, base_dir)), strict=True)
    )


def _link(item: ContentItem, target: Target, address: str | None = None) -> str | None:
    """``address`` (the item's ``link`` by default) tagged for ``target``."""
    address = address or item.link
    if not address:
        return None
    if not target.utm:
        return address
    return tagged(address, target.platform, target.entry, item.id)


def _announced(item: ContentItem, target: Target) -> str | None:
    """What an announcement of an article links to: canonical, the long-form post, link."""
    return item.canonical_url or target.article_url or item.link


def _item_path(item: ContentItem, path: Path, base_dir: Path) -> Path:
    return path if path.is_absolute() else _item_dir(item, base_dir) / path


def _item_dir(item: ContentItem, base_dir: Path) -> Path:
    source = Path(item.source) if item.source else None
    if source and source.suffix == ".md":
        return source.parent
    return base_dir


def _relative(path: Path) -> str:
    """The media path as written, for URLs under a site's media root; "" when absolute."""
    return "" if path.is_absolute() else path.as_posix()


def _frozen(values: Mapping[str, Any]) -> dict[str, Any]:
    return dict(values)
