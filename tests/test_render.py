"""Templates: lookup order, strict variables with file:line, and the utm/hashtags filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from crosspost.errors import RenderError
from crosspost.loading.content_item import ContentItem
from crosspost.rendering.filters import hashtags, utm
from crosspost.rendering.render import Renderer
from crosspost.rendering.target import Target
from crosspost.rendering.templates import BUILTIN_DEFAULT
from tests.conftest import write_file

ITEM = ContentItem(
    id="launch",
    title="Launch",
    body="We launched.",
    link="https://example.org/blog?ref=home#top",
    tags=["release", "open source"],
    template="event",
    vars={"when": "Friday"},
)


def _renderer(tmp_path: Path) -> Renderer:
    (tmp_path / "templates").mkdir(exist_ok=True)
    return Renderer(tmp_path / "templates", tmp_path)


def _target(platform: str = "mastodon", account: str = "social", utm_on: bool = True) -> Target:
    return Target(account=account, platform=platform, entry="launch-day", utm=utm_on)


# --------------------------------------------------------------------------- lookup order


def test_platform_template_first(tmp_path: Path) -> None:
    write_file(tmp_path / "templates" / "event.mastodon.j2", "M: {{ title }}")
    write_file(tmp_path / "templates" / "event.j2", "E: {{ title }}")
    renderer = _renderer(tmp_path)
    assert renderer.render_text(ITEM, _target("mastodon")) == "M: Launch"
    assert renderer.render_text(ITEM, _target("bluesky")) == "E: Launch"


def test_builtin_default_last(tmp_path: Path) -> None:
    renderer = _renderer(tmp_path)
    item = ITEM.model_copy(update={"template": "default"})
    text = renderer.render_text(item, _target("feed", utm_on=False))
    assert text == ("We launched.\n\nhttps://example.org/blog?ref=home#top\n\n#release #OpenSource")
    assert renderer.template("default", "feed").name == "<built-in>/default.j2"


def test_a_named_template_falls_back_to_the_builtin_only_where_it_has_no_platform_file(
    tmp_path: Path,
) -> None:
    write_file(tmp_path / "templates" / "event.mastodon.j2", "M: {{ title }}")
    renderer = _renderer(tmp_path)
    assert renderer.template("event", "feed").name == "<built-in>/default.j2"
    with pytest.raises(RenderError, match='unknown template "evnt"; did you mean "event"'):
        renderer.template("evnt", "mastodon")


def test_builtin_default_without_link_or_tags(tmp_path: Path) -> None:
    item = ContentItem(id="a", body="Only the body.")
    assert _renderer(tmp_path).render_text(item, _target()) == "Only the body."


def test_missing_templates_dir_falls_back_to_builtin(tmp_path: Path) -> None:
    renderer = Renderer(tmp_path / "nowhere", tmp_path)
    assert renderer.render_text(ContentItem(id="a", body="x"), _target()) == "x"


def test_example_templates(example_project: Path) -> None:
    base = example_project.parent
    renderer = Renderer(base / "templates", base)
    item = ContentItem(
        id="cafe",
        title="Repair café",
        body="Bring things.",
        template="event",
        vars={"when": "Wed 18:00", "where": "Workshop"},
    )
    feed = renderer.render_text(item, _target("feed"))
    assert feed == "Bring things.\n\nWhen: Wed 18:00 · Where: Workshop"
    other = renderer.render_text(item, _target("folder"))
    assert other.startswith("Repair café\n\nBring things.\n\nWhen: Wed 18:00\nWhere: Workshop")


def test_template_override_from_content(tmp_path: Path) -> None:
    write_file(tmp_path / "templates" / "short.j2", "{{ title }}!")
    item = ContentItem(id="a", title="Hi", overrides={"x": {"template": "short"}})
    renderer = _renderer(tmp_path)
    assert renderer.render_text(item, _target("x")) == "Hi!"
    assert renderer.render_text(item, _target("y")) == ""


# --------------------------------------------------------------------------- errors


def test_undefined_variable_names_template_file_and_line(tmp_path: Path) -> None:
    write_file(
        tmp_path / "templates" / "event.j2", "{{ title }}\n\n{{ body }}\nWhere: {{ vars.where }}\n"
    )
    with pytest.raises(RenderError) as info:
        _renderer(tmp_path).render_text(ITEM, _target())
    problem = info.value.problem
    assert (problem.file, problem.line) == ("templates/event.j2", 4)
    assert "'dict object' has no attribute 'where'" in problem.message


def test_undefined_top_level_variable(tmp_path: Path) -> None:
    write_file(tmp_path / "templates" / "event.mastodon.j2", "{{ title }}\n{{ subtitle }}")
    with pytest.raises(RenderError) as info:
        _renderer(tmp_path).render_text(ITEM, _target())
    assert str(info.value.problem) == (
        "templates/event.mastodon.j2:2:4: template: 'subtitle' is undefined;"
        ' did you mean "title"?'
    )


def test_template_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    write_file(tmp_path / "templates" / "event.j2", "ok\n{% if title %}\nno end\n")
    with pytest.raises(RenderError) as info:
        _renderer(tmp_path).render_text(ITEM, _target())
    problem = info.value.problem
    assert problem.file == "templates/event.j2"
    assert problem.line == 2  # where the unclosed block opens
    assert problem.message.startswith("template syntax:")


def test_sandbox_blocks_unsafe_attributes(tmp_path: Path) -> None:
    write_file(tmp_path / "templates" / "event.j2", "{{ title.__class__.__mro__ }}")
    with pytest.raises(RenderError):
        _renderer(tmp_path).render_text(ITEM, _target())


def test_context_variables(tmp_path: Path) -> None:
    write_file(
        tmp_path / "templates" / "event.j2",
        "{{ id }}|{{ platform }}|{{ account }}|{{ entry }}|{{ raw_link }}|{{ vars.when }}",
    )
    text = _renderer(tmp_path).render_text(ITEM, _target())
    assert text == "launch|mastodon|social|launch-day|https://example.org/blog?ref=home#top|Friday"


def test_link_is_utm_tagged_per_platform(tmp_path: Path) -> None:
    write_file(tmp_path / "templates" / "event.j2", "{{ link }}")
    text = _renderer(tmp_path).render_text(ITEM, _target("bluesky"))
    assert text == (
        "https://example.org/blog?ref=home&utm_source=bluesky&utm_medium=social"
        "&utm_campaign=launch-day&utm_content=launch#top"
    )


# --------------------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://e.org/", "https://e.org/?utm_source=mastodon&utm_medium=social&utm_campaign=c"),
        (
            "https://e.org/p?a=1&b=2#frag",
            "https://e.org/p?a=1&b=2&utm_source=mastodon&utm_medium=social&utm_campaign=c#frag",
        ),
        (
            "https://e.org/p?utm_source=newsletter&x=",
            "https://e.org/p?utm_source=newsletter&x=&utm_medium=social&utm_campaign=c",
        ),
        (
            "https://e.org/p?utm_campaign=spring#a",
            "https://e.org/p?utm_campaign=spring&utm_source=mastodon&utm_medium=social#a",
        ),
    ],
)
def test_utm(url: str, expected: str) -> None:
    assert utm(url, "mastodon", "social", "c") == expected


def test_utm_keeps_repeated_and_encoded_parameters() -> None:
    tagged = utm("https://e.org/s?q=a+b&tag=x&tag=y&e=%26", "x")
    assert tagged == "https://e.org/s?q=a+b&tag=x&tag=y&e=%26&utm_source=x&utm_medium=social"


def test_utm_filter_in_template(tmp_path: Path) -> None:
    write_file(
        tmp_path / "templates" / "event.j2", "{{ raw_link | utm('newsletter', 'email', 'spring') }}"
    )
    text = _renderer(tmp_path).render_text(ITEM, _target())
    assert text == (
        "https://example.org/blog?ref=home&utm_source=newsletter&utm_medium=email"
        "&utm_campaign=spring#top"
    )


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["release"], "#release"),
        (["open source", "release"], "#OpenSource #release"),
        (["right to repair"], "#RightToRepair"),
        (["#already"], "#already"),
        (["café crème"], "#CaféCrème"),
        (["c++", "!!"], "#c"),
        ([], ""),
    ],
)
def test_hashtags(tags: list[str], expected: str) -> None:
    assert hashtags(tags) == expected


def test_hashtags_filter_in_template(tmp_path: Path) -> None:
    write_file(tmp_path / "templates" / "event.j2", "{{ tags | hashtags }}")
    assert _renderer(tmp_path).render_text(ITEM, _target()) == "#release #OpenSource"


def test_builtin_default_text_is_the_documented_one() -> None:
    assert "{{ tags | hashtags }}" in BUILTIN_DEFAULT and "{{ link }}" in BUILTIN_DEFAULT


def test_unknown_filter_names_file_and_line(tmp_path: Path) -> None:
    write_file(tmp_path / "templates" / "event.j2", "{{ title }}\n\n{{ tags | hashtag }}\n")
    with pytest.raises(RenderError) as info:
        _renderer(tmp_path).render_text(ITEM, _target())
    problem = info.value.problem
    assert (problem.file, problem.line) == ("templates/event.j2", 3)
    assert "hashtag" in problem.message
