"""Finding connectors: built-in and third-party ones register the same way.

A connector is a class named by an entry point in the ``crosspost.connectors``
group. It is imported only when an account uses it, and checked against the
:class:`connectors.base.Connector` protocol. The names of the connectors crosspost
ships are its own: another package registering one of them is not used for it.
"""

from __future__ import annotations

import difflib
from functools import cache
from importlib import metadata

from connectors.base import Connector, ConnectorSettings

__all__ = ["ENTRY_POINT_GROUP", "available", "load"]

ENTRY_POINT_GROUP = "crosspost.connectors"
#: The distribution whose entry points name the built-in connectors.
_DISTRIBUTION = "crosspost"


#: The connectors read last: reading the entry points looks at every installed
#: distribution, so a name found here is not read again; an unknown one is.
_last_read: dict[str, metadata.EntryPoint] = {}


@cache
def _built_in() -> dict[str, metadata.EntryPoint]:
    """The connectors crosspost ships, from its own metadata alone: a schedule that uses
    only these never reads the entry points of every installed distribution (about 1 %
    of ``check`` of the example). Empty when crosspost runs from a source tree that was
    never installed."""
    try:
        points = metadata.distribution(_DISTRIBUTION).entry_points
    except metadata.PackageNotFoundError:
        return {}
    return {point.name: point for point in points if point.group == ENTRY_POINT_GROUP}


def _entry_points(name: str | None = None) -> dict[str, metadata.EntryPoint]:
    """The installed connectors, read again unless ``name`` is built in or was among
    those read last; a built-in name always means the built-in connector."""
    global _last_read
    built_in = _built_in()
    if name is not None and name in built_in:
        return built_in
    if name is None or name not in _last_read:
        installed = {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
        _last_read = installed | built_in
    return _last_read


def available() -> list[str]:
    """Names of every installed connector, sorted."""
    return sorted(_entry_points())


@cache
def load(name: str) -> type[Connector]:
    """The connector class registered as ``name``.

    Raises:
        LookupError: no connector has that name (with a "did you mean").
        TypeError: the entry point does not name a connector class.
    """
    points = _entry_points(name)
    if name not in points:
        names = sorted(points)
        close = difflib.get_close_matches(name, names, n=1)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        raise LookupError(
            f'No connector named "{name}"{hint} Installed: {", ".join(names) or "none"}'
        )
    cls = points[name].load()
    settings = getattr(cls, "Settings", None)
    if not (
        isinstance(cls, type)
        and isinstance(settings, type)
        and issubclass(settings, ConnectorSettings)
        and all(hasattr(cls, attr) for attr in ("publish", "measure", "limits", "capabilities"))
    ):
        raise TypeError(f"Entry point {name!r} ({points[name].value}) is not a crosspost connector")
    return cls
