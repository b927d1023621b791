"""First comments: a reply right after the post, its own recorded part, never twice."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine

from connectors.base import Transient
from crosspost.publishing.daemon import Daemon
from crosspost.store import Store
from tests.fakes import FakeClock, FakePlatform, run_in

T0 = datetime(2026, 12, 6, 11, 59, tzinfo=UTC)
DUE = datetime(2026, 12, 6, 12, 0, 30, tzinfo=UTC)


def write(base: Path, content: str = "", to: str = "[alpha, beta]") -> Path:
    item = content or textwrap.dedent(
        """\
          - id: hello
            title: Hello
            body: Hello from the makerspace.
            link: https://makerspace.example/hello
            first_comment: "Read more: {{ link }}"
        """
    )
    text = textwrap.dedent(
        """\
        timezone: UTC
        accounts:
          alpha: {connector: fake-comment}
          beta: {connector: fake}
        content:
        """
    )
    text += item + f"posts:\n  - {{id: launch, content: hello, to: {to}, at: 2026-12-06 12:00}}\n"
    path = base / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def started(path: Path, store: Store) -> tuple[Daemon, FakeClock]:
    """A daemon that planned the post a minute ahead, its clock now at the post's time."""
    clock = FakeClock(T0)
    daemon = Daemon(path, store, clock=clock)
    daemon.run_once()
    clock.set(DUE)
    return daemon, clock


def rows(store: Store) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {(r.entry, r.account): (str(r.status), r.remote_id) for r in store.publications()}


def test_the_first_comment_follows_the_post_as_its_own_part(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    daemon, _clock = started(write(tmp_path), store)
    outcomes = daemon.tick()
    assert sorted((o.entry, o.account, o.status) for o in outcomes) == [
        ("comment:launch", "alpha", "published"),
        ("launch", "alpha", "published"),
        ("launch", "beta", "published"),
    ]
    recorded = rows(store)
    post_id = recorded["launch", "alpha"][1]
    assert recorded["comment:launch", "alpha"][0] == "published"
    (comment,) = [c for c in platform.calls if c.key in platform.comment_parents]
    assert platform.comment_parents[comment.key] == post_id  # a reply to the post
    assert comment.text.startswith("Read more: https://makerspace.example/hello?utm_source=")
    assert "utm_campaign=launch" in comment.text
    assert ("comment:launch", "beta") not in recorded  # its connector cannot comment
    assert daemon.run_once() == []
    assert len(platform.calls) == 3


def test_a_restart_between_post_and_comment_sends_the_comment_once(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    path = write(tmp_path, to="[alpha]")
    daemon, clock = started(path, store)
    platform.script("alpha", daemon.publisher.stopping.set)  # stop right after the post
    daemon.tick()
    assert rows(store)["comment:launch", "alpha"] == ("planned", None)  # written with the post
    restarted = Daemon(path, Store(store.url), clock=clock)
    outcomes = restarted.run_once()
    assert [(o.entry, o.status) for o in outcomes] == [("comment:launch", "published")]
    assert restarted.run_once() == []
    assert len(platform.comment_parents) == 1
    assert [c.key for c in platform.calls].count(next(iter(platform.comment_parents))) == 1


def test_a_failed_comment_is_retried_under_its_own_key(
    tmp_path: Path, store: Store, platform: FakePlatform
) -> None:
    path = write(tmp_path, to="[alpha]")
    daemon, clock = started(path, store)
    platform.script("alpha", "ok", Transient("503 on the reply"))
    daemon.tick()
    assert rows(store)["comment:launch", "alpha"][0] == "planned"  # to be retried
    assert rows(store)["launch", "alpha"][0] == "published"
    clock.advance(timedelta(minutes=5))
    daemon.tick()
    assert rows(store)["comment:launch", "alpha"][0] == "published"
    keys = [c.key for c in platform.calls]
    assert len(keys) == 3 and keys[1] == keys[2] != keys[0]  # the post once, its reply's key twice


def test_check_warns_where_a_comment_cannot_go_and_refuses_an_override_there(
    tmp_path: Path, platform: FakePlatform
) -> None:
    write(tmp_path)
    with time_machine.travel(T0, tick=False):
        warned = run_in(tmp_path, "check")
    assert warned.exit_code == 0, warned.output
    assert (
        "posts.0 (launch → beta): fake cannot post first comments; hello's is not posted there"
        in warned.stderr
    )
    override = textwrap.dedent(
        """\
          - id: hello
            body: Hello.
            overrides:
              fake: {first_comment: "Only for fake"}
        """
    )
    write(tmp_path, override)
    with time_machine.travel(T0, tick=False):
        refused = run_in(tmp_path, "check")
    assert refused.exit_code == 2
    assert (
        "schedule.yaml:9:27: overrides.fake.first_comment: fake cannot post first comments "
        "(launch sends it to beta)" in refused.stderr
    )


def test_a_broken_comment_template_is_an_error_at_its_line(
    tmp_path: Path, platform: FakePlatform
) -> None:
    broken = textwrap.dedent(
        """\
          - id: hello
            body: Hello.
            first_comment: "More at {{ lnk }}"
        """
    )
    write(tmp_path, broken, to="[alpha]")
    with time_machine.travel(T0, tick=False):
        result = run_in(tmp_path, "check")
    assert result.exit_code == 2
    assert "schedule.yaml:8:" in result.stderr and "first_comment:" in result.stderr
    assert "lnk" in result.stderr


def test_a_one_off_posts_its_first_comment_too(tmp_path: Path, platform: FakePlatform) -> None:
    write(tmp_path, to="[alpha]")
    result = run_in(tmp_path, "publish", "hello", "--to", "alpha", "--json")
    assert result.exit_code == 0, result.output
    (published,) = json.loads(result.stdout)["publications"]
    assert published["status"] == "published"
    assert published["comment"].startswith("first comment published")
    status = json.loads(run_in(tmp_path, "status", "--json").stdout)["publications"]
    assert {(r["entry"], r["status"]) for r in status} >= {
        ("publish:hello", "published"),
        ("comment:publish:hello", "published"),
    }
