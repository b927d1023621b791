"""``check`` and ``plan`` load a project that lives until they exit: the collector leaves it,
whatever its size (the collection at the interpreter's exit walked the example's objects
for 50 ms). The daemon's project: tests/test_frozen_load.py."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.parametrize("command", [["check"], ["plan", "--until", "1d"]])
@pytest.mark.usefixtures("unfrozen")
def test_a_one_run_command_freezes_what_it_loaded(
    example_project: Path, run_cli: Callable[..., Result], command: list[str]
) -> None:
    result = run_cli(example_project, *command)
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("unfrozen")
def test_status_leaves_the_collector_as_it_was(
    example_project: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli(example_project, "status")
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() == 0
