"""Rendering content for a platform: Jinja2 templates, then thread splitting.

Templates are looked up in this order, first found wins:

1. ``templates/<template>.<platform>.j2`` (e.g. ``default.mastodon.j2``)
2. ``templates/<template>.j2``
3. the built-in default below.

Templates are read once, when the project is loaded (:mod:`crosspost.rendering.snapshot`), so a
running daemon renders from the last good version of the files. They run in a
``SandboxedEnvironment`` with ``StrictUndefined``, so a
misspelt variable is an error with the template's file and line, not an empty
string in a published post. Any error a template raises while rendering is a
:class:`RenderError` at the template's file and line, and a render is bounded in
time and output (:class:`~crosspost.rendering.sandbox.RenderLimits`, docs/limits.md).
"""

from __future__ import annotations

import difflib
import functools
import hashlib
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

import regex
from jinja2 import (
    ChoiceLoader,
    DictLoader,
    Template,
    TemplatesNotFound,
    TemplateSyntaxError,
    pass_context,
)
from jinja2.runtime import Context

from connectors.base import (
    ArticleFields,
    Capability,
    Connector,
    Cover,
    MediaItem,
    Poll,
    RenderedPost,
)
from crosspost.errors import Problem, RenderError
from crosspost.loading.content import ContentItem
from crosspost.rendering.markdown import (
    Formatted,
    LinkSpan,
    OutputForm,
    TextFormat,
    escape_for,
    first_paragraph,
    render_markdown,
)
from crosspost.rendering.markup import Marked, split_html, split_marked, unmark
from crosspost.rendering.render_errors import (
    JINJA_STRING_NAME,
    NamedUndefined,
    TemplateFrame,
    innermost_frame,
    read_source,
    runtime_error,
)
from crosspost.rendering.render_memo import (
    TARGET_NAMES,
    ConnectorRules,
    RenderMemo,
    names_used,
    occurrence_key,
)
from crosspost.rendering.sandbox import (
    BoundedEnvironment,
    LimitExceeded,
    RenderLimits,
    bounded_render,
)
from crosspost.rendering.shared_cuts import SharedCuts
from crosspost.rendering.snapshot import TemplateSnapshot
from crosspost.rendering.text import grapheme_length
from crosspost.rendering.urls import UrlCounting

__all__ = [
    "BUILTIN_ANNOUNCEMENT",
    "BUILTIN_ARTICLE",
    "BUILTIN_DEFAULT",
    "RenderError",
    "RenderLimits",
    "Renderer",
    "Target",
    "hashtags",
    "text_hash",
    "utm",
]

BUILTIN_DEFAULT = """\
{{ body }}
{%- if link %}

{{ link }}
{%- endif %}
{%- if tags %}

{{ tags | hashtags }}
{%- endif %}"""

#: An article on a long-form platform: its body (title, cover and tags go as fields).
BUILTIN_ARTICLE = "{{ body }}"
#: An article announced where articles are not taken: title, summary, link, hashtags.
BUILTIN_ANNOUNCEMENT = """\
{{ title }}

{{ summary }}
{%- if link %}

{{ link }}
{%- endif %}
{%- if tags %}

{{ tags | hashtags }}
{%- endif %}"""
#: The built-in templates by name; a name with no file falls back to its own.
BUILTINS = {
    "default": BUILTIN_DEFAULT,
    "article": BUILTIN_ARTICLE,
    "announcement": BUILTIN_ANNOUNCEMENT,
}
_BUILTIN_PREFIX = "<built-in>/"
_BUILTIN_NAME = f"{_BUILTIN_PREFIX}default.j2"
#: Cut threads kept per renderer (a bound for long-lived daemons).
_MAX_SPLITS = 10_000
_TAG_WORD = regex.compile(r"[\p{L}\p{M}\p{N}_]+")
PLAIN = OutputForm()


@dataclass(frozen=True)
class Target:
    """Where and why a post is rendered: the account, and the schedule entry behind it."""

    account: str
    platform: str
    entry: str
    occurrence: datetime | None = None
    utm: bool = True
    thread: bool = True
    numbering: bool = False
    #: Where the article this target announces went out (a long-form post's URL), once
    #: known; an announcement links to the canonical URL first, then to this, then ``link``.
    article_url: str | None = None


def utm(
    url: str, source: str, medium: str = "social", campaign: str = "", content: str = ""
) -> str:
    """``url`` with ``utm_*`` parameters added; parameters already there are kept as they are."""
    parts, query, present = _split_query(url) if isinstance(url, str) else _query_of(url)
    wanted = {
        "utm_source": source,
        "utm_medium": medium,
        "utm_campaign": campaign,
        "utm_content": content,
    }
    added = urlencode([(k, v) for k, v in wanted.items() if v and k not in present])
    return urlunsplit(parts._replace(query="&".join(q for q in (query, added) if q)))


def _query_of(url: str) -> tuple[SplitResult, str, frozenset[str]]:
    """``url`` split, its query as :func:`urlencode` writes it, and the query's keys."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    return parts, urlencode(query), frozenset(key for key, _ in query)


#: The same few links are tagged for every entry and platform: each is read once.
_split_query = functools.lru_cache(maxsize=1024)(_query_of)


@functools.lru_cache(maxsize=4096)
def _tagged(url: str, source: str, campaign: str, content: str) -> str:
    """:func:`utm` of a post's link, kept: it is tagged for the template and for the post."""
    return utm(url, source, "social", campaign, content)


def hashtags(tags: Iterable[str]) -> str:
    """``["open source", "release"]`` → ``"#OpenSource #release"``."""
    rendered = []
    for tag in tags:
        words = _TAG_WORD.findall(str(tag))
        if not words:
            continue
        joined = words[0] if len(words) == 1 else "".join(w[:1].upper() + w[1:] for w in words)
        rendered.append(f"#{joined}")
    return " ".join(rendered)


def text_hash(parts: Iterable[str]) -> str:
    """A stable fingerprint of what was (or would be) sent."""
    return hashlib.sha256("\n\x1e\n".join(parts).encode("utf-8")).hexdigest()


def _relative(path: Path) -> str:
    """The media path as written, for URLs under a site's media root; "" when absolute."""
    return "" if path.is_absolute() else path.as_posix()


class Renderer:
    """Renders content items for targets with the project's templates."""

    def __init__(
        self, templates_dir: Path, base_dir: Path, limits: RenderLimits | None = None
    ) -> None:
        self.templates_dir = templates_dir
        self.base_dir = base_dir
        self.limits = limits or RenderLimits()
        self.env = BoundedEnvironment(
            self.limits,
            loader=ChoiceLoader(
                [
                    TemplateSnapshot(templates_dir),
                    DictLoader({_builtin(name): text for name, text in BUILTINS.items()}),
                ]
            ),
            undefined=NamedUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            finalize=_finalize,
        )
        self.env.filters["utm"] = utm
        self.env.filters["hashtags"] = hashtags
        self.env.filters["graphemes"] = grapheme_length
        #: Templates never change under a renderer (they are read once): look each up once.
        self._templates: dict[tuple[str, str], Template] = {}
        #: Posts already made, by everything they depend on (see :meth:`render`).
        self._memo = RenderMemo()
        #: The target variables each template reads, by template name and platform.
        self._used: dict[tuple[str, str], frozenset[str]] = {}
        #: Threads already cut, by text, limit and counting rules (see :meth:`_split`).
        self._splits: dict[tuple[Any, ...], tuple[list[str], tuple[Any, ...]]] = {}
        #: Cuts shared by texts that differ only inside their URLs (see :meth:`_cut`).
        self._shared = SharedCuts()

    def template(
        self, name: str, platform: str, named_in: tuple[ContentItem, str] | None = None
    ) -> Template:
        """The template for content template ``name`` on ``platform`` (lookup order above).

        Only the built-in names (``default``, ``article``, ``announcement``) fall back to
        their built-in when no file matches them on any platform: any other name would
        be a misspelling rendered without its lines.

        Raises:
            RenderError: the template has a syntax error, or ``name`` matches no file
                (placed at ``named_in``: the item and its field that names the template).
        """
        found = self._templates.get((name, platform))
        if found is not None:
            return found
        candidates = [f"{name}.{platform}.j2", f"{name}.j2"]
        if self.template_problem(name) is None:
            candidates.append(_builtin(name if name in BUILTINS else "default"))
        try:
            found = self._templates[name, platform] = self.env.select_template(candidates)
            return found
        except TemplatesNotFound:
            item, key = named_in or (None, "template")
            raise RenderError(self._unknown_template(name, key, item)) from None
        except TemplateSyntaxError as exc:
            raise RenderError(
                Problem.at(
                    self._shown(exc.filename or exc.name or name),
                    exc.lineno,
                    1,
                    f"template syntax: {exc.message}",
                )
            ) from None

    def template_names(self) -> list[str]:
        """The names content may give as ``template:`` (``event`` for ``event.mastodon.j2``)."""
        names = set(BUILTINS)
        for file in self.env.list_templates():
            stem = file.removesuffix(".j2")
            if file.endswith(".j2") and not file.startswith(_BUILTIN_PREFIX):
                folder, slash, name = stem.rpartition("/")
                names |= {stem, folder + slash + name.rsplit(".", 1)[0]}
        return sorted(names)

    def template_problem(self, name: str) -> str | None:
        """Why ``name`` is not a template (no file for it on any platform), or None."""
        known = self.template_names()
        if name in known:
            return None
        close = difflib.get_close_matches(name, known, n=1)
        # event.mastodon is known as a name too, but only event is worth listing
        listed = [n for n in known if not any(n.startswith(f"{other}.") for other in known)]
        hint = f'; did you mean "{close[0]}"?' if close else f" (known: {', '.join(listed)})"
        return f'unknown template "{name}"{hint}'

    def template_problems(self, item: ContentItem) -> list[Problem]:
        """A problem for every template ``item`` names that matches no file."""
        return [
            self._unknown_template(name, key, item)
            for key, name in item.named_templates()
            if self.template_problem(name) is not None
        ]

    def _unknown_template(self, name: str, key: str, item: ContentItem | None) -> Problem:
        line, column = item.position(key) if item else (1, 1)
        where = self._shown(item.source) if item and item.source else str(self.templates_dir)
        return Problem.at(where, line, column, f"{key}: {self.template_problem(name)}")

    def render_text(self, item: ContentItem, target: Target, form: OutputForm = PLAIN) -> str:
        """The text of ``item`` for ``target`` in ``form``, before any thread splitting.

        Raises:
            RenderError: a template failed (missing variable, syntax, …), with its file:line.
        """
        return unmark(self._template_output(item, target, form, whole=True)).text

    def _template_output(
        self, item: ContentItem, target: Target, form: OutputForm, *, whole: bool
    ) -> str:
        """What the template wrote, links still between marks (see crosspost.rendering.markdown).

        ``whole``: an article goes out whole here; otherwise an article is announced,
        with its ``announcement_template``.
        """
        item, _ = item.for_target(target.platform, target.account)
        field = "template" if whole or not item.is_article else "announcement_template"
        key = item.template_field(target.platform, target.account, field)
        template = self.template(getattr(item, field), target.platform, named_in=(item, key))
        context = {**item.template_variables(), **self._context(item, target, form, whole)}
        try:
            return self._generate(template, context).strip()
        except RenderError:
            raise
        except Exception as exc:  # whatever template code raises is the template's error
            where = innermost_frame(exc.__traceback__) or TemplateFrame(
                template.filename or JINJA_STRING_NAME, 1, {}
            )
            raise self._runtime_error(exc, where, context) from None

    def render_string(self, text: str, item: ContentItem, target: Target) -> str:
        """``text``, a template string, rendered as plain text with ``item``'s variables
        for ``target`` (a first comment). Placing an error is the caller's: the string
        has no file of its own.

        Raises:
            TemplateSyntaxError, RenderError, Exception: whatever the string raises.
        """
        item, _ = item.for_target(target.platform, target.account)
        context = {**item.template_variables(), **self._context(item, target, PLAIN, True)}
        return unmark(self._generate(self.env.from_string(text), context)).text.strip()

    def render(self, item: ContentItem, target: Target, connector: Connector) -> RenderedPost:
        """The full post for ``target``: text split into a thread when it is too long.

        A post is made once for everything it depends on (:mod:`crosspost.rendering.render_memo`):
        rendering it again for another entry or account that cannot change it gives the
        same post, due at this target's occurrence.

        Raises:
            RenderError: a template failed.
        """
        rules = self._memo.rules(connector)
        key = self._memo_key(item, target, rules)
        post = self._memo.get(key, item, target.occurrence)
        if post is None:
            post = self._render(item, target, connector, rules)
            self._memo.put(key, item, post)
        return post

    def _memo_key(self, item: ContentItem, target: Target, rules: ConnectorRules) -> Hashable:
        shown, _ = item.for_target(target.platform, target.account)  # an override may add a link
        used = self._names_used(shown, target.platform)
        tagged = target.utm and bool(shown.link or shown.is_article)  # utm_campaign=<entry>
        return (
            id(item),
            target.platform,
            target.account if "account" in used or target.account in item.overrides else None,
            target.entry if "entry" in used or tagged else None,
            occurrence_key(target.occurrence) if "occurrence" in used else None,
            (target.utm, target.thread, target.numbering, target.article_url),
            rules,
        )

    def _names_used(self, item: ContentItem, platform: str) -> frozenset[str]:
        """The target variables the templates ``item`` renders with on ``platform`` read."""
        fields = ("template", "announcement_template") if item.is_article else ("template",)
        used: frozenset[str] = frozenset()
        for field in fields:
            name = getattr(item, field)
            known = self._used.get((name, platform))
            if known is None:
                try:
                    template = self.template(name, platform)
                except RenderError:
                    return TARGET_NAMES  # the render itself reports it
                known = self._used[name, platform] = names_used(self.env, template)
            used |= known
        return used

    def _render(
        self, item: ContentItem, target: Target, connector: Connector, rules: ConnectorRules
    ) -> RenderedPost:
        form, other = rules.form, rules.alternative
        whole = Capability.LONG_FORM in connector.capabilities
        marked = unmark(self._template_output(item, target, form, whole=whole))
        alternative = (
            unmark(self._template_output(item, target, other, whole=whole)).text if other else ""
        )
        item, options = item.for_target(target.platform, target.account)
        article = item.is_article and whole
        parts, links = self._split(marked, item, target, connector, form, split=not article)
        return RenderedPost(
            parts=tuple(parts),
            links=links if form.format is TextFormat.RICH and any(links) else (),
            content_id=item.id,
            title=item.title,
            link=self._post_link(item, target, whole),
            article=self._article(item) if article else None,
            media=tuple(
                MediaItem(path, m.alt, m.mime_type, _relative(m.path))
                for m, path in zip(item.media, item.media_paths(self._item_dir(item)), strict=True)
            ),
            poll=Poll(tuple(item.poll.options), item.poll.duration, item.poll.multiple)
            if item.poll
            else None,
            content_warning=item.content_warning,
            language=item.language,
            options=options,
            scheduled_at=target.occurrence,
            alternative=alternative,
            tags=tuple(item.tags),
        )

    # -- helpers -------------------------------------------------------------

    def _article(self, item: ContentItem) -> ArticleFields:
        """The fields of an article besides its body, for a long-form platform."""
        summary = item.summary or first_paragraph(item.body)
        cover = item.cover
        return ArticleFields(
            summary=unmark(render_markdown(summary, PLAIN)).text,
            canonical_url=item.canonical_url,
            cover=Cover(
                alt=cover.alt,
                path=self._item_path(item, cover.path) if cover.path else None,
                url=cover.url,
                mime_type=cover.mime_type,
            )
            if cover
            else None,
            tags=tuple(item.tags),
        )

    def _split(
        self,
        marked: Marked,
        item: ContentItem,
        target: Target,
        connector: Connector,
        form: OutputForm,
        *,
        split: bool = True,
    ) -> tuple[list[str], tuple[tuple[LinkSpan, ...], ...]]:
        """The posts of the thread, and the links of each (rich text only).

        Cutting a long text is the dearest step of rendering, and a project posts the same
        text to many accounts that count alike: each cut is made once per counting rules
        (the connector's ``counting_key``; without one, once per connector).
        """
        limit = self._text_limit(item, target, connector) if split else None
        rules = getattr(connector, "counting_key", None) or connector.measure
        key = (marked, limit, target.numbering, form, rules)
        if key not in self._splits:
            if len(self._splits) >= _MAX_SPLITS:
                self._splits.clear()
            self._splits[key] = self._cut(marked, limit, connector, target, (form, rules))
        parts, links = self._splits[key]
        return list(parts), links

    def _cut(
        self,
        marked: Marked,
        limit: int | None,
        connector: Connector,
        target: Target,
        rules: tuple[OutputForm, Hashable],
    ) -> tuple[list[str], tuple[tuple[LinkSpan, ...], ...]]:
        """The cut of ``marked``; shared with texts that differ only inside their URLs where
        the connector declares how it counts URLs (:mod:`crosspost.rendering.shared_cuts`)."""
        measure, numbering = connector.measure, target.numbering
        if rules[0].format is TextFormat.HTML:  # HTML is cut on its visible text, <a> kept whole
            if limit is None or measure(marked.text) <= limit:
                return [marked.text], ((),)
            return split_html(marked.text, limit, measure, numbering=numbering), ()
        if limit is None or measure(marked.text) <= limit:
            return [marked.text], (marked.links,)
        counting = getattr(connector, "url_counting", None)
        located = None
        if isinstance(counting, UrlCounting):
            located = self._shared.split(marked, limit, measure, numbering, rules, counting)
        if located is None:
            located = split_marked(marked, limit, measure, numbering=numbering)
        return [part for part, _ in located], tuple(links for _, links in located)

    def _text_limit(self, item: ContentItem, target: Target, connector: Connector) -> int | None:
        """The length each post of a thread may have, or None when the text is not split."""
        limits = connector.effective_limits
        limit = limits.max_length
        if item.content_warning:  # the warning is repeated on every part and counts with it
            limit -= connector.measure(item.content_warning)
        if item.media and limits.max_caption_length:
            limit = min(limit, limits.max_caption_length)
        can_thread = target.thread and Capability.THREADS in connector.capabilities
        return limit if limit > 0 and can_thread else None

    def _link(self, item: ContentItem, target: Target, address: str | None = None) -> str | None:
        """``address`` (the item's ``link`` by default) tagged for ``target``."""
        address = address or item.link
        if not address:
            return None
        if not target.utm:
            return address
        return _tagged(address, target.platform, target.entry, item.id)

    @staticmethod
    def _announced(item: ContentItem, target: Target) -> str | None:
        """What an announcement of an article links to: canonical, the long-form post, link."""
        return item.canonical_url or target.article_url or item.link

    def _post_link(self, item: ContentItem, target: Target, whole: bool) -> str | None:
        """``RenderedPost.link``: an article's own address is its canonical URL, untagged."""
        if not item.is_article:
            return self._link(item, target)
        if whole:
            return item.canonical_url or self._link(item, target)
        return self._link(item, target, self._announced(item, target))

    def _context(
        self, item: ContentItem, target: Target, form: OutputForm, whole: bool
    ) -> dict[str, Any]:
        summary = item.summary or first_paragraph(item.body)
        announced = self._announced(item, target) if item.is_article else None
        link = self._link(item, target, announced if not whole else None)
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

    def _item_path(self, item: ContentItem, path: Path) -> Path:
        return path if path.is_absolute() else self._item_dir(item) / path

    def _item_dir(self, item: ContentItem) -> Path:
        source = Path(item.source) if item.source else None
        if source and source.suffix == ".md":
            return source.parent
        return self.base_dir

    def _shown(self, filename: str) -> str:
        path = Path(filename)
        if path.is_absolute() and path.is_relative_to(self.base_dir):
            return str(path.relative_to(self.base_dir))
        if filename.startswith(_BUILTIN_PREFIX):
            return filename
        return (
            str(self.templates_dir.relative_to(self.base_dir) / filename)
            if self.templates_dir.is_relative_to(self.base_dir)
            else filename
        )

    def _generate(self, template: Template, context: dict[str, Any]) -> str:
        """Stream the render, stopping at the output or time bound."""
        chunks: list[str] = []
        size = 0
        stream = template.generate(context)
        with bounded_render(self.limits) as check:
            for chunk in stream:
                chunks.append(chunk)
                size += len(chunk)
                try:
                    check(size)
                except LimitExceeded as exc:  # raised here, outside the template: say where it was
                    where = _suspended_at(stream) or TemplateFrame(JINJA_STRING_NAME, 1, {})
                    raise self._runtime_error(exc, where, context) from None
        return "".join(chunks)

    def _runtime_error(
        self, exc: BaseException, where: TemplateFrame, context: dict[str, Any]
    ) -> RenderError:
        filename = where.filename
        if filename == JINJA_STRING_NAME:
            filename = _BUILTIN_NAME
        source = read_source(where.filename, BUILTIN_DEFAULT)
        names = [*context, *self.env.globals]
        return runtime_error(exc, where, source, self._shown(filename), names)


def _builtin(name: str) -> str:
    return f"{_BUILTIN_PREFIX}{name}.j2"


def _suspended_at(stream: Any) -> TemplateFrame | None:
    """The template line a suspended render stopped at: its innermost template generator."""
    found = None
    generator: Any = stream
    while generator is not None and hasattr(generator, "gi_frame"):
        frame = generator.gi_frame
        template = frame.f_globals.get("__jinja_template__") if frame else None
        if frame is not None and template is not None:
            line = template.get_corresponding_lineno(frame.f_lineno)
            found = TemplateFrame(template.filename or JINJA_STRING_NAME, line, {})
        generator = generator.gi_yieldfrom
    return found


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    """Every ``{{ value }}`` but the rendered body is escaped for the target's form."""
    if isinstance(value, Formatted):
        return value
    form = OutputForm(TextFormat(context.get("text_format", TextFormat.PLAIN)))
    return escape_for(form, str(value))


def _frozen(values: Mapping[str, Any]) -> dict[str, Any]:
    return dict(values)
