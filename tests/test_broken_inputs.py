"""The broken-input corpus: one defect each, made from the example project.

Every case is a copy of the repository's example project (``schedule.yaml``,
``content/``, ``templates/``) with exactly one thing broken. ``check`` and
``plan`` run on it in a forked child with a time limit (10 s) and a memory
limit (300 MB on top of what the test process already holds); each must exit
2, name the defective file and line, and print no traceback.

A child is forked from the test process (where crosspost is already imported)
rather than started from scratch, so 200+ cases take seconds, not minutes.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from crosspost.loading.inputfile import MAX_FILE_BYTES

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="forks a child per case"),
]

REPO = Path(__file__).resolve().parents[1]
TIME_LIMIT = 10
MEMORY_LIMIT = 300 * 1024 * 1024
COMMANDS = (["check"], ["plan", "--json", "--until", "1d", "--limit", "5"])


@dataclass(frozen=True)
class Case:
    """One defect: how to make it, and where the error must point."""

    name: str
    make: Callable[[Path], int | None]  # returns the defective line (None: any line)
    file: str


# --------------------------------------------------------------------------- editing helpers


def _replace(project: Path, file: str, old: str, new: str) -> int:
    """Replace the first line containing ``old`` by ``new``; return its line number."""
    path = project / file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(
        i for i, line in enumerate(lines) if old in line and not line.lstrip().startswith("#")
    )
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = indent + new + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    return index + 1


def _append(project: Path, file: str, text: str) -> int:
    path = project / file
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(before + text, encoding="utf-8")
    return before.count("\n") + 1 + len(text) - len(text.lstrip("\n"))


def _insert_bytes(project: Path, file: str, data: bytes, line: int = 3) -> int:
    path = project / file
    lines = path.read_bytes().splitlines(keepends=True) if path.exists() else []
    lines.insert(line - 1, data + b"\n")
    path.write_bytes(b"".join(lines))
    return line


def _with_env(project: Path, text: str = "FEED_TITLE=Makerspace news\n") -> None:
    (project / ".env").write_text(text, encoding="utf-8")
    _replace(project, "schedule.yaml", "title: Makerspace news", "title: ${FEED_TITLE}")


def _field(old: str, key: str, value: str) -> Callable[[Path], int]:
    return lambda p: _replace(p, "schedule.yaml", old, f"{key}: {value}")


# --------------------------------------------------------------------------- the cases


def _encoding_cases() -> Iterator[Case]:
    defects = {
        "latin1": b"caf\xe9 = 1",
        "cp1252-quote": b"\x93quoted\x94",
        "lone-continuation": b"\x80\x80",
        "truncated-utf8": b"\xe2\x82",
        "random": bytes([0xFF, 0x13, 0x9C, 0x00, 0xFE, 0x41]),
        "nul": b"a\x00b",
        "overlong": b"\xc0\xaf",
        "surrogate": b"\xed\xa0\x80",
    }
    files = {
        "schedule.yaml": "schedule.yaml",
        "content": "content/welcome.md",
        "template": "templates/default.j2",
        "content-event": "content/repair-cafe.md",
    }
    for label, file in files.items():
        for name, data in defects.items():
            yield Case(f"{label}-{name}", _bytes_maker(file, data), file)
        yield Case(f"{label}-utf16", _utf16_maker(file), file)
    for name, data in defects.items():
        yield Case(f"env-{name}", _env_bytes_maker(data), ".env")
    yield Case("env-utf16", _env_utf16, ".env")


def _bytes_maker(file: str, data: bytes) -> Callable[[Path], int]:
    return lambda p: _insert_bytes(p, file, data)


def _utf16_maker(file: str) -> Callable[[Path], int]:
    def make(project: Path) -> int:
        path = project / file
        path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
        return 1

    return make


def _env_bytes_maker(data: bytes) -> Callable[[Path], int]:
    def make(project: Path) -> int:
        _with_env(project)
        return _insert_bytes(project, ".env", data, line=2)

    return make


def _env_utf16(project: Path) -> int:
    _with_env(project)
    (project / ".env").write_bytes("FEED_TITLE=x\n".encode("utf-16"))
    return 1


def _special_file_cases() -> Iterator[Case]:
    targets = {
        "content": "content/welcome.md",
        "template": "templates/default.j2",
        "env": ".env",
        "schedule": "schedule.yaml",
        "extra-content": "content/extra.md",
    }
    for label, file in targets.items():
        yield Case(f"{label}-fifo", _special_maker(file, "fifo"), file)
        yield Case(f"{label}-dev-zero", _special_maker(file, "zero"), file)
        yield Case(f"{label}-huge", _special_maker(file, "huge"), file)
        if label != "schedule":
            yield Case(f"{label}-folder", _special_maker(file, "folder"), file)
        yield Case(f"{label}-unreadable", _special_maker(file, "unreadable"), file)


def _special_maker(file: str, kind: str) -> Callable[[Path], int]:
    def make(project: Path) -> int:
        path = project / file
        if file == ".env":
            _with_env(project)
        path.unlink(missing_ok=True)
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "zero":
            path.symlink_to("/dev/zero")
        elif kind == "folder":
            path.mkdir()
        elif kind == "unreadable":
            path.symlink_to(path.name + ".missing")  # a dangling link: stat fails like EACCES
        else:
            with path.open("w", encoding="utf-8") as handle:
                line = "# a comment line that says nothing at all, again and again\n"
                handle.write(line * (MAX_FILE_BYTES // len(line) + 2))
        return 1

    return make


_BAD_DURATIONS = (
    ".inf", "-.inf", ".nan", "1e400", "99999999999w", "1000000000d", "999999999d",
    "0", "-5", "0s", "forever", "5x", "36501d",
)  # fmt: skip
_BAD_EVERY = (*_BAD_DURATIONS, "30s", "59s", "0.1ms", "1s", "0.0001s")
_BAD_DATES = (
    "0001-01-01 00:00", "9999-12-31 23:59", "1969-12-31 00:00", "2101-01-01 00:00",
    "2026-13-01 10:00", "2026-02-30 10:00", "not a date", "99999-01-01", "2026-01-01 25:00",
)  # fmt: skip


def _number_cases() -> Iterator[Case]:
    for value in _BAD_EVERY:
        yield Case(f"every={value}", _field("every: 1m", "every", value), "schedule.yaml")
    for value in _BAD_DURATIONS:
        yield Case(f"grace={value}", _field("grace: 5000d", "grace", value), "schedule.yaml")
    for value in _BAD_DATES:
        yield Case(f"at={value}", _field("at: 2026-01-01", "at", value), "schedule.yaml")
    for value in _BAD_DATES[:4]:
        yield Case(f"start={value}", _start_maker(value), "schedule.yaml")
        yield Case(f"until={value}", _until_maker("cron:", value), "schedule.yaml")
    for value in (".inf", "99999999999w", "0"):
        yield Case(f"metrics-after={value}", _metrics_maker(value), "schedule.yaml")
    for value in ("0", "-1", "1e400", ".inf"):
        yield Case(f"max_per_day={value}", _account_maker("max_per_day", value), "schedule.yaml")
        yield Case(f"min_interval={value}", _account_maker("min_interval", value), "schedule.yaml")


def _start_maker(value: str) -> Callable[[Path], int]:
    return lambda p: _replace(p, "schedule.yaml", "every: 1m", f"every: 1m\n    start: {value}") + 1


def _until_maker(after: str, value: str) -> Callable[[Path], int]:
    def make(project: Path) -> int:
        line = _replace(project, "schedule.yaml", after, 'cron: "0 18 * * 2"')
        _replace(project, "schedule.yaml", 'cron: "0 18', f'cron: "0 18 * * 2"\n    until: {value}')
        return line + 1

    return make


def _metrics_maker(value: str) -> Callable[[Path], int]:
    return lambda p: _append(p, "schedule.yaml", f"\nmetrics:\n  after: [{value}]\n") + 1


def _account_maker(key: str, value: str) -> Callable[[Path], int]:
    return lambda p: (
        _replace(p, "schedule.yaml", "connector: folder", f"connector: folder\n    {key}: {value}")
        + 1
    )


def _bomb(levels: int = 9) -> str:
    text = 'lol: &l0 ["x","x","x","x","x","x","x","x","x"]\n'
    for level in range(1, levels):
        text += f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]\n"
    return text


def _yaml_cases() -> Iterator[Case]:
    schedule_tails = {
        "alias-bomb": "\nvars:\n" + "".join("  " + line + "\n" for line in _bomb().splitlines()),
        "unknown-tag": "\nextra: !foo bar\n",
        "python-tag": "\nextra: !!python/object/apply:os.system [true]\n",
        "undefined-alias": "\nextra: *nowhere\n",
        "deep-nesting": "\nextra: " + "[" * 500 + "]" * 500 + "\n",
        "duplicate-key": "\ntimezone: UTC\n",
        "tab-indent": "\nextra:\n\t- x\n",
        "unclosed-quote": '\nextra: "never closed\n',
        "unclosed-bracket": "\nextra: [a, b\n",
        "bad-indent": "\nextra:\n  a: 1\n b: 2\n",
        "top-level-list": None,
        "recursive-alias": "\nextra: &r [*r]\n",
    }
    for name, tail in schedule_tails.items():
        yield Case(f"schedule-{name}", _tail_maker(tail), "schedule.yaml")
    fronts = {
        "alias-bomb": _bomb(),
        "unknown-tag": "title: !secret x\n",
        "unclosed-quote": 'title: "x\n',
        "list": "- a\n- b\n",
        "unknown-key": "titel: x\n",
        "tags-number": "tags: 5\n",
        "poll-one-option": "poll: {options: [a]}\n",
        "poll-duration-inf": "poll: {options: [a, b], duration: .inf}\n",
        "media-not-list": "media: x\n",
        "bad-id": "id: 'has space'\n",
    }
    for name, front in fronts.items():
        yield Case(f"content-{name}", _front_maker(front), "content/welcome.md")


def _tail_maker(tail: str | None) -> Callable[[Path], int | None]:
    def make(project: Path) -> int | None:
        if tail is None:
            (project / "schedule.yaml").write_text("- a\n- b\n", encoding="utf-8")
            return 1
        line = _append(project, "schedule.yaml", tail)
        return None if "&" in tail or "\t" in tail or " b: 2" in tail else line

    return make


def _front_maker(front: str) -> Callable[[Path], int | None]:
    def make(project: Path) -> int | None:
        (project / "content" / "welcome.md").write_text(f"---\n{front}---\nBody.\n", "utf-8")
        return None

    return make


def _silent_cases() -> Iterator[Case]:
    for cron in ("0 0 31 2 *", "0 0 30 2 *", "0 0 31 4 *", "0 0 31 6 *", "0 0 31 11 *"):
        yield Case(f"cron-never={cron}", _field("cron:", "cron", f'"{cron}"'), "schedule.yaml")
    for cron in ("61 * * * *", "* * *", "0 25 * * *", "0 0 0 * *", "0 0 * 13 *", "0 0 * * 8"):
        yield Case(f"cron-bad={cron}", _field("cron:", "cron", f'"{cron}"'), "schedule.yaml")
    yield Case("until-before-start", _until_before_start, "schedule.yaml")
    yield Case("until-before-at", _until_before_at, "schedule.yaml")
    yield Case("token-newline", _token_newline, "schedule.yaml")
    yield Case("empty-content", _empty_content("", "welcome.md"), "content/welcome.md")
    yield Case("blank-content", _empty_content("\n  \n", "welcome.md"), "content/welcome.md")
    yield Case("empty-extra-content", _empty_content("", "extra.md"), "content/extra.md")
    yield Case("missing-template", _missing_template, "content/welcome.md")
    yield Case("empty-schedule", lambda p: _write(p, "schedule.yaml", ""), "schedule.yaml")
    yield Case("missing-env-var", _missing_env, "schedule.yaml")


def _until_before_start(project: Path) -> int:
    line = _replace(project, "schedule.yaml", "every: 1m", "every: 1m")
    _replace(
        project,
        "schedule.yaml",
        "every: 1m",
        "every: 1m\n    start: 2026-06-01 00:00\n    until: 2026-05-01 00:00",
    )
    return line + 2


def _until_before_at(project: Path) -> int:
    line = _replace(project, "schedule.yaml", "at: 2026-01-01", "at: 2026-01-01 10:00")
    _replace(
        project,
        "schedule.yaml",
        "at: 2026-01-01",
        "at: 2026-01-01 10:00\n    until: 2025-01-01 10:00",
    )
    return line + 1


def _token_newline(project: Path) -> int:
    _with_env(project, 'FEED_TITLE="Makerspace\nnews"\n')
    return _replace(project, "schedule.yaml", "title: ${FEED_TITLE}", "title: ${FEED_TITLE}")


def _empty_content(text: str, name: str) -> Callable[[Path], int]:
    def make(project: Path) -> int:
        (project / "content" / name).write_text(text, encoding="utf-8")
        return 1

    return make


def _missing_template(project: Path) -> int:
    return _replace(
        project, "content/welcome.md", "title:", "template: no-such-template\ntitle: Welcome"
    )


def _missing_env(project: Path) -> int:
    return _replace(
        project, "schedule.yaml", "title: Makerspace news", "title: ${NOT_SET_ANYWHERE_42}"
    )


def _write(project: Path, file: str, text: str) -> int:
    (project / file).write_text(text, encoding="utf-8")
    return 1


def _structure_cases() -> Iterator[Case]:
    fields = {
        ("to: [everywhere]", "to"): ("[]", "nobody", "[website-feed, nobody]", "{a: b}"),
        ("missed: skip", "missed"): ("maybe", "[publish]", "1"),
        ("content: heartbeat", "content"): ("nothing-like-it", "[a, b]", "''"),
        ("id: open-hours", "id"): ("'has space'", "welcome", "-bad", "[x]"),
        ("timezone: Europe/Kyiv", "timezone"): ("Mars/Olympus", "Europe/Kiev2", "5"),
        ("connector: folder", "connector"): ("foldr", "nope", "[folder]"),
        ("every: 1m", "evry"): ("1m",),
        ("every: 1m", "thread"): ("sometimes",),
        ("every: 1m", "numbering"): ("perhaps",),
        ("every: 1m", "utm"): ("[yes]",),
        ("path: public/posts", "pth"): ("public/posts",),
        ("content_dir: content", "content_dir"): ("no-such-folder", "schedule.yaml"),
        ("everywhere: [", "everywhere"): ("[website-feed, nobody]", "[archive, archive2]"),
    }
    for (old, key), values in fields.items():
        for value in values:
            yield Case(f"field-{key}={value}", _field(old, key, value), "schedule.yaml")
    yield Case("at-and-every", _at_and_every, "schedule.yaml")


def _at_and_every(project: Path) -> None:
    _replace(project, "schedule.yaml", "every: 1m", "every: 1m\n    at: 2026-01-01 10:00")
    # the error is about the entry as a whole: placed on its first line


def _template_cases() -> Iterator[Case]:
    bodies = {
        "syntax": "{{ body ",
        "unknown-tag": "{% frobnicate %}",
        "undefined": "{{ nope }}",
        "misspelt-attribute": "{{ vars.wen }}",
        "division-by-zero": "{{ 1 / 0 }}",
        "percent-d": '{{ "%d" % "x" }}',
        "utm-no-argument": "{{ link | utm }}",
        "hashtags-two": "{{ tags | hashtags(1, 2) }}",
        "strftime-int": "{{ occurrence.strftime(5) }}",
        "range-huge": "{% for i in range(10**9) %}{% endfor %}",
        "string-times": "{{ 'a' * 10**10 }}",
        "power": "{{ 9 ** (9 ** 9) }}",
        "nested-loops": (
            "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}"
        ),
        "joins": "{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}",
        "attribute-walk": "{{ body.__class__.__mro__ }}",
        "include-outside": "{% include '../schedule.yaml' %}",
        "endless-macro": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    }
    for name, body in bodies.items():
        yield Case(f"template-{name}", _template_maker(body), "templates/default.j2")


def _template_maker(body: str) -> Callable[[Path], int]:
    def make(project: Path) -> int:
        path = project / "templates" / "default.j2"
        path.write_text("{#- line 1 -#}\n{{ body }}\n" + body + "\n", encoding="utf-8")
        return 3

    return make


_SLOT = '- {days: [mon, thu], times: ["10:00"]}'


def _queue_cases() -> Iterator[Case]:
    """The queue, the approval-gated entry and the long form of a group, broken one way each."""
    for value in (".inf", "0", "forever", "36501d"):
        yield Case(f"cooldown={value}", _field("cooldown: 10d", "cooldown", value), "schedule.yaml")
    for value in ("shuffled", "[random]", "1"):
        yield Case(f"order={value}", _field("order: round-robin", "order", value), "schedule.yaml")
    for value in ("content/nowhere", "schedule.yaml", "content/welcome.md"):
        yield Case(
            f"folder={value}", _field("folder: content/tips", "folder", value), "schedule.yaml"
        )
    slots = {
        "time-25": '- {days: [mon], times: ["25:00"]}',
        "time-word": '- {days: [mon], times: ["noon"]}',
        "day-moon": '- {days: [moon], times: ["10:00"]}',
        "cron-short": '- {cron: "0 9 * *"}',
        "cron-never": '- {cron: "0 0 31 2 *"}',
        "cron-and-times": '- {cron: "0 9 * * 1", times: ["10:00"]}',
        "neither": "- {days: [mon]}",
        "to-nobody": '- {days: [mon], times: ["10:00"], to: [nobody]}',
        "days-with-cron": '- {cron: "0 9 * * 1", days: [mon]}',
        "not-a-mapping": "- 10:00",
    }
    for name, slot in slots.items():
        yield Case(f"slot-{name}", _slot_maker(slot), "schedule.yaml")
    after_folder = {
        "seed-without-random": "seed: 3",
        "max_repeats-0": "max_repeats: 0",
        "max_repeats-word": "max_repeats: many",
        "fill_gaps-word": "fill_gaps: yes",
        "typo": "cooldwn: 3d",
        "tags-nothing": "tags: [no-such-tag]",
        "content-unknown": "content: [blads]",
        "approval-maybe": "approval: maybe",
    }
    for name, line in after_folder.items():
        yield Case(f"queue-{name}", _after_maker("folder: content/tips", line), "schedule.yaml")
    # no content, tags or folder: the queue as a whole, on its first line (two above)
    no_pool = _field("folder: content/tips", "utm", "true")
    yield Case("queue-no-pool", lambda p: no_pool(p) - 2, "schedule.yaml")
    for value in ("maybe", "[required]", "yes"):
        yield Case(
            f"approval={value}", _field("approval: required", "approval", value), "schedule.yaml"
        )
    for value in ("next-slt", "next"):
        yield Case(f"at={value}", _field("at: 2027-09-01", "at", value), "schedule.yaml")
    groups = {
        "approval": "everywhere: {members: [website-feed, archive], approval: maybe}",
        "no-members": "everywhere: {approval: required}",
        "unknown-key": "everywhere: {members: [archive], aproval: required}",
    }
    for name, line in groups.items():
        yield Case(f"group-{name}", _group_maker(line), "schedule.yaml")
    yield Case("approved_at", _approved_at, "content/programme.md")


def _slot_maker(slot: str) -> Callable[[Path], int]:
    return lambda p: _replace(p, "schedule.yaml", _SLOT, slot)


def _after_maker(anchor: str, line: str) -> Callable[[Path], int]:
    return lambda p: _replace(p, "schedule.yaml", anchor, f"{anchor}\n    {line}") + 1


def _group_maker(line: str) -> Callable[[Path], int]:
    return lambda p: _replace(p, "schedule.yaml", "everywhere: [website-feed, archive]", line)


def _approved_at(project: Path) -> int:
    return _replace(project, "content/programme.md", "title:", "approved_at: not a date\ntitle: x")


_FEED = {"id": "news", "url": "https://news.example/feed.xml", "to": "[everywhere]"}
_BAD_FEED_FIELDS = {
    "url": ("ftp://news.example/feed", "not a url", "[a]", "'http://'", "''"),
    "to": ("nobody", "[]", "{a: b}"),
    "id": ("'has space'", "[x]", "-bad"),
    "template": ("no-such-template", "[a]"),
    "since": ("yesterday", "9999-12-31 23:59", ".inf", "[subscribed]"),
    "every": ("30s", ".inf", "0", "forever"),
    "max_per_fetch": ("0", "101", "1e400", "-1", "many"),
    "grace": (".inf", "-5"),
    "missed": ("maybe",),
    "evry": ("1m",),
}


def _feed_cases() -> Iterator[Case]:
    for key, values in _BAD_FEED_FIELDS.items():
        for value in values:
            yield Case(f"feed-{key}={value}", _feed_maker({key: value}), "schedule.yaml")
    yield Case("feeds-not-a-list", _feeds_tail("\nfeeds: news\n", 2), "schedule.yaml")
    yield Case("feeds-item-number", _feeds_tail("\nfeeds:\n  - 5\n", 3), "schedule.yaml")
    twice = "".join(f"\n  - {{id: a, url: 'https://x.example/{n}', to: archive}}" for n in "12")
    yield Case("feeds-same-id", _feeds_tail(f"\nfeeds:{twice}\n", 4), "schedule.yaml")
    yield Case("feed-template-undefined", _feed_template, "templates/feed-entry.j2")


def _feed_maker(changes: dict[str, str]) -> Callable[[Path], int]:
    fields = {**_FEED, **changes}
    text = "\nfeeds:\n" + "".join(
        f"  {'- ' if n == 0 else '  '}{key}: {value}\n"
        for n, (key, value) in enumerate(fields.items())
    )
    (changed,) = changes
    return _feeds_tail(text, 3 + list(fields).index(changed))


def _feeds_tail(text: str, line: int) -> Callable[[Path], int]:
    return lambda p: _append(p, "schedule.yaml", text) - 1 + line - 1


def _feed_template(project: Path) -> int:
    (project / "templates" / "feed-entry.j2").write_text("{{ title }}\n{{ titel }}\n", "utf-8")
    _feed_maker({"template": "feed-entry"})(project)
    return 2


CASES = [
    *_feed_cases(),
    *_encoding_cases(),
    *_special_file_cases(),
    *_number_cases(),
    *_yaml_cases(),
    *_silent_cases(),
    *_structure_cases(),
    *_template_cases(),
    *_queue_cases(),
]


# --------------------------------------------------------------------------- running a case


@dataclass(frozen=True)
class Outcome:
    code: int | None  # None: killed (time or memory)
    output: str
    seconds: float
    peak_bytes: int  # resident memory the command added, at its peak


def _child(project: Path, args: list[str], log: Path) -> None:
    """In the forked child: bounded, output to ``log``, never returns."""
    code = 70
    try:
        resource.setrlimit(resource.RLIMIT_AS, (_address_space() + MEMORY_LIMIT,) * 2)
        signal.alarm(TIME_LIMIT)  # the default action kills the child, even in a blocked open()
        descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(descriptor, 1)
        os.dup2(descriptor, 2)
        # pytest has replaced sys.stdout/err with its own capture objects
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        os.chdir(project)
        from crosspost.cli import cli

        try:
            cli.main(["-s", "schedule.yaml", *args], prog_name="crosspost")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - anything here is what the test looks for
        import traceback

        traceback.print_exc()
        code = 71
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _address_space() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[0]) * resource.getpagesize()


def _resident() -> int:
    """This process's resident memory, in bytes."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


def _start(project: Path, args: list[str], log: Path) -> tuple[int, int]:
    """The forked child's pid, and what it inherits resident: its peak starts there, so
    the pytest process's own size (larger in a worker that ran big tests) is not the
    command's."""
    sys.stdout.flush()
    sys.stderr.flush()
    inherited = _resident()
    pid = os.fork()
    if pid == 0:
        _child(project, args, log)
    return pid, inherited


def _run_all(jobs: list[tuple[Path, list[str], Path]]) -> list[Outcome]:
    """Run the jobs two at a time (the machine is shared); results in order."""
    results: dict[int, Outcome] = {}
    running: dict[int, tuple[int, float, int]] = {}  # pid -> (job index, start, inherited)
    pending = list(enumerate(jobs))
    while pending or running:
        while pending and len(running) < 2:
            index, (project, args, log) = pending.pop(0)
            pid, inherited = _start(project, args, log)
            running[pid] = (index, time.monotonic(), inherited)
        pid, status, usage = os.wait4(-1, 0)
        index, started, inherited = running.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        log = jobs[index][2]
        results[index] = Outcome(
            None if code < 0 else code,
            log.read_text(encoding="utf-8", errors="replace") if log.exists() else "",
            time.monotonic() - started,
            max(usage.ru_maxrss * 1024 - inherited, 0),
        )
    return [results[i] for i in range(len(jobs))]


def _example(tmp: Path) -> Path:
    project = tmp / "project"
    project.mkdir(parents=True)
    shutil.copy(REPO / "schedule.yaml", project)
    shutil.copytree(REPO / "content", project / "content")
    shutil.copytree(REPO / "templates", project / "templates")
    return project


def _verdict(case: Case, line: int | None, outcome: Outcome) -> str | None:
    """What is wrong with the outcome, or None."""
    if outcome.code is None:
        return f"killed after {outcome.seconds:.1f}s (time or memory bound)"
    if "Traceback" in outcome.output:
        return "printed a traceback"
    if outcome.code != 2:
        return f"exit {outcome.code}, expected 2"
    where = f"{case.file}:{line}:" if line is not None else f"{case.file}:"
    if where not in outcome.output:
        return f"does not name {where}"
    return None


def test_the_example_project_itself_is_clean(tmp_path: Path) -> None:
    project = _example(tmp_path)
    outcomes = _run_all(
        [(project, list(args), tmp_path / f"{i}.log") for i, args in enumerate(COMMANDS)]
    )
    assert [o.code for o in outcomes] == [0, 0], [o.output for o in outcomes]


def test_the_corpus_has_every_category_and_enough_cases() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    assert len(CASES) >= 200
    categories = (
        "schedule.yaml-latin1", "env-utf16", "content-fifo", "every=.inf", "at=0001",
        "schedule-alias-bomb", "cron-never", "template-syntax", "token-newline",
        "slot-", "queue-", "approval=", "group-",
    )  # fmt: skip
    for prefix in categories:
        assert any(name.startswith(prefix) for name in names), prefix


def test_every_broken_project_is_an_error_with_its_file_and_line(tmp_path: Path) -> None:
    jobs, expected = [], []
    for number, case in enumerate(CASES):
        project = _example(tmp_path / str(number))
        line = case.make(project)
        for which, args in enumerate(COMMANDS):
            jobs.append((project, list(args), tmp_path / str(number) / f"{which}.log"))
            expected.append((case, line))
    failures = []
    for (case, line), outcome, (_, args, _log) in zip(expected, _run_all(jobs), jobs, strict=True):
        if outcome.peak_bytes > MEMORY_LIMIT:
            failures.append(f"{case.name} [{args[0]}]: peak memory {outcome.peak_bytes >> 20} MB")
        problem = _verdict(case, line, outcome)
        if problem is not None:
            tail = outcome.output.strip().splitlines()[-3:]
            failures.append(f"{case.name} [{args[0]}]: {problem}: {tail}")
    assert not failures, f"{len(failures)} failing:\n" + "\n".join(failures)
