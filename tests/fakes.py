"""Test doubles for the run side: a scriptable in-memory connector, a clock, project files.

The fake connector is registered under the names ``fake`` and ``fake-reconcile``
by :func:`install`, which monkeypatches :func:`crosspost.loading.registry.load` (no entry
point, pyproject untouched). What each ``publish`` call does is scripted per
account on the shared :class:`FakePlatform`::

    platform = install(monkeypatch)
    platform.script("alpha", Transient("503"), "ok")   # first call fails, then succeeds
    platform.script("beta", partial_thread(Transient("part 2 failed")))

An unscripted call succeeds. Every call, successful or not, is kept in ``calls``.
"""

from __future__ import annotations

import os
import shutil
import textwrap
import threading
import xml.etree.ElementTree as ET
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result

from connectors.base import (
    BaseConnector,
    Capability,
    ConnectorError,
    ConnectorSettings,
    ConnectorState,
    Limits,
    Published,
    RenderedPost,
    Unknown,
)
from crosspost.cli import cli
from crosspost.loading import registry
from crosspost.publishing.daemon import Daemon

__all__ = [
    "Call",
    "CommentingFakeConnector",
    "FakeClock",
    "FakeConnector",
    "FakePlatform",
    "ReconcilingFakeConnector",
    "copy_example",
    "edit",
    "feed_entries",
    "install",
    "LimitsReportingFakeConnector",
    "partial_thread",
    "platform",
    "report_limits",
    "settled_reload",
    "write_project",
]


class FakeClock:
    """A clock that only moves when told to (UTC)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta``; return the new time."""
        self.now += delta
        return self.now

    def set(self, now: datetime) -> None:
        """Jump to ``now``."""
        self.now = now


@dataclass(frozen=True)
class _Partial:
    """Script action: the first part goes out, then ``error`` stops the thread."""

    error: ConnectorError


def partial_thread(error: ConnectorError) -> _Partial:
    """A script action for a thread that broke after its first part."""
    return _Partial(error)


#: What a script step may be: "ok", an error to raise, a partial thread, or a
#: callable run before succeeding (to stop a daemon mid-run, for instance).
Action = str | ConnectorError | _Partial | Callable[[], None]


@dataclass(frozen=True)
class Call:
    """One ``publish`` call the fake received."""

    account: str
    key: str
    text: str
    parts: tuple[str, ...]
    outcome: str  # "ok", "partial" or the error class name


@dataclass
class FakePlatform:
    """What every fake account has published, and what it will do next."""

    calls: list[Call] = field(default_factory=list)
    posts: dict[str, Published] = field(default_factory=dict)  # by idempotency key
    scripts: dict[str, deque[Action]] = field(default_factory=lambda: defaultdict(deque))
    #: Accounts where a call that raised ``Unknown`` did in fact go out.
    landed: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: int = 0
    #: Remote ids passed to ``delete``, in call order, and the error each one raises.
    delete_calls: list[str] = field(default_factory=list)
    #: What each delete was handed besides the id (the post's recorded ``extra``).
    delete_extras: list[dict[str, Any]] = field(default_factory=list)
    delete_errors: dict[str, Exception] = field(default_factory=dict)
    #: First comments: the idempotency key of each ``publish_comment`` → the post it is under.
    comment_parents: dict[str, str] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget everything (between tests)."""
        self.calls.clear()
        self.posts.clear()
        self.scripts.clear()
        self.landed.clear()
        self.counter = 0
        self.delete_calls.clear()
        self.delete_extras.clear()
        self.delete_errors.clear()
        self.comment_parents.clear()

    def script(self, account: str, *actions: Action) -> None:
        """Append what the next ``publish`` calls of ``account`` do, in order."""
        self.scripts[account].extend(actions)

    def published(self, account: str | None = None) -> list[Call]:
        """Successful calls (``ok`` or ``partial``), optionally of one account."""
        return [
            c
            for c in self.calls
            if c.outcome in ("ok", "partial") and (account is None or c.account == account)
        ]

    def next_action(self, account: str) -> Action:
        with self.lock:
            queue = self.scripts.get(account)
            return queue.popleft() if queue else "ok"

    def record(self, account: str, key: str, post: RenderedPost, outcome: str) -> None:
        with self.lock:
            self.calls.append(Call(account, key, post.text, post.parts, outcome))

    def make_published(self, account: str, key: str, parts: int) -> Published:
        with self.lock:
            self.counter += 1
            number = self.counter
        ids = tuple(f"{account}-{number}-{i}" for i in range(parts))
        published = Published(
            remote_id=ids[0],
            url=f"https://fake.example/{account}/{ids[0]}",
            published_at=datetime(2026, 1, 1, tzinfo=UTC),
            thread_ids=ids,
            extra={"album": list(ids)},
        )
        self.posts[key] = published
        return published


#: The one platform every fake connector talks to.
platform = FakePlatform()


class FakeConnector(BaseConnector["FakeConnector.Settings"]):
    """An in-memory connector whose every ``publish`` is scripted on :data:`platform`."""

    name: ClassVar[str] = "fake"
    limits: ClassVar[Limits] = Limits(max_length=10_000)
    capabilities: frozenset[Capability] = frozenset({Capability.THREADS})

    class Settings(ConnectorSettings):
        """Nothing needed; ``label`` only shows that settings reach the connector."""

        label: str = ""

    def __init__(
        self, account: str, settings: ConnectorSettings, state: ConnectorState | None = None
    ) -> None:
        super().__init__(account, settings, state)

    def publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        action = platform.next_action(self.account)
        if callable(action) and not isinstance(action, ConnectorError | _Partial):
            action()
            action = "ok"
        if isinstance(action, ConnectorError):
            platform.record(self.account, idempotency_key, post, type(action).__name__)
            if isinstance(action, Unknown) and self.account in platform.landed:
                platform.make_published(self.account, idempotency_key, len(post.parts))
            raise action
        if isinstance(action, _Partial):
            platform.record(self.account, idempotency_key, post, "partial")
            action.error.partial = platform.make_published(self.account, idempotency_key, 1)
            raise action.error
        platform.record(self.account, idempotency_key, post, "ok")
        return platform.make_published(self.account, idempotency_key, len(post.parts))

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        return None


class ReconcilingFakeConnector(FakeConnector):
    """A fake that declares ``RECONCILE``: ``find_recent`` sees posts that landed."""

    name: ClassVar[str] = "fake-reconcile"
    capabilities: frozenset[Capability] = frozenset({Capability.THREADS, Capability.RECONCILE})

    def find_recent(self, idempotency_key: str, text: str) -> Published | None:
        return platform.posts.get(idempotency_key)


class DeletingFakeConnector(FakeConnector):
    """A fake that declares ``DELETE``; ``platform.delete_errors`` scripts failures by id."""

    name: ClassVar[str] = "fake-delete"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.THREADS, Capability.DELETE}
    )

    def delete(self, remote_id: str, extra: Mapping[str, Any] | None = None) -> None:
        with platform.lock:
            platform.delete_calls.append(remote_id)
            platform.delete_extras.append(dict(extra or {}))
            error = platform.delete_errors.pop(remote_id, None)
        if error is not None:
            raise error


class CommentingFakeConnector(FakeConnector):
    """A fake that declares ``FIRST_COMMENT``: ``publish_comment`` is scripted as ``publish``."""

    name: ClassVar[str] = "fake-comment"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.THREADS, Capability.FIRST_COMMENT}
    )

    def publish_comment(
        self, post: RenderedPost, parent: Published, idempotency_key: str
    ) -> Published:
        with platform.lock:
            platform.comment_parents[idempotency_key] = parent.remote_id
        return self.publish(post, idempotency_key)


class LongFormFakeConnector(FakeConnector):
    """A fake that takes articles whole (``LONG_FORM``), as a blog would."""

    name: ClassVar[str] = "fake-longform"
    capabilities: frozenset[Capability] = frozenset({Capability.LONG_FORM})
    #: The posts it was handed, to look at their article fields.
    received: ClassVar[list[RenderedPost]] = []

    def publish(self, post: RenderedPost, idempotency_key: str) -> Published:
        self.received.append(post)
        return super().publish(post, idempotency_key)


class LimitsReportingFakeConnector(FakeConnector):
    """The fake connector of a server that reports its own limits (``ReportsLimits``).

    A subclass, not the fake patched: ``isinstance`` on a runtime protocol caches a
    class it once found to match, so a patched class would keep matching after the
    patch is undone, in every later test.
    """

    reported: ClassVar[dict[str, object]] = {}

    def reported_limits(self) -> Mapping[str, object] | None:
        return dict(self.reported) or None

    def use_reported_limits(self, data: Mapping[str, object]) -> None:
        return None


def report_limits(monkeypatch: pytest.MonkeyPatch, reported: Mapping[str, object]) -> None:
    """From now on connectors ``fake`` built (by a load or a reload) report ``reported``."""
    monkeypatch.setattr(LimitsReportingFakeConnector, "reported", dict(reported))
    monkeypatch.setitem(_FAKES, FakeConnector.name, LimitsReportingFakeConnector)


_FAKES: dict[str, type[Any]] = {
    LongFormFakeConnector.name: LongFormFakeConnector,
    FakeConnector.name: FakeConnector,
    ReconcilingFakeConnector.name: ReconcilingFakeConnector,
    DeletingFakeConnector.name: DeletingFakeConnector,
    CommentingFakeConnector.name: CommentingFakeConnector,
}


def install(monkeypatch: pytest.MonkeyPatch) -> FakePlatform:
    """Make ``fake`` and ``fake-reconcile`` loadable connectors; return the clean platform."""
    real = registry.load

    def load(name: str) -> Any:
        return _FAKES[name] if name in _FAKES else real(name)

    monkeypatch.setattr(registry, "load", load)
    platform.reset()
    LongFormFakeConnector.received.clear()
    return platform


def write_project(
    base: Path,
    posts: str,
    accounts: Sequence[str] = ("alpha", "beta"),
    *,
    connector: str = "fake",
    content: str | None = None,
    timezone: str = "UTC",
) -> Path:
    """Write a ``schedule.yaml`` with fake accounts and inline content; return its path.

    ``posts`` is the YAML of the ``posts:`` list (dedented, without the key).
    """
    account_yaml = "".join(f"  {name}:\n    connector: {connector}\n" for name in accounts)
    content_yaml = content or textwrap.dedent(
        """\
        - id: hello
          title: Hello
          body: Hello from the makerspace.
        - id: other
          title: Other
          body: Something else entirely.
        """
    )
    text = (
        f"timezone: {timezone}\n"
        f"accounts:\n{account_yaml}"
        "content:\n"
        + textwrap.indent(content_yaml, "  ")
        + "posts:\n"
        + textwrap.indent(textwrap.dedent(posts), "  ")
    )
    path = base / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    return path


REPO = Path(__file__).resolve().parent.parent
ATOM = "{http://www.w3.org/2005/Atom}"


def copy_example(base: Path) -> Path:
    """Copy the repository's example (schedule.yaml, content/, templates/) into ``base``."""
    shutil.copy(REPO / "schedule.yaml", base / "schedule.yaml")
    shutil.copytree(REPO / "content", base / "content")
    shutil.copytree(REPO / "templates", base / "templates")
    return base / "schedule.yaml"


def feed_entries(path: Path) -> list[dict[str, str]]:
    """The entries of an Atom feed file, newest first: id, title and content text."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{ATOM}feed"
    return [
        {
            "id": entry.findtext(f"{ATOM}id") or "",
            "title": entry.findtext(f"{ATOM}title") or "",
            "content": entry.findtext(f"{ATOM}content") or "",
        }
        for entry in root.findall(f"{ATOM}entry")
    ]


def edit(path: Path, text: str | bytes) -> None:
    """Rewrite a file as an editor saves it, so that its mtime surely changes."""
    before = path.stat().st_mtime
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    os.utime(path, (before + 10, before + 10))


def settled_reload(daemon: Daemon, clock: FakeClock) -> bool:
    """Look at the files twice, ``settle`` apart, as the running daemon's rounds do."""
    assert daemon.reload_if_changed() is False  # just saved: wait until it stops changing
    clock.advance(daemon.settle)
    return daemon.reload_if_changed()


def run_in(folder: Path, *args: str) -> Result:
    """``crosspost -s folder/schedule.yaml --database sqlite:///folder/x.db args``."""
    database = f"sqlite:///{folder}/x.db"
    return CliRunner().invoke(
        cli, ["-s", str(folder / "schedule.yaml"), "--database", database, *args]
    )
