"""Undefined names in templates: an error that says which name, and keeps it for a hint.

The templates' environment renders with :class:`NamedUndefined`; when a template fails,
:mod:`crosspost.rendering.render_errors` reads the name back for a did-you-mean.
"""

from __future__ import annotations

from typing import Any

from jinja2 import UndefinedError
from jinja2.runtime import StrictUndefined, Undefined

__all__ = ["NamedUndefined", "UndefinedNameError"]


class UndefinedNameError(UndefinedError):
    """An ``UndefinedError`` that keeps the ``Undefined`` behind it, for a did-you-mean."""

    def __init__(self, message: str, undefined: Undefined) -> None:
        super().__init__(message)
        self.undefined = undefined


class NamedUndefined(StrictUndefined):
    """``StrictUndefined`` whose error says which name and object were asked for."""

    __slots__ = ()

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        raise UndefinedNameError(self._undefined_message, self)


# StrictUndefined binds its operators to the base method itself: bind them to ours.
for _name in dir(StrictUndefined):
    if getattr(StrictUndefined, _name) is Undefined._fail_with_undefined_error:
        setattr(NamedUndefined, _name, NamedUndefined._fail_with_undefined_error)
