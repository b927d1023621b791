"""A throwaway PostgreSQL database for a benchmark, on the server of ``CROSSPOST_BENCH_PG``.

Default ``postgresql://postgres@127.0.0.1:5432/test`` (trust auth on loopback, as on
the development machine); each database is named ``crosspost_<purpose>_<random>`` and
dropped at the end, even when the benchmark fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["fresh_database", "reachable"]

_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def _server() -> str:
    return os.environ.get("CROSSPOST_BENCH_PG", _DEFAULT)


def reachable() -> bool:
    """Whether the server answers (a benchmark skips its PostgreSQL run otherwise)."""
    import psycopg

    try:
        with psycopg.connect(_server(), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextmanager
def fresh_database(purpose: str) -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards."""
    import psycopg

    base = _server()
    server, _, _name = base.rpartition("/")
    name = f"crosspost_{purpose}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{server}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
