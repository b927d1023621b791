"""Each distinct post is rendered once: renders that cannot differ share one, the others not."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import jinja2.meta
import pytest

from crosspost.loading.content_item import ContentItem
from crosspost.rendering.render import Renderer
from crosspost.rendering.snapshot import variables_read
from crosspost.rendering.target import Target
from tests.conftest import write_file
from tests.fakes import FakeConnector

PLAIN = ContentItem(id="plain", body="Hello.", tags=["news"], template="t")
LINKED = ContentItem(id="linked", body="Read.", link="https://example.org/a", template="t")
WHEN = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _renderer(tmp_path: Path, template: str) -> tuple[Renderer, list[str]]:
    write_file(tmp_path / "templates" / "t.j2", template)
    write_file(tmp_path / "templates" / "part.j2", "{{ entry }}")
    renderer = Renderer(tmp_path / "templates", tmp_path)
    made: list[str] = []
    original = renderer._render

    def counted(item: ContentItem, target: Target, *rest: object) -> object:
        made.append(f"{target.entry}/{target.account}")
        return original(item, target, *rest)  # type: ignore[arg-type]

    renderer._render = counted  # type: ignore[assignment,method-assign]
    return renderer, made


def _fake(account: str) -> FakeConnector:
    return FakeConnector(account, FakeConnector.Settings())


def _render(renderer: Renderer, item: ContentItem, entry: str, account: str) -> str:
    target = Target(account=account, platform="fake", entry=entry, occurrence=WHEN)
    return renderer.render(item, target, _fake(account)).text


def test_a_post_that_names_no_target_is_made_once_for_all_entries_and_accounts(
    tmp_path: Path,
) -> None:
    renderer, made = _renderer(tmp_path, "{{ body }} {{ tags | hashtags }}")
    texts = {_render(renderer, PLAIN, e, a) for e in ("e1", "e2") for a in ("a1", "a2")}
    assert texts == {"Hello. #news"}
    assert made == ["e1/a1"]  # one connector type, counting alike: one post for all four


def test_connectors_that_count_differently_get_their_own_post(tmp_path: Path) -> None:
    class Counting(FakeConnector):
        def measure(self, text: str) -> int:
            return len(text.encode("utf-8"))

    renderer, made = _renderer(tmp_path, "{{ body }}")
    for account in ("a1", "a2"):
        connector = Counting(account, FakeConnector.Settings())
        renderer.render(PLAIN, Target(account, "fake", "e1", WHEN), connector)
    assert made == ["e1/a1", "e1/a2"]


@pytest.mark.parametrize(
    ("template", "differs_by"),
    [
        ("{{ entry }}", "entry"),
        ("{{ account }}", "account"),
        ("{{ occurrence.strftime('%H:%M %Z') }}", "occurrence"),
        ("{% include 'part.j2' %}", "entry"),  # what an included template reads is not known
    ],
)
def test_a_post_that_names_a_target_variable_is_made_for_each_value(
    tmp_path: Path, template: str, differs_by: str
) -> None:
    renderer, made = _renderer(tmp_path, template)
    connector = _fake("a1")
    kyiv = WHEN.astimezone(ZoneInfo("Europe/Kyiv"))
    targets = {
        "entry": [Target("a1", "fake", entry, WHEN) for entry in ("e1", "e2")],
        "account": [Target(account, "fake", "e1", WHEN) for account in ("a1", "a2")],
        "occurrence": [Target("a1", "fake", "e1", when) for when in (WHEN, kyiv)],
    }[differs_by]
    texts = [renderer.render(PLAIN, target, connector).text for target in targets]
    assert len(set(texts)) == 2, texts
    assert len(made) == 2


def test_a_tagged_link_is_made_for_each_entry(tmp_path: Path) -> None:
    renderer, made = _renderer(tmp_path, "{{ body }}")
    connector = _fake("a1")
    posts = [
        renderer.render(LINKED, Target("a1", "fake", entry, WHEN), connector)
        for entry in ("e1", "e2", "e1")
    ]
    assert [post.link for post in posts] == [
        "https://example.org/a?utm_source=fake&utm_medium=social&utm_campaign=e1&utm_content=linked",
        "https://example.org/a?utm_source=fake&utm_medium=social&utm_campaign=e2&utm_content=linked",
        "https://example.org/a?utm_source=fake&utm_medium=social&utm_campaign=e1&utm_content=linked",
    ]
    assert made == ["e1/a1", "e2/a1"]


def test_a_shared_post_keeps_each_targets_due_time(tmp_path: Path) -> None:
    renderer, made = _renderer(tmp_path, "{{ body }}")
    connector = _fake("a1")
    later = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    first = renderer.render(PLAIN, Target("a1", "fake", "e1", WHEN), connector)
    second = renderer.render(PLAIN, Target("a1", "fake", "e2", later), connector)
    assert (first.scheduled_at, second.scheduled_at) == (WHEN, later)
    assert first.parts == second.parts
    assert len(made) == 1


def test_an_account_override_is_rendered_for_that_account(tmp_path: Path) -> None:
    item = PLAIN.model_copy(update={"overrides": {"a2": {"body": "Hi a2."}}})
    renderer, made = _renderer(tmp_path, "{{ body }}")
    connector = _fake("a1")
    texts = [
        renderer.render(item, Target(account, "fake", "e1", WHEN), connector).text
        for account in ("a1", "a2", "a3")
    ]
    assert texts == ["Hello.", "Hi a2.", "Hello."]
    assert made == ["e1/a1", "e1/a2"]


def test_a_link_added_by_a_platform_override_is_tagged_for_each_entry(tmp_path: Path) -> None:
    item = PLAIN.model_copy(update={"overrides": {"fake": {"link": "https://example.org/b"}}})
    renderer, made = _renderer(tmp_path, "{{ body }}")
    connector = _fake("a1")
    links = [
        renderer.render(item, Target("a1", "fake", entry, WHEN), connector).link
        for entry in ("e1", "e2")
    ]
    assert [link and link.split("utm_campaign=")[1][:2] for link in links] == ["e1", "e2"]
    assert made == ["e1/a1", "e2/a1"]


def test_a_template_file_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tree that is compiled is the one asked which variables it reads (check, cold)."""
    renderer, made = _renderer(tmp_path, "{{ body }} {{ entry }}")
    parsed: list[str | None] = []
    real = jinja2.Environment._parse

    def counted(env: jinja2.Environment, source: str, name: str | None, *rest: Any) -> Any:
        parsed.append(name)
        return real(env, source, name, *rest)

    monkeypatch.setattr(jinja2.Environment, "_parse", counted)
    for platform in ("fake", "other"):
        renderer.render(PLAIN, Target("a1", platform, "e1", WHEN), _fake("a1"))
    assert parsed == ["t.j2"]
    assert len(made) == 2


@pytest.mark.parametrize(
    "template",
    [
        "{{ (account if false else 'x') ~ body }}",  # folded by the compiler: still read
        "{{ ([1, 2] | join(',')) ~ entry }}",
    ],
)
def test_reading_a_template_leaves_its_tree_as_compiled_from_the_source(template: str) -> None:
    env = jinja2.Environment()
    tree = env.parse(template)
    assert variables_read(env, tree) == jinja2.meta.find_undeclared_variables(env.parse(template))
    assert env.compile(tree, raw=True) == env.compile(template, raw=True)
