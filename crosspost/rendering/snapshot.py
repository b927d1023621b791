"""Templates read once, when a project is loaded.

A daemon renders every post from the last good version of the files: an edit
saved while it runs reaches it only through a reload that validated it. A
:class:`jinja2.FileSystemLoader` would read a broken edit at the next send.

Each file is also parsed once: the tree that is compiled is first asked which
variables it reads (:func:`variables_read`, for
:func:`~crosspost.rendering.render_memo.names_used`).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    Environment,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    meta,
    nodes,
)
from jinja2.loaders import split_template_path
from jinja2.utils import internalcode

from crosspost.errors import ConfigError
from crosspost.loading.inputfile import read_text

__all__ = ["TemplateSnapshot", "variables_read"]


class TemplateSnapshot(BaseLoader):
    """The regular files under ``folder`` as they were when this was made.

    Names are relative to ``folder`` (``default.mastodon.j2``, ``parts/footer.j2``);
    nothing outside it can be named. A file that could not be read (too large, not
    UTF-8, unreadable) fails where the template is used, as a template error at its line.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._files: dict[str, tuple[str, str | ConfigError]] = {}
        #: What each template loaded from here reads from its context (see :meth:`reads`).
        self._reads: dict[str, frozenset[str] | None] = {}
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_dir() and not path.name.endswith(".j2"):
                    continue
                # read_text refuses a FIFO, device, folder or dangling link without opening
                # it, so a template that exists but cannot be used is an error at its name,
                # never a silent fall-back to the next candidate
                self._files[path.relative_to(folder).as_posix()] = (str(path), _read(path))

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        found = self._files.get("/".join(split_template_path(template)))
        if found is None:
            raise TemplateNotFound(template)
        filename, data = found
        if isinstance(data, ConfigError):
            problem = data.problems[0]
            message = f"{problem.message} (column {problem.column})"
            raise TemplateSyntaxError(message, problem.line, template, filename)
        return data, filename, _never_changes

    def list_templates(self) -> list[str]:
        return sorted(self._files)

    @internalcode  # left out of a template's traceback, as BaseLoader.load is
    def load(
        self,
        environment: Environment,
        name: str,
        globals: MutableMapping[str, Any] | None = None,
    ) -> Template:
        """The template ``name``, as :meth:`BaseLoader.load` makes it, from one parse.

        The tree is read for :meth:`reads`, unchanged, then compiled: the code is the one
        compiling the source makes. A syntax error is raised by the parse as the compile
        of the source would raise it; an error of the compile, by the compile.
        """
        if environment.bytecode_cache is not None:  # the code may come compiled: no tree
            return super().load(environment, name, globals)
        source, filename, uptodate = self.get_source(environment, name)
        tree = environment.parse(source, name, filename)
        self._reads[name] = variables_read(environment, tree)
        code = environment.compile(tree, name, filename)
        return environment.template_class.from_code(
            environment, code, {} if globals is None else globals, uptodate
        )

    def reads(self, name: str) -> tuple[bool, frozenset[str] | None]:
        """Whether template ``name`` was parsed here, and then what :func:`variables_read`
        found in it."""
        return name in self._reads, self._reads.get(name)


def variables_read(environment: Environment, tree: nodes.Template) -> frozenset[str] | None:
    """The variables ``tree``, parsed by ``environment``, reads from its context; None when
    that is not known: it includes, imports or extends another template (whose variables
    are not looked at), or it does not compile.

    As :func:`jinja2.meta.find_undeclared_variables`, but leaving ``tree`` as parsed.
    """
    if any(True for _ in meta.find_referenced_templates(tree)):
        return None
    tracker = _Tracker(environment)
    try:
        tracker.visit(tree)
    except Exception:  # the compile of the same tree fails too, and says why
        return None
    return frozenset(tracker.undeclared_identifiers)


class _Tracker(meta.TrackingCodeGenerator):
    """Jinja's tracker without its optimizer, which folds constants into the tree in place:
    the tree is compiled next, and must be compiled as parsed. The variables found are
    the same: they come from the frames' symbols, read before anything is folded."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.optimizer = None


def _read(path: Path) -> str | ConfigError:
    try:
        return read_text(path)
    except ConfigError as exc:
        return exc


def _never_changes() -> bool:
    return True
