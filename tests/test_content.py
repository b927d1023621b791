"""The content library: Markdown files with front matter, inline entries, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from crosspost.errors import ConfigError, Problem
from crosspost.loading.content import load_library
from crosspost.loading.content_item import ContentItem
from crosspost.loading.front_matter import load_markdown, split_front_matter
from crosspost.loading.schedule import read_schedule
from tests.conftest import write_file

LAUNCH = """
    ---
    title: crosspost 1.0 is out
    link: https://example.org/blog/1.0
    tags: [release, open source]
    media:
      - path: images/banner.png
        alt: The crosspost logo over a calendar
    overrides:
      mastodon: {content_warning: release notes, visibility: unlisted}
      alice: {title: For Alice, language: de}
    ---
    Body text, in **Markdown**.

    Second paragraph.
    """


def test_markdown_front_matter(tmp_path: Path) -> None:
    path = write_file(tmp_path / "content" / "launch.md", LAUNCH)
    item = load_markdown(path, tmp_path)
    assert item.id == "launch"  # from the file name
    assert item.title == "crosspost 1.0 is out"
    assert item.link == "https://example.org/blog/1.0"
    assert item.tags == ["release", "open source"]
    assert item.body == "Body text, in **Markdown**.\n\nSecond paragraph."
    (media,) = item.media
    assert media.path == Path("images/banner.png") and media.mime_type == "image/png"
    assert media.alt == "The crosspost logo over a calendar"
    assert item.media_paths(path.parent) == [tmp_path / "content" / "images" / "banner.png"]
    assert item.source == str(path)


def test_front_matter_id_wins_over_file_name(tmp_path: Path) -> None:
    path = write_file(tmp_path / "2026-01-launch.md", "---\nid: launch\n---\nHi\n")
    assert load_markdown(path).id == "launch"


def test_file_without_front_matter(tmp_path: Path) -> None:
    path = write_file(tmp_path / "note.md", "Just a note.\n")
    item = load_markdown(path)
    assert (item.id, item.body, item.title) == ("note", "Just a note.", "")


def test_body_in_front_matter_wins(tmp_path: Path) -> None:
    path = write_file(tmp_path / "a.md", "---\nbody: from meta\n---\nfrom text\n")
    assert load_markdown(path).body == "from meta"


def test_split_front_matter_unclosed() -> None:
    assert split_front_matter("---\ntitle: a\n") == ("title: a\n", "", 2)
    assert split_front_matter("no front\n") == ("", "no front\n", 1)


def test_overrides_platform_then_account(tmp_path: Path) -> None:
    item = load_markdown(write_file(tmp_path / "launch.md", LAUNCH))
    on_mastodon, options = item.for_target("mastodon", "bob")
    assert on_mastodon.content_warning == "release notes"
    assert options == {"visibility": "unlisted"}  # a connector option, not a content field
    for_alice, options = item.for_target("mastodon", "alice")
    assert for_alice.title == "For Alice" and for_alice.language == "de"
    assert for_alice.content_warning == "release notes"
    elsewhere, options = item.for_target("bluesky", "carol")
    assert elsewhere == item and options == {}


def test_account_override_beats_platform_override() -> None:
    item = ContentItem(
        id="a",
        body="base",
        overrides={"mastodon": {"body": "platform"}, "alice": {"body": "account"}},
    )
    assert item.for_target("mastodon", "alice")[0].body == "account"
    assert item.for_target("mastodon", "bob")[0].body == "platform"


def _problem(path: Path, base: Path | None = None) -> Problem:
    with pytest.raises(ConfigError) as info:
        load_markdown(path, base)
    (problem,) = info.value.problems
    return problem


def test_bad_front_matter_field_is_on_its_line(tmp_path: Path) -> None:
    path = write_file(tmp_path / "content" / "a.md", "---\ntitle: A\ntilte: B\n---\nbody\n")
    problem = _problem(path, tmp_path)
    assert problem.file == "content/a.md"
    assert (problem.line, problem.column) == (3, 8)
    assert problem.message == 'tilte: unknown field; did you mean "title"?'


def test_front_matter_starts_at_line_2(tmp_path: Path) -> None:
    path = write_file(tmp_path / "a.md", "---\ntags: notalist\n---\n")
    problem = _problem(path)
    assert problem.line == 2 and problem.message.startswith("tags: ")


def test_front_matter_syntax_error_line(tmp_path: Path) -> None:
    path = write_file(tmp_path / "a.md", "---\ntitle: A\nlink: x\n tags: [a\n---\nbody\n")
    problem = _problem(path)
    assert problem.line == 4 and problem.message.startswith("YAML syntax:")


def test_front_matter_nested_error_line(tmp_path: Path) -> None:
    path = write_file(
        tmp_path / "a.md",
        "---\ntitle: A\nmedia:\n  - path: a.png\n    alt: x\n    size: big\n---\n",
    )
    problem = _problem(path)
    assert (problem.line, problem.message) == (6, "media.0.size: unknown field")


def test_front_matter_must_be_a_mapping(tmp_path: Path) -> None:
    path = write_file(tmp_path / "a.md", "---\n- a\n- b\n---\n")
    problem = _problem(path)
    assert (problem.line, problem.message) == (2, "front matter must be a mapping")


def test_bad_id_from_file_name(tmp_path: Path) -> None:
    path = write_file(tmp_path / "my post.md", "Hello\n")
    assert _problem(path).message.startswith("id: ")


def test_library_inline_and_files(example_project: Path) -> None:
    schedule, root = read_schedule(example_project)
    items = load_library(
        schedule.content, root, example_project, example_project.parent / "content"
    )
    assert set(items) == {
        "heartbeat",
        "laser-cutter",
        "welcome",
        "repair-cafe",
        "open-day",
        "programme",
        "blades",
        "glue",
        "solder",
    }
    lines = example_project.read_text("utf-8").splitlines()
    expected = next(n for n, line in enumerate(lines, 1) if line.strip() == "- id: heartbeat")
    assert items["heartbeat"].source_line == expected
    assert items["repair-cafe"].template == "event"
    assert items["repair-cafe"].vars["when"] == "Wednesday 18:00–21:00"


def test_inline_block_body_has_no_trailing_newline(example_project: Path) -> None:
    schedule, root = read_schedule(example_project)
    items = load_library(schedule.content, root, example_project, None)
    # `body: |` keeps a final newline in YAML; rendered posts must not get a blank line from it
    assert not items["heartbeat"].body.endswith("\n")


def test_library_duplicate_ids(tmp_path: Path) -> None:
    schedule_path = write_file(
        tmp_path / "schedule.yaml", "content:\n  - id: a\n    body: inline\n"
    )
    write_file(tmp_path / "content" / "a.md", "From a file\n")
    schedule, root = read_schedule(schedule_path)
    with pytest.raises(ConfigError) as info:
        load_library(schedule.content, root, schedule_path, tmp_path / "content")
    (problem,) = info.value.problems
    assert problem.message == f'content id "a" is also defined in {schedule_path}'


def test_library_inline_error_has_line(tmp_path: Path) -> None:
    schedule_path = write_file(
        tmp_path / "schedule.yaml", "content:\n  - id: a\n    body: x\n    tags: 5\n"
    )
    schedule, root = read_schedule(schedule_path)
    with pytest.raises(ConfigError) as info:
        load_library(schedule.content, root, schedule_path, None)
    (problem,) = info.value.problems
    assert problem.line == 4 and problem.message.startswith("content.0.tags: ")


def test_library_missing_content_dir(tmp_path: Path) -> None:
    schedule_path = write_file(tmp_path / "schedule.yaml", "content_dir: nope\n")
    with pytest.raises(ConfigError) as info:
        load_library([], {}, schedule_path, tmp_path / "nope")
    assert "is not a folder" in info.value.problems[0].message


def test_library_collects_problems_of_every_file(tmp_path: Path) -> None:
    schedule_path = write_file(tmp_path / "schedule.yaml", "content_dir: content\n")
    write_file(tmp_path / "content" / "a.md", "---\nfoo: 1\n---\n")
    write_file(tmp_path / "content" / "b.md", "---\nbar: 1\n---\n")
    with pytest.raises(ConfigError) as info:
        load_library([], {}, schedule_path, tmp_path / "content")
    assert [(p.file, p.line) for p in info.value.problems] == [
        ("content/a.md", 2),
        ("content/b.md", 2),
    ]
