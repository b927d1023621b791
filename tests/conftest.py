"""Shared fixtures: the example project in a temp dir, tiny schedules, and the CLI."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crosspost.cli import cli
from crosspost.store import Store
from tests.fakes import FakePlatform, install
from tests.test_store import pg_url  # noqa: F401  (a fresh PostgreSQL database, for each_store)

REPO = Path(__file__).resolve().parent.parent
SCHEDULES = Path(__file__).resolve().parent / "fixtures" / "schedules"


@pytest.fixture
def example_project(tmp_path: Path) -> Path:
    """A copy of the repo's example (schedule.yaml, content/, templates/); its schedule path."""
    shutil.copy(REPO / "schedule.yaml", tmp_path / "schedule.yaml")
    shutil.copytree(REPO / "content", tmp_path / "content")
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    return tmp_path / "schedule.yaml"


def write_file(path: Path, text: str) -> Path:
    """Write dedented ``text`` to ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def write_schedule(tmp_path: Path) -> Callable[[str], Path]:
    """``write_schedule(text)`` writes ``tmp_path/schedule.yaml`` and returns its path."""

    def write(text: str, name: str = "schedule.yaml") -> Path:
        return write_file(tmp_path / name, text)

    return write


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., Result]:
    """``run_cli(schedule, *args)``: ``crosspost -s schedule --database <tmp> args``."""

    def run(schedule: Path, *args: str) -> Result:
        runner = CliRunner()
        database = f"sqlite:///{tmp_path / 'x.db'}"
        return runner.invoke(cli, ["-s", str(schedule), "--database", database, *args])

    return run


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> FakePlatform:
    """The fake platform, its ``fake`` connectors loadable (see tests/fakes.py)."""
    return install(monkeypatch)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite store in the test's folder."""
    opened = Store(f"sqlite:///{tmp_path}/x.db")
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def each_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store on SQLite, then on PostgreSQL (marked ``postgres``)."""
    url = f"sqlite:///{tmp_path}/each.db"
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    opened = Store(url)
    try:
        yield opened
    finally:
        opened.close()
