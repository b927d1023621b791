"""The documentation's examples are what the code accepts: a renamed field fails here first."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from crosspost.loading import registry
from crosspost.loading.schedule import AccountSpec, ScheduleFile

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs" / "connectors").glob("*.md"))
BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)
CORE_KEYS = set(AccountSpec.model_fields)


def _yaml_blocks(path: Path) -> list[Any]:
    return [YAML(typ="safe").load(block) for block in BLOCK.findall(path.read_text("utf-8"))]


def _accounts(path: Path) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for block in _yaml_blocks(path):
        if isinstance(block, dict) and isinstance(block.get("accounts"), dict):
            found += [(name, spec) for name, spec in block["accounts"].items() if spec]
    return found


@pytest.mark.parametrize("page", DOCS, ids=[p.stem for p in DOCS])
def test_every_connector_page_shows_an_accounts_entry(page: Path) -> None:
    assert _accounts(page), f"{page.name} has no ```yaml accounts: example"


@pytest.mark.parametrize("page", DOCS, ids=[p.stem for p in DOCS])
def test_account_examples_use_only_real_settings(page: Path) -> None:
    for name, spec in _accounts(page):
        cls = registry.load(spec["connector"])
        known = set(cls.Settings.model_fields) | CORE_KEYS
        unknown = set(spec) - known
        assert not unknown, f"{page.name}: account {name} has unknown keys {sorted(unknown)}"


def test_readme_tour_is_a_valid_schedule() -> None:
    blocks = _yaml_blocks(ROOT / "README.md")
    tour = next(b for b in blocks if isinstance(b, dict) and "posts" in b)
    schedule = ScheduleFile.model_validate(tour)
    assert {p.id for p in schedule.posts} == {"launch", "weekly", "tips"}
    for name, spec in schedule.accounts.items():
        cls = registry.load(spec.connector)
        assert set(spec.settings) <= set(cls.Settings.model_fields), name


def test_readme_event_example_is_a_valid_schedule() -> None:
    blocks = _yaml_blocks(ROOT / "README.md")
    block = next(b for b in blocks if isinstance(b, dict) and "events" in b)
    schedule = ScheduleFile.model_validate(block)
    (event,) = schedule.events
    assert [s.at.name for s in event.steps] == ["-7d", "-1d", "-1h", "start", "+1d"]
    assert schedule.calendar is not None and schedule.calendar.path == "public/events.ics"


def test_readme_week_example_is_a_valid_schedule() -> None:
    from crosspost.planning.queues_spec import QueueSpec

    blocks = _yaml_blocks(ROOT / "README.md")
    block = next(b for b in blocks if isinstance(b, dict) and "queues" in b)
    schedule = ScheduleFile.model_validate(block)
    (tips,) = [QueueSpec.model_validate(raw) for raw in schedule.queues]
    assert (tips.order, tips.cooldown, tips.fill_gaps) == (
        "round-robin",
        timedelta(days=14),
        timedelta(hours=2),
    )
    assert schedule.group_approval == {"press": "required"}
    assert [(p.id, p.next_slot, p.approval) for p in schedule.posts] == [
        ("newsletter", True, None),
        ("statement", False, "required"),
    ]
