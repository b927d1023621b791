"""The templates of a project: the sandboxed environment, the built-ins, and their lookup.

Templates are looked up in this order, first found wins:

1. ``templates/<template>.<platform>.j2`` (e.g. ``default.mastodon.j2``)
2. ``templates/<template>.j2``
3. the built-in of that name (``default``, ``article``, ``announcement``).

Files are read once, when the project is loaded (:mod:`crosspost.rendering.snapshot`).
They run in a :class:`~crosspost.rendering.sandbox.BoundedEnvironment` with
:class:`~crosspost.rendering.undefined.NamedUndefined`, so a misspelt variable is
an error with the template's file and line, not an empty string in a published post;
every ``{{ value }}`` but the rendered body is escaped for the target's text form.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    DictLoader,
    Template,
    TemplatesNotFound,
    TemplateSyntaxError,
    pass_context,
)
from jinja2.runtime import Context

from crosspost.errors import Problem, RenderError
from crosspost.loading.content_item import ContentItem
from crosspost.rendering.filters import hashtags, utm
from crosspost.rendering.markdown import Formatted, escape_for
from crosspost.rendering.markdown_forms import OutputForm, TextFormat
from crosspost.rendering.render_memo import TARGET_NAMES, names_used
from crosspost.rendering.sandbox import BoundedEnvironment, RenderLimits
from crosspost.rendering.snapshot import TemplateSnapshot, variables_read
from crosspost.rendering.text import grapheme_length
from crosspost.rendering.undefined import NamedUndefined

__all__ = [
    "BUILTINS",
    "BUILTIN_ANNOUNCEMENT",
    "BUILTIN_ARTICLE",
    "BUILTIN_DEFAULT",
    "BUILTIN_NAME",
    "Templates",
]

#: What the built-ins put after the text: the link, then the hashtags, each when there is one.
_LINK_AND_TAGS = """
{%- if link %}

{{ link }}
{%- endif %}
{%- if tags %}

{{ tags | hashtags }}
{%- endif %}"""
#: A post: its text, its link, its hashtags.
BUILTIN_DEFAULT = "{{ body }}" + _LINK_AND_TAGS

#: An article on a long-form platform: its body (title, cover and tags go as fields).
BUILTIN_ARTICLE = "{{ body }}"
#: An article announced where articles are not taken: title, summary, link, hashtags.
BUILTIN_ANNOUNCEMENT = "{{ title }}\n\n{{ summary }}" + _LINK_AND_TAGS
#: The built-in templates by name; a name with no file falls back to its own.
BUILTINS = {
    "default": BUILTIN_DEFAULT,
    "article": BUILTIN_ARTICLE,
    "announcement": BUILTIN_ANNOUNCEMENT,
}
_BUILTIN_PREFIX = "<built-in>/"
#: Where an error in a template made from a string is reported.
BUILTIN_NAME = f"{_BUILTIN_PREFIX}default.j2"


class Templates:
    """The project's templates in their sandbox, each looked up (and analysed) once.

    Templates never change under a renderer (they are read once): a lookup by name and
    platform, and the target variables a template reads, are each worked out once.
    """

    def __init__(self, templates_dir: Path, base_dir: Path, limits: RenderLimits) -> None:
        self.templates_dir = templates_dir
        self.base_dir = base_dir
        self._files = TemplateSnapshot(templates_dir)
        self.env = BoundedEnvironment(
            limits,
            loader=ChoiceLoader(
                [
                    self._files,
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
        self._found: dict[tuple[str, str], Template] = {}
        #: The target variables each template reads, by template name and platform.
        self._reads: dict[tuple[str, str], frozenset[str]] = {}

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
        found = self._found.get((name, platform))
        if found is not None:
            return found
        candidates = [f"{name}.{platform}.j2", f"{name}.j2"]
        if self.problem(name) is None:
            candidates.append(_builtin(name if name in BUILTINS else "default"))
        try:
            found = self._found[name, platform] = self.env.select_template(candidates)
            return found
        except TemplatesNotFound:
            item, key = named_in or (None, "template")
            raise RenderError(self._unknown(name, key, item)) from None
        except TemplateSyntaxError as exc:
            raise RenderError(
                Problem.at(
                    self.shown(exc.filename or exc.name or name),
                    exc.lineno,
                    1,
                    f"template syntax: {exc.message}",
                )
            ) from None

    def reads(self, name: str, platform: str) -> frozenset[str]:
        """The target variables the template ``name`` on ``platform`` reads (all of them
        when it cannot be looked up: the render itself reports that)."""
        known = self._reads.get((name, platform))
        if known is None:
            try:
                template = self.template(name, platform)
            except RenderError:
                return TARGET_NAMES
            known = self._reads[name, platform] = names_used(self._read_by(template))
        return known

    def _read_by(self, template: Template) -> frozenset[str] | None:
        """What ``template`` reads from its context (see :func:`variables_read`)."""
        if template.filename is None or self.env.loader is None:
            return None
        parsed, read = self._files.reads(template.name or "")
        if parsed:  # a file: read from the tree it was compiled from
            return read
        source, _filename, _uptodate = self.env.loader.get_source(self.env, template.name or "")
        return variables_read(self.env, self.env.parse(source))

    def names(self) -> list[str]:
        """The names content may give as ``template:`` (``event`` for ``event.mastodon.j2``)."""
        names = set(BUILTINS)
        for file in self.env.list_templates():
            stem = file.removesuffix(".j2")
            if file.endswith(".j2") and not file.startswith(_BUILTIN_PREFIX):
                folder, slash, name = stem.rpartition("/")
                names |= {stem, folder + slash + name.rsplit(".", 1)[0]}
        return sorted(names)

    def problem(self, name: str) -> str | None:
        """Why ``name`` is not a template (no file for it on any platform), or None."""
        known = self.names()
        if name in known:
            return None
        close = difflib.get_close_matches(name, known, n=1)
        # event.mastodon is known as a name too, but only event is worth listing
        listed = [n for n in known if not any(n.startswith(f"{other}.") for other in known)]
        hint = f'; did you mean "{close[0]}"?' if close else f" (known: {', '.join(listed)})"
        return f'unknown template "{name}"{hint}'

    def problems(self, item: ContentItem) -> list[Problem]:
        """A problem for every template ``item`` names that matches no file."""
        return [
            self._unknown(name, key, item)
            for key, name in item.named_templates()
            if self.problem(name) is not None
        ]

    def _unknown(self, name: str, key: str, item: ContentItem | None) -> Problem:
        line, column = item.position(key) if item else (1, 1)
        where = self.shown(item.source) if item and item.source else str(self.templates_dir)
        return Problem.at(where, line, column, f"{key}: {self.problem(name)}")

    def shown(self, filename: str) -> str:
        """The template file ``filename`` as the user should read it (relative to the project)."""
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


def _builtin(name: str) -> str:
    return f"{_BUILTIN_PREFIX}{name}.j2"


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    """Every ``{{ value }}`` but the rendered body is escaped for the target's form."""
    if isinstance(value, Formatted):
        return value
    form = OutputForm(TextFormat(context.get("text_format", TextFormat.PLAIN)))
    return escape_for(form, str(value))
