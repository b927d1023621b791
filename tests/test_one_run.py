"""``check`` and ``plan`` load a project that lives until they exit: the collector leaves
a large one alone (see tests/test_frozen_load.py for the rules)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from crosspost.loading import project as project_module


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.parametrize("command", [["check"], ["plan", "--until", "1d"]])
@pytest.mark.usefixtures("unfrozen")
def test_a_one_run_command_freezes_a_large_project(
    example_project: Path,
    run_cli: Callable[..., Result],
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(project_module, "FREEZE_AFTER", 0)  # the example, as if it were large
    result = run_cli(example_project, *command)
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("unfrozen")
def test_a_small_project_is_left_to_the_collector(
    example_project: Path, run_cli: Callable[..., Result]
) -> None:
    result = run_cli(example_project, "check")
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("unfrozen")
def test_status_leaves_the_collector_as_it_was(
    example_project: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(project_module, "FREEZE_AFTER", 0)
    result = run_cli(example_project, "status")
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() == 0
