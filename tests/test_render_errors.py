"""Templates that fail or run away: each is a template error at its file and line.

Runtime errors (division by zero, a bad format, a filter called wrongly) and bounds
(time, output, range, numbers) are checked through the renderer, through ``check``
with ``CliRunner``, and the runaway ones in a subprocess that must end by itself.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result

from crosspost.errors import ConfigError, RenderError, RenderLimitError
from crosspost.loading.content_item import ContentItem
from crosspost.rendering.render import Renderer
from crosspost.rendering.sandbox import RenderLimits
from crosspost.rendering.target import Target
from tests.conftest import write_file

ITEM = ContentItem(
    id="launch",
    title="Launch",
    body="We launched.",
    link="https://example.org/blog",
    tags=["release"],
    template="event",
    vars={"when": "Friday"},
)

#: name → (template, line, column, words the message must contain)
RUNTIME_ERRORS = {
    "division_by_zero": ("{{ title }}\n\nshare: {{ 1 / 0 }}\n", 3, 13, ["division by zero"]),
    "percent_d_on_text": ("{{ title }}\n\n{{ '%d' % title }}\n", 3, 5, ["%d format", "TypeError"]),
    "utm_without_source": ("{{ title }}\n\n{{ link | utm }}\n", 3, 11, ["utm()", "'source'"]),
    "hashtags_with_two": ("{{ title }}\n\n{{ tags | hashtags(1) }}\n", 3, 11, ["hashtags()"]),
    "strftime_of_int": ("{{ title }}\n\n{{ occurrence.strftime(5) }}\n", 3, 15, ["strftime()"]),
    "misspelt_attribute": (
        "{{ title }}\n\nWhen: {{ vars.whn }}\n",
        3,
        15,
        ["no attribute 'whn'", 'did you mean "when"?'],
    ),
    "misspelt_variable": (
        "{{ title }}\n{% for tag in tags %}\n{{ tga }}{% endfor %}\n",
        3,
        4,
        ["'tga' is undefined", 'did you mean "tag"?'],
    ),
    "misspelt_method": (
        "{{ title }}\n\n{{ title.uper() }}\n",
        3,
        10,
        ["no attribute 'uper'", 'did you mean "upper"?'],
    ),
}

#: name → (template, line, bound)
RUNAWAYS = {
    "huge_range": ("{{ title }}\n\n{{ range(10**9) | list }}\n", 3, "range"),
    "huge_repeat": ("{{ title }}\n\n{{ 'a' * 10**10 }}\n", 3, "output"),
    "huge_power": ("{{ title }}\n\n{{ 9 ** (9 ** 9) }}\n", 3, "number"),
    "nested_loops": (
        "{{ title }}\n{% for i in range(99999) %}\n"
        "{% for j in range(99999) %}{% endfor %}{% endfor %}\n",
        3,
        "time",
    ),
    "many_joins": (
        "{{ title }}\n{% for i in range(100000) %}\n{{ range(100000) | join }}{% endfor %}\n",
        3,
        "output",
    ),
    "silent_joins": (
        # one line: the deadline may strike in the loop or in the join, both on line 2
        "{{ title }}\n{% for i in range(100000) %}{% set x = range(100000) | join %}{% endfor %}\n",
        2,
        "time",
    ),
    "doubling": (
        "{% set ns = namespace(s='ab') %}\n{% for i in range(64) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}\n",
        2,
        "output",
    ),
    "wide_center": ("{{ title }}\n{{ title | center(10**9) }}\n", 2, "output"),
    "wide_format": ("{{ title }}\n{{ '{:>999999999}'.format(1) }}\n", 2, "output"),
    "replace_blowup": (
        "{% set big = 'a' * 100000 %}\n{{ big | replace('a', big) }}\n",
        2,
        "output",
    ),
}

#: Short enough that the time-bound cases take a fraction of a second.
QUICK = RenderLimits(seconds=0.3)


def _limits(bound: str) -> RenderLimits:
    """Quick for the cases that hit the time bound; the defaults, so that time comes last, else."""
    return QUICK if bound == "time" else RenderLimits()


def _target(platform: str = "mastodon") -> Target:
    return Target("social", platform, "launch-day", occurrence=datetime(2026, 5, 1, tzinfo=UTC))


def _render(tmp_path: Path, template: str, limits: RenderLimits = QUICK) -> str:
    write_file(tmp_path / "templates" / "event.j2", template)
    return Renderer(tmp_path / "templates", tmp_path, limits).render_text(ITEM, _target())


# --------------------------------------------------------------------------- through the renderer


@pytest.mark.parametrize("name", sorted(RUNTIME_ERRORS))
def test_runtime_error_is_a_render_error_at_file_line_column(tmp_path: Path, name: str) -> None:
    template, line, column, words = RUNTIME_ERRORS[name]
    with pytest.raises(RenderError) as info:
        _render(tmp_path, template)
    problem = info.value.problem
    assert (problem.file, problem.line, problem.column) == ("templates/event.j2", line, column)
    for word in words:
        assert word in problem.message
    assert isinstance(info.value, ConfigError) and info.value.exit_code == 2


@pytest.mark.parametrize("name", sorted(RUNAWAYS))
def test_runaway_template_stops_at_a_named_bound(tmp_path: Path, name: str) -> None:
    template, line, bound = RUNAWAYS[name]
    with pytest.raises(RenderLimitError) as info:
        _render(tmp_path, template, _limits(bound))
    assert info.value.bound == bound
    assert (info.value.problem.file, info.value.problem.line) == ("templates/event.j2", line)
    assert f"{bound} bound" in info.value.problem.message


def test_error_in_an_extended_template_is_reported_in_that_template(tmp_path: Path) -> None:
    write_file(
        tmp_path / "templates" / "base.j2",
        "{{ title }}\n\n{% block b %}{{ 1 // 0 }}{% endblock %}\n",
    )
    with pytest.raises(RenderError) as info:
        _render(tmp_path, "{% extends 'base.j2' %}\n")
    problem = info.value.problem
    assert (problem.file, problem.line) == ("templates/base.j2", 3)


def test_error_in_an_included_template_is_reported_in_that_template(tmp_path: Path) -> None:
    write_file(tmp_path / "templates" / "part.j2", "x\ny\n{{ vars.wehn }}\n")
    with pytest.raises(RenderError) as info:
        _render(tmp_path, "{{ title }}\n{% include 'part.j2' %}\n")
    assert str(info.value.problem).startswith("templates/part.j2:3:")
    assert 'did you mean "when"?' in info.value.problem.message


def test_macro_that_calls_itself_is_a_render_error(tmp_path: Path) -> None:
    with pytest.raises(RenderError) as info:
        _render(tmp_path, "{% macro m() %}{{ m() }}{% endmacro %}\n{{ m() }}\n")
    assert "calls itself" in info.value.problem.message


def test_ordinary_templates_are_not_refused(tmp_path: Path) -> None:
    text = _render(
        tmp_path,
        "{{ '%d followers' | format(1200000) }} {{ 2 ** 64 }} {{ '-' * 3 }} "
        "{{ range(3) | join(',') }} {{ title ~ '!' }} {{ title.center(12) }} "
        "{% for t in tags %}#{{ t }}{% endfor %}",
    )
    assert text == "1200000 followers 18446744073709551616 --- 0,1,2 Launch!    Launch    #release"


def test_bounds_are_per_render_and_per_thread(tmp_path: Path) -> None:
    """A render in another thread keeps its own deadline: a slow one does not fail a quick one."""
    write_file(
        tmp_path / "templates" / "event.j2",
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    )
    write_file(tmp_path / "templates" / "event.quick.j2", "{{ title }}")
    renderer = Renderer(tmp_path / "templates", tmp_path, QUICK)
    errors: list[BaseException] = []

    def spin() -> None:
        try:
            renderer.render_text(ITEM, _target())
        except RenderLimitError as exc:
            errors.append(exc)

    spinner = threading.Thread(target=spin)
    spinner.start()
    assert renderer.render_text(ITEM, _target("quick")) == "Launch"
    spinner.join(timeout=10)
    assert not spinner.is_alive() and len(errors) == 1


# --------------------------------------------------------------------------- through `check`

SCHEDULE = """\
timezone: UTC
accounts:
  archive: {connector: folder, path: out}
content:
  - id: hello
    title: Hello
    body: Hello there.
    link: https://example.org/
    tags: [news]
    template: event
    vars: {when: Friday}
posts:
  - id: hi
    content: hello
    to: [archive]
    cron: "0 9 * * *"
"""


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CROSSPOST_DATABASE_URL", raising=False)
    write_file(tmp_path / "schedule.yaml", SCHEDULE)
    return tmp_path


@pytest.mark.parametrize("name", sorted(RUNTIME_ERRORS))
def test_check_reports_a_runtime_error_with_template_file_and_line(
    name: str, project_dir: Path, run_cli: Callable[..., Result]
) -> None:
    template, line, column, words = RUNTIME_ERRORS[name]
    write_file(project_dir / "templates" / "event.j2", template)
    result = run_cli(project_dir / "schedule.yaml", "check")
    assert result.exit_code == 2, result.output
    assert f"templates/event.j2:{line}:{column}: template: " in result.stderr
    assert words[0] in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", sorted(RUNAWAYS))
def test_check_reports_a_runaway_template_with_file_line_and_bound(
    name: str, project_dir: Path, run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    template, line, bound = RUNAWAYS[name]
    monkeypatch.setattr("crosspost.rendering.render.RenderLimits", lambda: _limits(bound))
    write_file(project_dir / "templates" / "event.j2", template)
    result = run_cli(project_dir / "schedule.yaml", "check")
    assert result.exit_code == 2, result.output
    assert f"templates/event.j2:{line}:" in result.stderr
    assert f"{bound} bound" in result.stderr


PLAN = ["plan", "--until", "1d", "--json"]


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("nested_loops", ["check"]),
        ("silent_joins", ["check"]),
        ("huge_power", ["check"]),
        ("many_joins", ["check"]),
        ("huge_repeat", ["check"]),
        ("nested_loops", PLAN),
        ("huge_power", PLAN),
    ],
)
def test_runaway_template_ends_by_itself_in_a_subprocess(
    name: str, command: list[str], project_dir: Path
) -> None:
    """With the default bounds (2 s), a real process ends with exit 2 by itself.

    The timeout leaves room for a loaded machine's slow start (the render itself stops
    at 2 s); without the bounds these templates run for hours.
    """
    template, line, bound = RUNAWAYS[name]
    write_file(project_dir / "templates" / "event.j2", template)
    done = subprocess.run(
        [sys.executable, "-m", "crosspost", "-s", "schedule.yaml", *command],
        cwd=project_dir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    output = done.stdout + done.stderr
    assert f"templates/event.j2:{line}:" in output and f"{bound} bound" in output
    assert "Traceback" not in output


def test_numbers_in_the_text_of_a_format_are_not_widths(tmp_path: Path) -> None:
    text = _render(
        tmp_path, "{{ 'Over 2000000 downloads, %s!' % title }} {{ '{} 5000000'.format(1) }}"
    )
    assert text == "Over 2000000 downloads, Launch! 1 5000000"
