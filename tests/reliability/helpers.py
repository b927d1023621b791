"""Shared pieces of the reliability tests: projects on the mock, clocks, counting.

Every project written here renders a text unique to its entry and occurrence
(``templates/default.j2``), so reconciliation by text can tell posts apart and
the mock's statuses can be matched to publications.
"""

from __future__ import annotations

import os
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crosspost.loading.settings import SecretSource
from crosspost.publishing.daemon import Daemon
from crosspost.store import Publication, Store
from tests.mockplatform import MockMastodon

STATUSES = "/api/v1/statuses"
#: Renders ``<body> [<entry> <local occurrence>]``: one text per publication.
TEMPLATE = "{{ body }} [{{ entry }} {{ occurrence.isoformat() }}]\n"


class Clock:
    """A UTC clock that moves only when told to."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta``; return the new time."""
        self.now += delta
        return self.now


def real_now() -> datetime:
    """The wall clock to the second: connectors read it for ``Retry-After``."""
    return datetime.now(UTC).replace(microsecond=0)


def mastodon_account(name: str, url: str, token_var: str) -> str:
    """The YAML of one Mastodon account on the mock."""
    return (
        f"  {name}:\n    connector: mastodon\n    instance: {url}\n"
        f"    access_token: ${{{token_var}}}\n"
    )


def folder_account(name: str, path: str) -> str:
    """The YAML of one folder account (a notify target that needs no network)."""
    return f"  {name}:\n    connector: folder\n    path: {path}\n"


def write_project(
    base: Path, accounts: str, posts: str, *, extra: str = "", timezone: str = "UTC"
) -> Path:
    """Write ``schedule.yaml`` (one inline content ``c``) and the unique-text template."""
    (base / "templates").mkdir(parents=True, exist_ok=True)
    (base / "templates" / "default.j2").write_text(TEMPLATE, encoding="utf-8")
    text = (
        f"timezone: {timezone}\naccounts:\n{accounts}"
        "content:\n  - id: c\n    body: Hello from the makerspace.\n"
        f"{extra}posts:\n" + textwrap.indent(textwrap.dedent(posts), "  ")
    )
    path = base / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def rewrite(path: Path, text: str, bump: float = 10.0) -> None:
    """Replace ``path``'s text and move its mtime forward so a reload sees it."""
    stamp = path.stat().st_mtime + bump
    path.write_text(text, encoding="utf-8")
    os.utime(path, (stamp, stamp))


def at(moment: datetime) -> str:
    """A UTC instant as an ``at:`` value."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def make_daemon(
    path: Path, store: Store, clock: Clock, secrets: Mapping[str, str], **kwargs: Any
) -> Daemon:
    """An in-process daemon on a fake clock, secrets given directly (not the environment)."""
    return Daemon(path, store, secrets=SecretSource(environ=dict(secrets)), clock=clock, **kwargs)


def rows(store: Store) -> list[Publication]:
    """Every publication, in due order."""
    return store.publications()


def by_status(store: Store) -> dict[str, list[Publication]]:
    """Publications grouped by status."""
    grouped: dict[str, list[Publication]] = {}
    for row in store.publications():
        grouped.setdefault(row.status, []).append(row)
    return grouped


def posts_made(mock: MockMastodon) -> list[Any]:
    """Every ``POST /api/v1/statuses`` the mock received, answered or not."""
    return [r for r in mock.requests if r.method == "POST" and r.path == STATUSES]


def key_counts(mock: MockMastodon) -> Counter[str]:
    """How many stored statuses each idempotency key produced."""
    return Counter(str(s["idempotency_key"]) for s in mock.statuses)


def post_counts(mock: MockMastodon) -> Counter[str]:
    """How many times each idempotency key was POSTed."""
    return Counter(r.headers.get("idempotency-key", "") for r in posts_made(mock))


def texts(mock: MockMastodon) -> list[str]:
    """The HTML content of every stored status."""
    return [str(s["content"]) for s in mock.statuses]


def status_by_id(mock: MockMastodon) -> dict[str, dict[str, Any]]:
    """Stored statuses by id."""
    return {str(s["id"]): s for s in mock.statuses}


def files(folder: Path) -> list[Path]:
    """Files written into a folder account, if any."""
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def ticks(daemon: Daemon, clock: Clock, step: timedelta, count: int) -> list[Any]:
    """Advance the clock by ``step`` and tick, ``count`` times; every outcome."""
    outcomes: list[Any] = []
    for _ in range(count):
        clock.advance(step)
        outcomes += daemon.tick()
    return outcomes


def statuses_of(values: Iterable[Publication]) -> list[str]:
    """The status of each publication."""
    return [row.status for row in values]
