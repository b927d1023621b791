"""What every command gets (:class:`AppContext`): the schedule, the project and the store.

The heavy parts (SQLAlchemy, the store, the project loader) are imported when used.
"""

from __future__ import annotations

import gc
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crosspost.cli.output import echo
from crosspost.errors import ConfigError, CrosspostError, Problem
from crosspost.logs import mask_secrets

if TYPE_CHECKING:
    from crosspost.loading.project import Project
    from crosspost.store import Store

__all__ = [
    "AppContext",
    "existing_store",
    "existing_url",
    "missing_database",
    "reason",
    "sqlalchemy_error",
    "store_to_read",
    "utc_now",
]


@dataclass
class AppContext:
    """What every command gets: where the schedule and the database are."""

    schedule: Path
    database: str | None
    debug: bool = False
    #: A warning about an unreadable database was printed (it is said once per command).
    _warned_unreadable: bool = field(default=False, repr=False)

    def warn_unreadable(self, url: str, exc: BaseException) -> None:
        """Say, once, that the database cannot be read and what a reading command does
        without it (``check`` counts with known defaults and no history)."""
        if self._warned_unreadable:
            return
        self._warned_unreadable = True
        echo(
            f"warning: the database {_url_shown(url)} cannot be read ({reason(exc)}); "
            "counting with known defaults, without its history or approvals",
            err=True,
        )

    def project(self, *, for_one_run: bool = False, keep: bool = False) -> Project:
        """Load the project; secrets it resolves are masked in logs from now on.

        ``for_one_run``: the project lives until the command exits (``check``, ``plan``),
        so the garbage collector is told to leave it alone, and everything else alive:
        an agency's project is millions of objects, and every full collection would walk
        them all; so would the one at the interpreter's exit (50 ms for the example).
        ``keep``: the daemon's, which lives until a reload replaces it: a large one is
        left alone until the daemon's first quiet moment (see
        :func:`~crosspost.loading.project.load_project`).
        """
        from crosspost.loading.project import load_project

        project = load_project(self.schedule, keep=keep or for_one_run)
        mask_secrets(project.secret_values())
        if for_one_run:
            gc.freeze()
        return project

    def named_database(self) -> str | None:
        """The database named by ``--database`` or the environment, if any."""
        from crosspost.loading.settings import database_url_setting

        return self.database or database_url_setting()

    def database_url(self) -> str:
        """The database the store opens: the one named, else the default next to the schedule.

        Raises:
            ConfigError: no database named and no schedule to put the default next to.
        """
        from crosspost.loading.settings import default_database_url

        url = self.named_database()
        if url is not None:
            return url
        if not self.schedule.is_file():
            raise ConfigError(
                [
                    Problem.at(
                        self.schedule,
                        1,
                        1,
                        "schedule file not found (give -s PATH, or --database URL)",
                    )
                ]
            )
        return default_database_url(self.schedule)

    def store(self) -> Store:
        """Open (and migrate) the store.

        Raises:
            ConfigError: no database named and no schedule to put the default next to.
            CrosspostError: the database cannot be reached.
        """
        from sqlalchemy.exc import ArgumentError, SQLAlchemyError

        from crosspost.store import Store

        url = self.database_url()
        try:
            return Store(url)
        except (ArgumentError, ImportError) as exc:  # not a URL, or its driver is missing
            raise click.BadParameter(reason(exc), param_hint="--database") from None
        except (SQLAlchemyError, OSError) as exc:
            raise CrosspostError(
                f"cannot open the database {_url_shown(url)}: {reason(exc)}"
            ) from None


def _url_shown(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from crosspost.store.db import normalise_url

    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def reason(exc: BaseException) -> str:
    """The first line of what went wrong, from the driver when there is one."""
    dbapi_error = sqlalchemy_error("DBAPIError")
    cause = getattr(exc, "orig", exc) if dbapi_error and isinstance(exc, dbapi_error) else exc
    if isinstance(cause, OSError) and cause.strerror:
        where = f"{cause.filename}: " if cause.filename else ""
        return f"{where}{cause.strerror}"
    return (str(cause).splitlines() or [type(cause).__name__])[0]


def sqlalchemy_error(name: str) -> type[Exception] | None:
    """``sqlalchemy.exc.<name>`` if SQLAlchemy was imported; else none of its errors can occur."""
    module = sys.modules.get("sqlalchemy.exc")
    found = getattr(module, name, None) if module is not None else None
    return found if isinstance(found, type) and issubclass(found, Exception) else None


def utc_now() -> datetime:
    return datetime.now(UTC)


def existing_url(app: AppContext) -> str | None:
    """The database named, or the default one, unless it is a SQLite file not there yet:
    reading commands never create the database."""
    from crosspost.loading.settings import default_database_url

    url = app.named_database() or default_database_url(app.schedule)
    return None if _missing_file(url) is not None else url


def missing_database(app: AppContext) -> Path | None:
    """The SQLite file the store would create, if it is not there yet: a reading command
    says there is nothing yet instead of leaving an empty database behind.

    Raises:
        ConfigError: no database named and no schedule to put the default next to.
    """
    return _missing_file(app.database_url())


def store_to_read(app: AppContext) -> Store:
    """The store for a command that only reads it: while its SQLite file is not there yet,
    an empty one in memory (it reads the same as a new database, and leaves no file)."""
    if missing_database(app) is None:
        return app.store()
    from crosspost.store import Store

    return Store("sqlite://")


def _missing_file(url: str) -> Path | None:
    """The file of a SQLite URL if it is not there yet and the store could create it;
    None for a file that is there, another database, or a file the store cannot make
    (under a file, or past a folder it may not read: the store says why)."""
    from crosspost.history import sqlite_path

    path = sqlite_path(url)
    if path is None:
        return None
    try:
        if path.exists():
            return None
        nearest = next(folder for folder in path.absolute().parents if folder.exists())
    except OSError:
        return None
    return path if nearest.is_dir() else None


def readable_url(app: AppContext) -> str | None:
    """The database a reading command may read without the store: :func:`existing_url`,
    when it is named or the schedule it belongs to exists (else the store says why)."""
    url = existing_url(app)
    return url if url is not None and (app.named_database() or app.schedule.is_file()) else None


def existing_store(app: AppContext) -> Store | None:
    """The store if there is one: reading commands never create the database."""
    url = existing_url(app)
    if url is None:
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from crosspost.store import Store

    try:
        return Store(url)
    except SQLAlchemyError as exc:
        app.warn_unreadable(url, exc)
        return None
