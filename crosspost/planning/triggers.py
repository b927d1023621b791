"""APScheduler's ``util``, imported without ``asyncio`` when nothing has imported it yet.

Before Python 3.14, ``apscheduler.util`` runs ``from asyncio import
iscoroutinefunction`` when it is imported, for its asyncio and Tornado executors
alone (``iscoroutinefunction_partial``); the triggers import that module for its date
helpers. The planning package calls :func:`import_util_without_asyncio` before any of its
modules imports a trigger. Importing ``asyncio`` (with ``ssl``, ``socket``, ``subprocess`` and
``concurrent.futures``) was 4 % of the instructions of ``crosspost check``, which
computes fire times and never runs a coroutine. While the triggers are imported,
``asyncio`` names a module that holds only ``inspect.iscoroutinefunction``, which is
what APScheduler uses from Python 3.14 on (asyncio's own also accepts the markers of
the removed ``@asyncio.coroutine``, which no job of crosspost carries: its scheduler
runs plain functions on threads). The placeholder is removed at once, so the first
code that imports ``asyncio`` afterwards gets the real package, as usual.
"""

from __future__ import annotations

import inspect
import sys
import types

__all__ = ["import_util_without_asyncio"]


def import_util_without_asyncio() -> None:
    """Import ``apscheduler.util`` with the placeholder, unless it or asyncio is loaded."""
    if sys.version_info >= (3, 14) or "asyncio" in sys.modules or "apscheduler.util" in sys.modules:
        return
    placeholder = types.ModuleType("asyncio", "iscoroutinefunction only, while importing")
    placeholder.iscoroutinefunction = inspect.iscoroutinefunction  # type: ignore[attr-defined]
    sys.modules["asyncio"] = placeholder
    try:
        import apscheduler.util  # noqa: F401  (loaded here, with the placeholder)
    finally:
        if sys.modules.get("asyncio") is placeholder:
            del sys.modules["asyncio"]
