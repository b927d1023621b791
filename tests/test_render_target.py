"""``plan``, ``publish`` and the daemon render a publication for one and the same target."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import Connector, RenderedPost
from crosspost.loading.content_item import ContentItem
from crosspost.loading.project import Project, load_project
from crosspost.planning.preview import plan_posts
from crosspost.publishing.oneoff import publish_now
from crosspost.publishing.publisher import Publisher
from crosspost.rendering.render import Renderer, text_hash
from crosspost.rendering.target import Target
from crosspost.store import PlannedRow, Store
from tests.conftest import write_file
from tests.fakes import FakeClock, FakePlatform, install, write_project

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
#: An entry in a zone of its own, with every option that reaches the target set.
POSTS = """\
- id: launch
  content: hello
  to: [alpha]
  at: 2026-03-02 09:30
  timezone: America/New_York
  utm: false
  numbering: true
"""
TEMPLATE = "{{ body }} ({{ entry }}, {{ occurrence }}, {{ platform }}/{{ account }})"


@pytest.fixture
def targets(monkeypatch: pytest.MonkeyPatch) -> list[Target]:
    """Every target the renderer is asked for, in order."""
    seen: list[Target] = []
    render = Renderer.render

    def spy(
        self: Renderer, item: ContentItem, target: Target, connector: Connector
    ) -> RenderedPost:
        seen.append(target)
        return render(self, item, target, connector)

    monkeypatch.setattr(Renderer, "render", spy)
    return seen


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Project, Store]]:
    install(monkeypatch)
    # the schedule's zone is neither UTC nor the entry's: a target built from the wrong
    # one shows in the rendered text
    path = write_project(tmp_path, POSTS, ("alpha",), timezone="Europe/Berlin")
    write_file(tmp_path / "templates" / "default.j2", TEMPLATE)
    store = Store(f"sqlite:///{tmp_path}/x.db")
    yield load_project(path), store
    store.close()


def test_plan_and_daemon_render_a_scheduled_post_for_the_same_target(
    world: tuple[Project, Store], targets: list[Target]
) -> None:
    project, store = world
    (planned,) = plan_posts(project, T0, T0 + timedelta(days=2))
    due = datetime.fromisoformat(planned.due_at)
    row = PlannedRow("launch", planned.occurrence, "alpha", "hello", due, due + timedelta(hours=1))
    store.add_planned([row], T0)
    (stored,) = store.publications()
    sent = Publisher(store, project, clock=FakeClock(due)).render(stored)
    plan_target, daemon_target = targets
    assert plan_target == daemon_target
    assert (daemon_target.entry, daemon_target.utm, daemon_target.numbering) == (
        "launch",
        False,
        True,
    )
    assert str(daemon_target.occurrence) == "2026-03-02 09:30:00-05:00"
    assert text_hash(planned.parts) == text_hash(sent.parts)


def test_publish_renders_what_the_daemon_sends_for_a_one_off(
    world: tuple[Project, Store], targets: list[Target], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, store = world
    platform: FakePlatform = install(monkeypatch)
    (dry,) = publish_now(project, store, "hello", "alpha", dry_run=True, clock=FakeClock(T0))
    (result,) = publish_now(project, store, "hello", "alpha", clock=FakeClock(T0))
    checked, published, sent = targets  # dry run; publish's check; the publisher's send
    assert checked == published == sent
    assert sent.occurrence is not None and str(sent.occurrence) == "2026-03-02 09:00:00+01:00"
    assert result.status == "published"
    assert [c.text for c in platform.calls] == ["\n".join(dry.parts)]
