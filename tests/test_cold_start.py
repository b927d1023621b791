"""Fast start: --help imports none of the heavy parts; lazy commands list the right summary.

The figures themselves are measured by ``python -m benchmarks.coldstart``, never asserted.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from crosspost.cli import cli
from crosspost.lazy_group import summary_of

HEAVY = ("sqlalchemy", "alembic", "sqlmodel", "jinja2", "connectors", "pydantic", "apscheduler")

PROBE = """
import sys
from crosspost.cli import main
heavy, sys.argv = sys.argv[1], ["crosspost", *sys.argv[2:]]
try:
    main()
except SystemExit:
    pass
loaded = {name.split(".")[0] for name in sys.modules}
print("LOADED", " ".join(sorted(loaded & set(heavy.split(",")))))
"""


def _loaded_after(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("LOADED"))
    return set(line.split()[1:])


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("status", "--help")])
def test_help_imports_no_heavy_module(args: tuple[str, ...]) -> None:
    assert _loaded_after(*args) == set()


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
