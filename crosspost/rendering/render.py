"""Rendering content for a platform: Jinja2 templates, then thread splitting.

Templates are looked up in this order, first found wins:

1. ``templates/<template>.<platform>.j2`` (e.g. ``default.mastodon.j2``)
2. ``templates/<template>.j2``
3. the built-in default (:mod:`crosspost.rendering.templates`).

Templates are read once, when the project is loaded (:mod:`crosspost.rendering.snapshot`), so a
running daemon renders from the last good version of the files. They run in a
``SandboxedEnvironment`` with ``StrictUndefined``, so a
misspelt variable is an error with the template's file and line, not an empty
string in a published post. Any error a template raises while rendering is a
:class:`RenderError` at the template's file and line, and a render is bounded in
time and output (:class:`~crosspost.rendering.sandbox.RenderLimits`, docs/limits.md).

The parts live beside this module: the environment and template lookup
(:mod:`~crosspost.rendering.templates`), the variables a template sees
(:mod:`~crosspost.rendering.context`), the posts already made
(:mod:`~crosspost.rendering.render_memo`) and the cutting of threads
(:mod:`~crosspost.rendering.thread_cuts`). :class:`Renderer` puts them together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Template

from connectors.base import Capability, Connector, RenderedPost
from crosspost.errors import Problem, RenderError
from crosspost.loading.content_item import ContentItem
from crosspost.rendering.context import (
    PLAIN,
    article_fields,
    media_items,
    post_link,
    template_context,
)
from crosspost.rendering.markdown_forms import OutputForm, TextFormat
from crosspost.rendering.markup import unmark
from crosspost.rendering.render_memo import ConnectorRules, RenderMemo, memo_key
from crosspost.rendering.sandbox import LimitExceeded, RenderLimits, bounded_render
from crosspost.rendering.target import Target
from crosspost.rendering.templates import BUILTIN_DEFAULT, BUILTIN_NAME, Templates
from crosspost.rendering.thread_cuts import ThreadCuts

if TYPE_CHECKING:
    from connectors.attachments import Poll

__all__ = [
    "Renderer",
    "text_hash",
]


def text_hash(parts: Iterable[str]) -> str:
    """A stable fingerprint of what was (or would be) sent."""
    return hashlib.sha256("\n\x1e\n".join(parts).encode("utf-8")).hexdigest()


class Renderer:
    """Renders content items for targets with the project's templates."""

    def __init__(
        self, templates_dir: Path, base_dir: Path, limits: RenderLimits | None = None
    ) -> None:
        self.templates_dir = templates_dir
        self.base_dir = base_dir
        self.limits = limits or RenderLimits()
        #: The environment and the lookup of templates (each looked up once).
        self.templates = Templates(templates_dir, base_dir, self.limits)
        self.env = self.templates.env
        #: Posts already made, by everything they depend on (see :meth:`render`).
        self._memo = RenderMemo()
        #: Threads already cut, by text, limit and counting rules.
        self._cuts = ThreadCuts()

    def template(
        self, name: str, platform: str, named_in: tuple[ContentItem, str] | None = None
    ) -> Template:
        """The template for content template ``name`` on ``platform`` (lookup order above).

        Raises:
            RenderError: the template has a syntax error, or ``name`` matches no file
                (see :meth:`Templates.template`).
        """
        return self.templates.template(name, platform, named_in)

    def template_names(self) -> list[str]:
        """The names content may give as ``template:`` (``event`` for ``event.mastodon.j2``)."""
        return self.templates.names()

    def template_problem(self, name: str) -> str | None:
        """Why ``name`` is not a template (no file for it on any platform), or None."""
        return self.templates.problem(name)

    def template_problems(self, item: ContentItem) -> list[Problem]:
        """A problem for every template ``item`` names that matches no file."""
        return self.templates.problems(item)

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
        context = {**item.template_variables(), **template_context(item, target, form, whole)}
        try:
            return self._generate(template, context).strip()
        except RenderError:
            raise
        except Exception as exc:  # whatever template code raises is the template's error
            raise self._runtime_error(exc, context, template.filename) from None

    def render_string(self, text: str, item: ContentItem, target: Target) -> str:
        """``text``, a template string, rendered as plain text with ``item``'s variables
        for ``target`` (a first comment). Placing an error is the caller's: the string
        has no file of its own.

        Raises:
            TemplateSyntaxError, RenderError, Exception: whatever the string raises.
        """
        item, _ = item.for_target(target.platform, target.account)
        context = {**item.template_variables(), **template_context(item, target, PLAIN, True)}
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
        fields = ("template", "announcement_template") if shown.is_article else ("template",)
        used: frozenset[str] = frozenset()
        for field in fields:  # the target variables its templates read
            used |= self.templates.reads(getattr(shown, field), target.platform)
        return memo_key(item, target, rules, shown, used)

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
        parts, links = self._cuts.split(marked, item, target, connector, form, split=not article)
        return RenderedPost(
            parts=tuple(parts),
            links=links if form.format is TextFormat.RICH and any(links) else (),
            content_id=item.id,
            title=item.title,
            link=post_link(item, target, whole),
            article=article_fields(item, self.base_dir) if article else None,
            media=media_items(item, self.base_dir),
            poll=_poll(item),
            content_warning=item.content_warning,
            language=item.language,
            options=options,
            scheduled_at=target.occurrence,
            alternative=alternative,
            tags=tuple(item.tags),
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
                    raise self._runtime_error(exc, context, stream=stream) from None
        return "".join(chunks)

    def _runtime_error(
        self,
        exc: BaseException,
        context: dict[str, Any],
        filename: str | None = None,
        stream: Any = None,
    ) -> RenderError:
        """``exc`` placed in the template that raised it: the innermost template frame of its
        traceback, or where the suspended render ``stream`` stopped; else line 1 of
        ``filename`` (the built-in one when None)."""
        # Imported when a template fails: a render that succeeds never places an error.
        from crosspost.rendering import render_errors as errors

        if stream is not None:
            found = errors.suspended_at(stream)
        else:
            found = errors.innermost_frame(exc.__traceback__)
        where = found or errors.TemplateFrame(filename or errors.JINJA_STRING_NAME, 1, {})
        shown = where.filename
        if shown == errors.JINJA_STRING_NAME:
            shown = BUILTIN_NAME
        source = errors.read_source(where.filename, BUILTIN_DEFAULT)
        names = [*context, *self.env.globals]
        return errors.runtime_error(exc, where, source, self.templates.shown(shown), names)


def _poll(item: ContentItem) -> Poll | None:
    """The poll of ``item``, if it has one (most have none: the class is imported here)."""
    if not item.poll:
        return None
    from connectors.attachments import Poll

    return Poll(tuple(item.poll.options), item.poll.duration, item.poll.multiple)
