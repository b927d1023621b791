"""A template name that matches no file is an error where it is written, never a silent default."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crosspost.cli import cli
from crosspost.errors import RenderError
from crosspost.loading.front_matter import load_markdown
from crosspost.rendering.render import Renderer
from crosspost.rendering.target import Target
from tests.conftest import write_file
from tests.fakes import copy_example, feed_entries

EVNT = 'unknown template "evnt"; did you mean "event"?'


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The repository's example, run from its folder so that messages name relative paths."""
    copy_example(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(base: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["-s", str(base / "schedule.yaml"), "--database", f"sqlite:///{base}/x.db", *args]
    )


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --------------------------------------------------------------------------- check


def test_misspelt_template_in_front_matter_is_a_check_error_at_its_line(example: Path) -> None:
    _edit(example / "content" / "repair-cafe.md", "template: event", "template: evnt")
    for command in (["check"], ["plan", "--until", "1d"]):
        result = run(example, *command)
        assert result.exit_code == 2, result.output
        assert f"content/repair-cafe.md:5:11: template: {EVNT}" in result.stderr
        assert "Traceback" not in result.output


def test_misspelt_template_in_inline_content_is_placed_in_the_schedule(example: Path) -> None:
    _edit(example / "schedule.yaml", "    tags: [makerspace, open hours]\n", "    template: evnt\n")
    lines = (example / "schedule.yaml").read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "template: evnt" in text)
    result = run(example, "check")
    assert result.exit_code == 2, result.output
    assert f"schedule.yaml:{line}:15: template: {EVNT}" in result.stderr


def test_misspelt_template_in_an_override_names_the_override(example: Path) -> None:
    _edit(
        example / "content" / "welcome.md",
        "tags: [makerspace, community]\n",
        "tags: [makerspace, community]\noverrides:\n  folder:\n    template: evnt\n",
    )
    result = run(example, "check")
    assert result.exit_code == 2, result.output
    assert f"content/welcome.md:7:15: overrides.folder.template: {EVNT}" in result.stderr


def test_a_name_far_from_every_template_lists_the_known_ones(example: Path) -> None:
    _edit(example / "content" / "repair-cafe.md", "template: event", "template: zzz")
    result = run(example, "check")
    assert result.exit_code == 2
    files = {path.name.split(".")[0] for path in (example / "templates").glob("*.j2")}
    known = sorted(files | {"announcement", "article"})  # built in, like default
    listed = ", ".join(dict.fromkeys(known))
    assert f'unknown template "zzz" (known: {listed})' in result.stderr


def test_default_and_platform_only_templates_are_not_errors(example: Path) -> None:
    (example / "templates" / "default.j2").unlink()
    (example / "templates" / "event.j2").unlink()  # event.feed.j2 remains
    _edit(
        example / "content" / "welcome.md",
        "tags: [makerspace, community]\n",
        "tags: [makerspace, community]\ntemplate: default\n",
    )
    result = run(example, "check")
    assert result.exit_code == 0, result.output + result.stderr


# --------------------------------------------------------------------------- publish / daemon


def test_publishing_a_file_with_a_misspelt_template_sends_nothing(example: Path) -> None:
    write_file(
        example / "drafts" / "party.md",
        "---\ntitle: Party\ntemplate: evnt\nvars: {when: Friday, where: Hall}\n---\nCome.\n",
    )
    result = run(example, "publish", "drafts/party.md", "--to", "website-feed")
    assert result.exit_code == 2, result.output
    assert f"drafts/party.md:3:11: template: {EVNT}" in result.stderr
    assert not (example / "public" / "feed.xml").exists() or not feed_entries(
        example / "public" / "feed.xml"
    )


def test_rendering_for_the_daemon_raises_at_the_content_line(tmp_path: Path) -> None:
    write_file(tmp_path / "templates" / "event.mastodon.j2", "{{ body }} — {{ vars.when }}")
    path = write_file(tmp_path / "content" / "party.md", "---\ntemplate: evnt\n---\nCome.\n")
    item = load_markdown(path, tmp_path)
    renderer = Renderer(tmp_path / "templates", tmp_path)
    with pytest.raises(RenderError) as info:
        renderer.render_text(item, Target("social", "bluesky", "party"))
    assert str(info.value.problem) == f"content/party.md:2:11: template: {EVNT}"


def test_an_account_override_is_the_one_reported(tmp_path: Path) -> None:
    write_file(tmp_path / "templates" / "event.j2", "{{ body }}")
    front = "overrides:\n  bluesky: {template: event}\n  social: {template: evnt}\n"
    path = write_file(tmp_path / "party.md", f"---\n{front}---\nCome.\n")
    renderer = Renderer(tmp_path / "templates", tmp_path)
    with pytest.raises(RenderError) as info:
        renderer.render_text(load_markdown(path, tmp_path), Target("social", "bluesky", "p"))
    assert str(info.value.problem) == f"party.md:4:22: overrides.social.template: {EVNT}"
