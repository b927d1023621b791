"""Evergreen queues: plan's choice is what the daemon sends; cooldown, caps, order, gaps."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import Transient
from crosspost.errors import ConfigError
from crosspost.loading.project import Project, load_project
from crosspost.planning.preview import PlannedPost, plan_page
from crosspost.planning.slots import QueuePlanner
from crosspost.planning.upcoming import PlanFilter
from crosspost.publishing.daemon import Daemon
from crosspost.store import Store
from tests.fakes import FakeClock, FakePlatform, run_in
from tests.test_store import pg_url  # noqa: F401  (the PostgreSQL fixture)

#: A Sunday, noon in Kyiv (UTC+2 in December).
T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)

QUEUE = """\
  - id: tips
    to: [alpha, beta]
    content: [tip-a, tip-b]
    slots:
      - {days: [mon, thu], times: ["10:00"]}
      - {cron: "0 12 * * 6", to: [beta]}
    cooldown: 6d
    fill_gaps: 1h
"""
POSTS = """\
  - id: launch
    content: launch
    to: alpha
    at: 2026-12-10 10:30
"""


def write(base: Path, queues: str = QUEUE, posts: str = POSTS, extra: str = "") -> Path:
    text = textwrap.dedent(
        """\
        timezone: Europe/Kyiv
        accounts:
          alpha: {connector: fake}
          beta: {connector: fake}
        content:
          - {id: tip-a, title: A, body: Tip A., tags: [tip]}
          - {id: tip-b, title: B, body: Tip B., tags: [tip]}
          - {id: tip-c, title: C, body: Tip C., tags: [tip, extra]}
          - {id: launch, title: Launch, body: We launch.}
        """
    )
    text += extra + "queues:\n" + queues + ("posts:\n" + posts if posts else "")
    path = base / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def queue_plan(
    project: Project,
    store: Store | None,
    start: datetime,
    days: int = 14,
    end: datetime | None = None,
) -> dict[tuple[str, str, str], PlannedPost]:
    posts, _ = plan_page(
        project,
        start,
        end or start + timedelta(days=days),
        0,
        PlanFilter(),
        QueuePlanner(project, store, start),
    )
    return {(p.entry, p.occurrence, p.account): p for p in posts if p.entry.startswith("queue:")}


def sent(store: Store) -> dict[tuple[str, str, str], tuple[str, str, str | None]]:
    return {
        (r.entry, r.occurrence, r.account): (str(r.status), r.content_id, r.error)
        for r in store.publications()
        if r.entry.startswith("queue:")
    }


def summary(plan: dict[tuple[str, str, str], PlannedPost]) -> list[tuple[str, str, str]]:
    return [
        (key[1][5:16], key[2], post.content)
        for key, post in sorted(plan.items(), key=lambda kv: (kv[0][1], kv[0][2]))
    ]


def test_plan_names_each_slots_item_and_why(tmp_path: Path, platform: FakePlatform) -> None:
    project = load_project(write(tmp_path))
    plan = queue_plan(project, None, T0)
    assert summary(plan) == [
        ("12-07T10:00", "alpha", "tip-a"),
        ("12-07T10:00", "beta", "tip-a"),
        ("12-10T10:00", "alpha", "-"),  # launch at 10:30 takes it (fill_gaps: 1h)
        ("12-10T10:00", "beta", "tip-b"),
        ("12-12T12:00", "beta", "-"),  # both items in their 6-day cooldown
        ("12-14T10:00", "alpha", "tip-b"),
        ("12-14T10:00", "beta", "tip-a"),
        ("12-17T10:00", "alpha", "tip-a"),
        ("12-17T10:00", "beta", "tip-b"),
        ("12-19T12:00", "beta", "-"),
    ]
    notes = {(k[1][5:10], k[2]): p.note for k, p in plan.items()}
    assert notes["12-07", "alpha"] == "round-robin, first of the pool"
    assert notes["12-10", "alpha"].startswith("slot taken by launch at 2026-12-10 10:30")
    assert notes["12-12", "beta"] == (
        "nothing to post: tip-a is in its cooldown until 2026-12-13 10:00; "
        "tip-b is in its cooldown until 2026-12-16 10:00"
    )
    assert notes["12-14", "beta"] == "round-robin after tip-b"
    # the per-account slot is an entry of its own; all slots are local time in the zone
    assert {k[0] for k in plan} == {"queue:tips", "queue:tips:beta"}
    saturday = next(p for k, p in plan.items() if k[0] == "queue:tips:beta")
    assert saturday.local.startswith("2026-12-12T12:00:00+02:00")


def test_what_plan_chose_is_what_the_daemon_publishes(
    tmp_path: Path, each_store: Store, platform: FakePlatform
) -> None:
    """On SQLite and PostgreSQL: the daemon, slot by slot with a fake clock, restarted halfway."""
    store = each_store
    path = write(tmp_path)
    project = load_project(path)
    expected = queue_plan(project, store, T0)
    clock = FakeClock(T0)
    daemon = Daemon(path, store, clock=clock)
    daemon.run_once()
    slots = sorted({datetime.fromisoformat(p.due_at) for p in expected.values()})
    launch = datetime(2026, 12, 10, 8, 30, tzinfo=UTC)
    for number, due in enumerate(sorted([*slots, launch])):
        clock.set(due + timedelta(seconds=30))
        if number == len(slots) // 2:
            # a restart halfway: a new process plans from the store's history again
            daemon = Daemon(path, Store(store.url), clock=clock)
            start, end = due - timedelta(seconds=1), T0 + timedelta(days=14)
            later = queue_plan(project, store, start, end=end)
            assert summary(later) == [s for s in summary(expected) if s[0] >= later_start(later)]
        daemon.tick()
    got = sent(store)
    assert set(got) == set(expected)
    for key, post in expected.items():
        status, content, error = got[key]
        if post.content == "-":
            assert (status, error) == ("cancelled", post.note), key
        else:
            assert (status, content) == ("published", post.content), key
    calls = platform.calls
    assert len(calls) == sum(p.content != "-" for p in expected.values()) + 1  # and launch
    assert len({c.key for c in calls}) == len(calls)  # one key per publication: no duplicate
    assert daemon.run_once() == []  # nothing left, nothing sent twice


def later_start(plan: dict[tuple[str, str, str], PlannedPost]) -> str:
    return min(key[1][5:16] for key in plan)


def test_a_retry_sends_the_item_chosen_at_the_first_try(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    path = write(tmp_path, posts="")
    clock = FakeClock(datetime(2026, 12, 7, 7, 59, tzinfo=UTC))  # Monday 09:59 in Kyiv
    platform.script("alpha", Transient("503 from the fake"))
    daemon = Daemon(path, store, clock=clock)
    daemon.run_once()
    clock.advance(timedelta(seconds=90))
    daemon.tick()
    row = store.find("queue:tips", "2026-12-07T10:00", "alpha")
    assert row is not None and (row.status, row.content_id) == ("planned", "tip-a")
    clock.advance(timedelta(minutes=5))
    daemon.tick()
    row = store.find("queue:tips", "2026-12-07T10:00", "alpha")
    assert row is not None and (row.status, row.content_id) == ("published", "tip-a")
    keys = [c.key for c in platform.calls if c.account == "alpha"]
    assert len(keys) == 2 and keys[0] == keys[1]  # the same publication, the same key


@pytest.mark.parametrize("order", ["least-recently-posted", "random"])
def test_other_orders_are_deterministic_and_agree_with_the_daemon(
    tmp_path: Path, store: Store, platform: FakePlatform, order: str
) -> None:
    queues = (
        "  - id: tips\n    to: [alpha]\n    tags: [tip]\n"
        '    slots: [{days: [mon, tue, wed, thu, fri], times: ["09:00", "18:00"]}]\n'
        f"    order: {order}\n" + ("    seed: 42\n" if order == "random" else "")
    )
    path = write(tmp_path, queues, posts="")
    project = load_project(path)
    first = summary(queue_plan(project, None, T0, days=7))
    assert first == summary(queue_plan(load_project(path), None, T0, days=7))  # same files
    picked = [item for _, _, item in first]
    assert set(picked) == {"tip-a", "tip-b", "tip-c"}
    if order == "least-recently-posted":
        assert picked[:6] == ["tip-a", "tip-b", "tip-c"] * 2
    clock = FakeClock(T0)
    daemon = Daemon(path, store, clock=clock)
    daemon.run_once()  # plans from T0 on
    for key, post in sorted(queue_plan(project, store, T0, days=3).items()):
        clock.set(datetime.fromisoformat(post.due_at) + timedelta(seconds=5))
        daemon.run_once()
        assert sent(store)[key][1] == post.content


def test_a_repeat_cap_empties_the_queue_and_check_warns(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    queues = """\
  - id: tips
    to: alpha
    content: tip-a, tip-b
    slots: [{times: ["09:00"]}]
    max_repeats: 1
"""
    path = write(tmp_path, queues, posts="")
    project = load_project(path)
    plan = summary(queue_plan(project, None, T0, days=4))
    assert [item for _, _, item in plan] == ["tip-a", "tip-b", "-", "-"]
    result = run_in(tmp_path, "check")
    assert result.exit_code == 0, result.output
    assert "stays empty, nothing to post: tip-a was posted once (max_repeats: 1)" in (result.stderr)
    assert "schedule.yaml:14:" in result.stderr  # the queue's slot line
    assert run_in(tmp_path, "check", "--strict").exit_code == 1


def test_the_pool_is_listed_content_then_tags_and_folder(
    tmp_path: Path, platform: FakePlatform
) -> None:
    (tmp_path / "content" / "tips").mkdir(parents=True)
    (tmp_path / "content" / "tips" / "zeta.md").write_text("---\ntitle: Z\n---\nZeta.\n", "utf-8")
    (tmp_path / "content" / "other.md").write_text("---\ntitle: O\n---\nOther.\n", "utf-8")
    queues = """\
  - id: tips
    to: alpha
    content: [tip-c]
    tags: [tip]
    folder: content/tips
    slots: [{cron: "0 9 * * *"}]
"""
    path = write(tmp_path, queues, posts="", extra="content_dir: content\n")
    project = load_project(path)
    assert project.queues["tips"].pool == ("tip-c", "tip-a", "tip-b", "zeta")


BROKEN = {
    "unknown content": ("content: [tip-a, tip-x]", "queues.0.content.1: unknown content"),
    "unknown tag": ("tags: [nothing]", 'queues.0.tags.0: no content is tagged "nothing"'),
    "no folder": ("folder: content/none", "queues.0.folder: content/none is not a folder"),
    "bad day": ("slots: [{days: [tuseday], times: ['10:00']}]", 'did you mean "tuesday"?'),
    "bad time": ("slots: [{times: ['25:00']}]", '"25:00" is not a time of day'),
    "cron and times": ("slots: [{cron: '0 9 * * *', times: ['10:00']}]", "either cron, or times"),
    "bad cron": ("slots: [{cron: '0 9 * *'}]", "has 4 fields"),
    "never": ("slots: [{cron: '0 0 31 2 *'}]", "never fires"),
    "slot account": (
        "slots: [{cron: '0 9 * * *', to: [gamma]}]",
        'unknown account or group "gamma"',
    ),
    "seed": ("seed: 3", "seed goes with order: random"),
    "order": ("order: shuffled", "queues.0.order:"),
    "cooldown": ("cooldown: forever", "queues.0.cooldown:"),
    "cap": ("max_repeats: 0", "queues.0.max_repeats:"),
    "typo": ("cooldwn: 3d", 'unknown field; did you mean "cooldown"?'),
    "fill": ("fill_gaps: yes", "queues.0.fill_gaps:"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_every_queue_error_names_file_line_and_field(
    tmp_path: Path, platform: FakePlatform, name: str
) -> None:
    line, expected = BROKEN[name]
    key = line.split(":")[0]
    base = {
        "to": "to: [alpha]",
        "content": "content: [tip-a]",
        "slots": "slots: [{cron: '0 9 * * 1'}]",
    }
    fields = [v for k, v in base.items() if k != key] + [line]
    queues = "  - id: tips\n" + "".join(f"    {f}\n" for f in fields)
    path = write(tmp_path, queues, posts="")
    with pytest.raises(ConfigError) as caught:
        load_project(path)
    problems = [str(p) for p in caught.value.problems]
    written = 11 + len(fields)  # the broken field is the queue's last line
    assert any(f"schedule.yaml:{written}:" in p and expected in p for p in problems), problems


def test_a_slot_for_an_account_outside_the_queue_is_refused(
    tmp_path: Path, platform: FakePlatform
) -> None:
    queues = """\
  - id: tips
    to: [alpha]
    content: [tip-a]
    slots:
      - {cron: "0 9 * * 1", to: [beta]}
"""
    with pytest.raises(ConfigError) as caught:
        load_project(write(tmp_path, queues, posts=""))
    assert "schedule.yaml:15:" in str(caught.value)
    assert '"beta" is not among the queue\'s accounts (alpha)' in str(caught.value)


def test_queue_ids_are_unique(tmp_path: Path, platform: FakePlatform) -> None:
    queues = """\
  - {id: tips, to: alpha, content: tip-a, slots: [{cron: "0 9 * * 1"}]}
  - {id: tips, to: beta, content: tip-b, slots: [{cron: "0 9 * * 2"}]}
"""
    with pytest.raises(ConfigError) as caught:
        load_project(write(tmp_path, queues, posts=""))
    assert "schedule.yaml:12:" in str(caught.value) and "is used twice" in str(caught.value)
