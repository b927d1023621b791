"""Templates read once, when a project is loaded.

A daemon renders every post from the last good version of the files: an edit
saved while it runs reaches it only through a reload that validated it. A
:class:`jinja2.FileSystemLoader` would read a broken edit at the next send.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from jinja2 import BaseLoader, Environment, TemplateNotFound, TemplateSyntaxError
from jinja2.loaders import split_template_path

from crosspost.errors import ConfigError
from crosspost.loading.inputfile import read_text

__all__ = ["TemplateSnapshot"]


class TemplateSnapshot(BaseLoader):
    """The regular files under ``folder`` as they were when this was made.

    Names are relative to ``folder`` (``default.mastodon.j2``, ``parts/footer.j2``);
    nothing outside it can be named. A file that could not be read (too large, not
    UTF-8, unreadable) fails where the template is used, as a template error at its line.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._files: dict[str, tuple[str, str | ConfigError]] = {}
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


def _read(path: Path) -> str | ConfigError:
    try:
        return read_text(path)
    except ConfigError as exc:
        return exc


def _never_changes() -> bool:
    return True
