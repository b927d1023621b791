"""The next free slot: ``at: next-slot`` entries and ``publish --next-slot``."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from crosspost.errors import ConfigError
from crosspost.loading.project import load_project
from crosspost.planning.preview import plan_page
from crosspost.planning.slots import QueuePlanner
from crosspost.planning.upcoming import PlanFilter
from crosspost.publishing.daemon import Daemon
from crosspost.store import Store
from tests.fakes import FakeClock, FakePlatform, run_in

#: Sunday 12:00 in Kyiv; the queue's next slot is Monday 10:00 (08:00 UTC).
T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
MONDAY = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def write(base: Path, posts: str = "") -> Path:
    text = textwrap.dedent(
        """\
        timezone: Europe/Kyiv
        accounts:
          alpha: {connector: fake}
          beta: {connector: fake}
          gamma: {connector: fake}
        content:
          - {id: tip-a, title: A, body: Tip A.}
          - {id: tip-b, title: B, body: Tip B.}
          - {id: news, title: News, body: Big news.}
        queues:
          - id: tips
            to: [alpha, beta]
            content: [tip-a, tip-b]
            slots: [{times: ["10:00"]}]
            fill_gaps: 30m
        """
    )
    path = base / "schedule.yaml"
    path.write_text(text + ("posts:\n" + textwrap.indent(posts, "  ") if posts else ""), "utf-8")
    return path


NEWS = """\
- id: news
  content: news
  to: [alpha]
  at: next-slot
"""


def rows(store: Store) -> dict[tuple[str, str], tuple[str, str, datetime]]:
    return {
        (r.entry, r.account): (str(r.status), r.content_id, r.due_at.replace(tzinfo=UTC))
        for r in store.publications()
        if r.due_at.replace(tzinfo=UTC) < MONDAY + timedelta(hours=1)
    }


def test_an_entry_at_next_slot_is_pinned_once_and_the_queue_gives_way(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    path = write(tmp_path, NEWS)
    project = load_project(path)
    posts, _ = plan_page(
        project, T0, T0 + timedelta(days=1), 0, PlanFilter(), QueuePlanner(project, None, T0)
    )
    shown = {(p.entry, p.account): (p.due_at, p.content, p.note) for p in posts}
    assert shown["news", "alpha"][:2] == (MONDAY.isoformat(), "news")
    assert shown["queue:tips", "alpha"][1] == "-"
    assert shown["queue:tips", "alpha"][2].startswith("slot taken by news at 2026-12-07 10:00")
    assert shown["queue:tips", "beta"][1] == "tip-a"

    clock = FakeClock(T0)
    Daemon(path, store, clock=clock).run_once()
    pinned = store.find("news", "next-slot", "alpha")
    assert pinned is not None and pinned.due_at.replace(tzinfo=UTC) == MONDAY
    clock.set(T0 + timedelta(hours=6))  # a later sync (another process) does not move it
    Daemon(path, Store(store.url), clock=clock).run_once()
    assert len([r for r in store.publications() if r.entry == "news"]) == 1
    clock.set(MONDAY + timedelta(seconds=30))
    Daemon(path, store, clock=clock).run_once()
    assert rows(store) == {
        ("news", "alpha"): ("published", "news", MONDAY),
        ("queue:tips", "alpha"): ("cancelled", "queue:tips", MONDAY),
        ("queue:tips", "beta"): ("published", "tip-a", MONDAY),
    }
    clock.set(MONDAY + timedelta(days=3, seconds=30))
    Daemon(path, store, clock=clock).run_once()
    assert [c.text for c in platform.calls].count("Big news.") == 1  # once, not every day


def test_a_next_slot_account_without_a_queue_is_refused_at_its_line(
    tmp_path: Path, platform: FakePlatform
) -> None:
    path = write(tmp_path, NEWS.replace("[alpha]", "[alpha, gamma]"))
    with pytest.raises(ConfigError) as caught:
        load_project(path)
    (problem,) = caught.value.problems
    assert problem.line == 20 and "posts.0.at: next-slot, but no queue has slots for gamma" in (
        problem.message
    )


def test_publish_next_slot_plans_for_the_slot_and_the_daemon_sends_it(
    tmp_path: Path, platform: FakePlatform
) -> None:
    write(tmp_path)
    with time_machine.travel(T0, tick=False):
        first = run_in(tmp_path, "publish", "news", "--to", "alpha,beta", "--next-slot", "--json")
        again = run_in(tmp_path, "publish", "news", "--to", "alpha", "--next-slot")
        plan = run_in(tmp_path, "plan", "--until", "1d", "--json")
    assert first.exit_code == 0, first.output
    results = json.loads(first.stdout)["publications"]
    assert [(r["account"], r["status"], r["due_at"]) for r in results] == [
        ("alpha", "planned", "2026-12-07T10:00:00+02:00"),
        ("beta", "planned", "2026-12-07T10:00:00+02:00"),
    ]
    assert platform.calls == []  # nothing is sent now
    assert again.exit_code == 0 and "already planned" in again.stdout
    # the queue fills gaps only: the one-off now takes both accounts' Monday slot
    shown = json.loads(plan.stdout)["publications"]
    queue = [p for p in shown if p["entry"] == "queue:tips"]
    assert [p["content"] for p in queue] == ["-", "-"]
    assert all(p["note"].startswith("slot taken by publish:news") for p in queue)
    with time_machine.travel(MONDAY + timedelta(seconds=30), tick=False):
        sent = run_in(tmp_path, "daemon", "--once")
    assert sent.exit_code == 0, sent.output
    assert sorted(c.account for c in platform.calls) == ["alpha", "beta"]
    assert {c.text for c in platform.calls} == {"Big news."}


def test_publish_next_slot_refuses_what_has_no_slot(tmp_path: Path, platform: FakePlatform) -> None:
    write(tmp_path)
    with time_machine.travel(T0, tick=False):
        no_queue = run_in(tmp_path, "publish", "news", "--to", "gamma", "--next-slot")
        unknown = run_in(
            tmp_path, "publish", "news", "--to", "alpha", "--next-slot", "--queue", "tps"
        )
        alone = run_in(tmp_path, "publish", "news", "--to", "alpha", "--queue", "tips")
    assert no_queue.exit_code == 2
    assert "no free slot within a year in any queue for gamma" in no_queue.stderr
    assert unknown.exit_code == 2 and 'no queue "tps" (known: tips)' in unknown.stderr
    assert alone.exit_code == 2 and "--queue goes with --next-slot" in alone.stderr
    assert platform.calls == []
