"""Reloading the daemon's project: a changed project replaces the running one only whole.

A reload is applied only when the whole project loads and every upcoming post
renders (as ``check`` does); otherwise the problems are logged with file:line and
the last good project, with its templates and content as they were read, keeps
publishing. A schedule that lost all its posts is refused the same way (an empty
or unfinished save); to stop publishing, the entries say ``enabled: false``.

:class:`~crosspost.publishing.daemon.Daemon` decides when to look (the files
changed and settled, :mod:`crosspost.publishing.watch`) and adopts what
:func:`reloaded` hands back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from crosspost.errors import ConfigError, CrosspostError, Problem
from crosspost.loading.project import Project
from crosspost.planning.checking import check_project

__all__ = ["reloaded", "validated"]

#: The daemon's records keep the logger name they always had (log filters, JSON logs).
log = logging.getLogger("crosspost.publishing.daemon")


def reloaded(
    load: Callable[[], Project], running: Project, clock: Callable[[], datetime], name: str
) -> Project | None:
    """The project ``load`` reads, if it may replace ``running``; else None, logged.

    Args:
        load: reads the project from its files.
        running: the project publishing now (the last good one).
        clock: current UTC time.
        name: the schedule's file name, for the log.
    """
    try:
        return validated(load(), running, clock)
    except CrosspostError as exc:
        log.error("%s not reloaded, the last good plan keeps running:\n%s", name, exc)
        return None
    except Exception as exc:  # whatever a file holds, the daemon keeps publishing
        log.error(
            "%s not reloaded (%s: %s), the last good plan keeps running",
            name,
            type(exc).__name__,
            exc,
        )
        log.debug("reload failure", exc_info=True)
        return None


def validated(project: Project, running: Project, clock: Callable[[], datetime]) -> Project:
    """``project`` if every upcoming post renders and it still has posts.

    It takes over the connectors of ``running`` first (those whose settings did not change).

    Raises:
        ConfigError: the problems, each with file:line.
    """
    before = sum(p.enabled for p in running.schedule.posts)
    if before and not any(p.enabled for p in project.schedule.posts):
        message = (
            f"no posts left (the running plan has {before}); an empty or unfinished save? "
            "To stop publishing, set enabled: false on the entries"
        )
        raise ConfigError([Problem.at(project.path, 1, 1, message)])
    project.adopt_connectors(running)
    problems = check_project(project, clock(), platform_rules=False)
    if problems:
        raise ConfigError(problems)
    return project
