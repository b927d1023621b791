"""A template that fails or runs away fails its own publication only; every other one goes out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from crosspost.loading.project import load_project
from crosspost.publishing.publisher import Publisher
from crosspost.rendering.render import Renderer
from crosspost.rendering.sandbox import RenderLimits
from crosspost.store import PlannedRow, Store
from tests.conftest import write_file
from tests.fakes import FakeClock, FakePlatform, install, write_project
from tests.test_publisher import POSTS, T0

#: ``hello`` renders with the ``spin`` template on alpha only; ``other`` is plain everywhere.
CONTENT = """\
- id: hello
  title: Hello
  body: Hello from the makerspace.
  overrides:
    alpha: {template: spin}
- id: other
  title: Other
  body: Something else entirely.
"""
RUNAWAY = (
    "{{ title }}\n{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"
)
BROKEN = "{{ title }}\n\n{{ 1 / 0 }}"


class _World:
    def __init__(self, tmp_path: Path, platform: FakePlatform, template: str) -> None:
        path = write_project(tmp_path, POSTS, ("alpha", "beta"), content=CONTENT)
        write_file(tmp_path / "templates" / "spin.j2", template)
        self.platform = platform
        self.project = load_project(path)
        # a short render time bound keeps the test quick; the default is 2 s
        self.project.renderer = Renderer(
            tmp_path / "templates", tmp_path, RenderLimits(seconds=0.2)
        )
        self.store = Store(f"sqlite:///{tmp_path}/x.db")
        self.publisher = Publisher(self.store, self.project, clock=FakeClock(T0))
        rows = [
            PlannedRow("launch", "o1", "alpha", "hello", T0, T0 + timedelta(hours=1)),
            PlannedRow("launch", "o2", "alpha", "other", T0, T0 + timedelta(hours=1)),
            PlannedRow("launch", "o1", "beta", "hello", T0, T0 + timedelta(hours=1)),
        ]
        self.store.add_planned(rows, T0)


@pytest.fixture(
    params=[
        ("runaway", RUNAWAY, 2, "render time bound"),
        ("broken", BROKEN, 3, "division by zero"),
    ],
    ids=lambda p: p[0],
)
def case(request: pytest.FixtureRequest) -> tuple[str, str, int, str]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: tuple[str, str, int, str]
) -> Iterator[_World]:
    made = _World(tmp_path, install(monkeypatch), case[1])
    yield made
    made.store.close()


def test_failing_template_fails_only_its_publication(
    world: _World, case: tuple[str, str, int, str]
) -> None:
    _, _, line, reason = case
    outcomes = world.publisher.run_due()
    rows = {(r.occurrence, r.account): r for r in world.store.publications()}
    failed = rows[("o1", "alpha")]
    assert failed.status == "failed"
    assert (failed.error or "").startswith(f"cannot render: templates/spin.j2:{line}:")
    assert reason in (failed.error or "")
    # the same account's other post and the other account's post both went out
    assert rows[("o2", "alpha")].status == "published"
    assert rows[("o1", "beta")].status == "published"
    assert sorted(c.account for c in world.platform.published()) == ["alpha", "beta"]
    assert sorted(o.status for o in outcomes) == ["failed", "published", "published"]
