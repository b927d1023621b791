"""The C parser's reading of a schedule is the pure parser's, positions included; anything
unusual, wrong or over a limit is left to the pure parser, which words the error."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from crosspost.errors import ConfigError
from crosspost.loading import yamlfile
from crosspost.loading.front_matter import split_front_matter
from crosspost.loading.yamlfile import MAX_ALIAS_NODES, MAX_DEPTH, ReadMap, ReadSeq, parse_yaml

ROOT = Path(__file__).resolve().parent.parent
#: Mappings and lists as either reading makes them (the one pass: ReadMap and ReadSeq).
MAPPINGS = (CommentedMap, ReadMap)
SEQUENCES = (CommentedSeq, ReadSeq)

pytestmark = pytest.mark.skipif(yamlfile._CParser is None, reason="ruamel.yaml.clib is missing")


def _documents() -> list[tuple[str, str]]:
    """Every YAML file of the repository and the front matter of every Markdown file."""
    listed = subprocess.run(
        ["git", "ls-files", "*.yaml", "*.yml", "*.md"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    documents = []
    for name in listed:
        text = (ROOT / name).read_text(encoding="utf-8")
        if name.endswith(".md"):
            front, _body, _line = split_front_matter(text)
            if not front.strip():
                continue
            text = front
        documents.append((name, text))
    return documents


def _positions(value: Any, path: str = "", empty: bool = True) -> dict[str, tuple[int, int]]:
    """The line and column of every key, value and item under ``value`` (of an empty
    value too, unless ``empty`` is False: the parsers place those differently)."""
    found: dict[str, tuple[int, int]] = {}
    if isinstance(value, MAPPINGS):
        found[path] = (value.lc.line, value.lc.col)
        for key in value:
            if key in value.lc.data:  # not a key merged in with <<
                found[f"{path}.{key}:key"] = value.lc.key(key)
                if empty or value[key] is not None:
                    found[f"{path}.{key}:value"] = value.lc.value(key)
            found.update(_positions(value[key], f"{path}.{key}", empty))
    elif isinstance(value, SEQUENCES):
        found[path] = (value.lc.line, value.lc.col)
        for index, item in enumerate(value):
            found[f"{path}.{index}"] = value.lc.item(index)
            found.update(_positions(item, f"{path}.{index}", empty))
    return found


def _carefully(text: str) -> Any:
    return yamlfile._yaml().load(text)


DOCUMENTS = _documents()


def test_the_repository_has_yaml_to_compare() -> None:
    names = [name for name, _text in DOCUMENTS]
    assert "schedule.yaml" in names and any(name.endswith(".md") for name in names)


@pytest.mark.parametrize(("name", "text"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_every_file_of_the_repository_reads_the_same_both_ways(name: str, text: str) -> None:
    quick = yamlfile._parse_quickly(text)
    try:
        careful = _carefully(text)
    except Exception:  # a fixture of a broken file: the pure parser alone reads it
        assert quick is yamlfile._CAREFULLY
        return
    if quick is yamlfile._CAREFULLY:  # only what the quick reading leaves out
        assert careful is None or "!" in text or "%" in text
        return
    assert quick == careful
    assert _positions(quick) == _positions(careful)
    assert _kinds(quick) == _kinds(careful)


@pytest.mark.parametrize(
    "text",
    [
        "a: 12:30\nb: no\nc: 0o14\nd: 012\ne: 1_000\nf: ~\ng: 2026-05-01 10:00\n",
        "- &x [1, 2]\n- *x\n- {<<: {a: 1}, b: 2}\n",
        "text: |\n  two\n  lines\nfolded: >\n  one\n  line\nquoted: 'it''s'\n",
        'esc: "tab\\there \\u00e9 \\U0001F600"\nlong: a\n  b\n\n  c\n',
        "emoji: 🎉 then text\nkey with spaces: [a, 'b', \"c\"]\n",
        "? complex\n: value\nlist:\n-\n- x\n",
        "x",
        "a: true\nb: 'true'\nc: true\nd: 1\ne: '1'\nf: 1\n",  # a text quoted, then not
    ],
)
def test_tricky_values_read_the_same_both_ways(text: str) -> None:
    quick = yamlfile._parse_quickly(text)
    assert quick is not yamlfile._CAREFULLY
    assert quick == _carefully(text)
    assert _positions(quick) == _positions(_carefully(text))
    assert _kinds(quick) == _kinds(_carefully(text))


def _kinds(value: Any) -> Any:
    """The type of every value under ``value``; mappings and lists as such, whichever
    reading made them (the one pass keeps no flow style: nothing writes a tree back)."""
    if isinstance(value, MAPPINGS):
        return ("map", {key: _kinds(item) for key, item in value.items()})
    if isinstance(value, SEQUENCES):
        return ("seq", [_kinds(item) for item in value])
    return type(value).__name__


def test_a_plain_schedule_is_built_without_ruamels_constructor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(_self: object, _node: object) -> None:
        raise AssertionError("built by construct_document")

    text = (ROOT / "schedule.yaml").read_text(encoding="utf-8")
    careful = _carefully(text)
    monkeypatch.setattr(yamlfile._QuickLoader, "construct_document", refused)
    quick = yamlfile._parse_quickly(text)
    assert quick == careful and _positions(quick) == _positions(careful)
    assert _kinds(quick) == _kinds(careful)


def _nested_aliases(levels: str) -> str:
    """``a`` a list of 9 values, each next level a list of 9 aliases to the one before."""
    text = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    for previous, name in zip(levels, levels[1:], strict=False):
        text += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
    return text


def test_an_empty_value_is_placed_on_its_keys_line() -> None:
    # the pure parser places it at the next value, lines further down
    text = "content:\n\n\nto: [club]\n"
    assert yamlfile._parse_quickly(text).lc.value("content") == (0, 8)
    assert _carefully(text).lc.value("content") == (3, 0)


@pytest.mark.parametrize(
    "text",
    [
        _nested_aliases("abcdefghi"),
        "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
        "a: 1\na: 2\n",  # a duplicate key
        "a: [1,\n",  # a syntax error
        "a: !foo 1\n",  # an unknown tag
        "a: !!str 1\n",  # a known tag: the pure loader keeps it on the value
        "a: =\n",  # resolves to a tag of its own, refused
        "%YAML 1.1\n---\na: no\n",  # a directive changes how values read
        "---\na: 1\n---\nb: 2\n",  # two documents
        "a: *nowhere\n",
        "",
    ],
)
def test_anything_unusual_is_left_to_the_pure_parser(text: str) -> None:
    assert yamlfile._read_plainly(text) is yamlfile._CAREFULLY
    assert yamlfile._parse_quickly(text) is yamlfile._CAREFULLY


def test_a_plain_schedule_is_read_in_one_pass_over_its_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(*_args: object) -> None:
        raise AssertionError("a second pass")

    text = (ROOT / "schedule.yaml").read_text(encoding="utf-8")
    monkeypatch.setattr(yamlfile, "_plainly_bounded", refused)
    monkeypatch.setattr(yamlfile._QuickLoader, "get_single_node", refused)
    quick = yamlfile._parse_quickly(text)
    assert isinstance(quick, ReadMap) and isinstance(quick["posts"], ReadSeq)
    careful = _carefully(text)
    assert quick == careful and _positions(quick) == _positions(careful)
    assert _kinds(quick) == _kinds(careful)


@pytest.mark.parametrize(
    "text",
    [
        "- &x [1, 2]\n- *x\n",  # an anchor: its value is shared
        "base: &b {a: 1}\nx: {<<: *b, c: 2}\n",  # a merge key
        "? [a, b]\n: c\n",  # a list as a key
        "1: one\n",  # a key that is not a text
    ],
)
def test_what_one_pass_does_not_build_is_read_in_two(text: str) -> None:
    assert yamlfile._read_plainly(text) is yamlfile._CAREFULLY
    quick = yamlfile._parse_quickly(text)
    assert quick is not yamlfile._CAREFULLY
    assert quick == _carefully(text) and _positions(quick) == _positions(_carefully(text))


def test_one_pass_counts_values_and_depth_as_it_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlfile, "MAX_VALUES", 5)
    assert yamlfile._read_plainly("a: [1, 2]\n") == {"a": [1, 2]}  # 5 values: the root too
    assert yamlfile._read_plainly("a: [1, 2, 3]\n") is yamlfile._CAREFULLY
    monkeypatch.setattr(yamlfile, "MAX_DEPTH", 3)
    assert yamlfile._read_plainly("a: [[1]]\n") == {"a": [[1]]}
    assert yamlfile._read_plainly("a: [[[1]]]\n") is yamlfile._CAREFULLY


def test_aliases_are_counted_as_the_pure_parser_counts_them() -> None:
    # aliases expand to 90 + 819 + 7,380 + 66,429 = 74,718 nodes up to e: under the limit
    five = _nested_aliases("abcde")
    assert yamlfile._parse_quickly(five) == _carefully(five)
    # f adds 9 x 66,430: over it, and the pure parser refuses it too
    six = _nested_aliases("abcdef")
    assert yamlfile._parse_quickly(six) is yamlfile._CAREFULLY
    with pytest.raises(ConfigError, match="aliases expand to more than"):
        parse_yaml(six, "s.yaml")
    assert MAX_ALIAS_NODES == 100_000  # what the counts above are about


def test_a_schedule_still_fails_where_the_pure_parser_says() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_yaml("posts:\n  - id: a\n  - id: a\n    id: b\n", "s.yaml")
    assert str(exc.value.problems[0]).startswith("s.yaml:")


_CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(_CHARACTERS, max_size=20),
    st.sampled_from(["12:30", "no", "on", "0o14", "012", "1_000", "2026-05-01 10:00", "~", "- x"]),
)
_KEYS = st.text(_CHARACTERS, min_size=1, max_size=8)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(_KEYS, _VALUES, min_size=1, max_size=5), flow=st.booleans())
def test_what_ruamel_writes_reads_the_same_both_ways(value: dict[str, Any], flow: bool) -> None:
    writer = YAML(typ="rt")
    writer.default_flow_style = flow
    writer.width = 30  # long values fold over lines
    out = io.StringIO()
    writer.dump(value, out)
    text = out.getvalue()
    quick = yamlfile._parse_quickly(text)
    try:
        careful = _carefully(text)
    except Exception:  # ruamel writes `{:0: null}` for {":0": None}, which it cannot read
        assert quick is yamlfile._CAREFULLY
        return
    if quick is yamlfile._CAREFULLY:
        return  # left to the pure parser: nothing to compare
    assert quick == careful
    # ruamel writes None as an empty value (test_an_empty_value_is_placed_on_its_keys_line)
    assert _positions(quick, empty=False) == _positions(careful, empty=False)
    assert _kinds(quick) == _kinds(careful)


def _same_plainly(parsed: Any, copied: Any) -> None:
    """``copied`` holds what ``parsed`` does, in the same order, in plain dicts and lists."""
    if isinstance(parsed, dict):
        assert type(copied) is dict
        assert list(copied) == list(parsed.keys())  # the order a CommentedMap gives
        for key, value in parsed.items():
            _same_plainly(value, copied[key])
    elif isinstance(parsed, list):
        assert type(copied) is list and len(copied) == len(parsed)
        for value, copy in zip(parsed, copied, strict=True):
            _same_plainly(value, copy)
    else:
        assert copied is parsed  # a scalar stays the object parsed


@pytest.mark.parametrize(("name", "text"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_the_plain_copy_a_model_validates_holds_what_was_parsed(name: str, text: str) -> None:
    try:
        parsed = parse_yaml(text, name)
    except ConfigError:  # a fixture of a broken file
        return
    _same_plainly(parsed, yamlfile.plain(parsed))


def test_the_plain_copy_keeps_merged_keys_where_the_parsed_mapping_has_them() -> None:
    parsed = parse_yaml("base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\n  c: [{d: 4}]\n", "s")
    copied = yamlfile.plain(parsed)
    assert copied["x"] == {"b": 3, "c": [{"d": 4}], "a": 1} == dict(parsed["x"])
    _same_plainly(parsed, copied)


def test_an_event_the_count_does_not_know_leaves_the_text_to_the_pure_parser() -> None:
    from ruamel.yaml.events import DocumentStartEvent, StreamStartEvent

    class Parser:
        """A parser of a newer ruamel, with an event of a kind not known here."""

        def __init__(self) -> None:
            self.events = [StreamStartEvent(), DocumentStartEvent(), object()]

        def get_event(self) -> Any:
            return self.events.pop(0) if self.events else None

        def dispose(self) -> None:
            pass

    assert not yamlfile._plainly_bounded(Parser())


def test_the_quick_loader_goes_when_the_reading_is_done_without_a_collection() -> None:
    import gc

    gc.collect()
    gc.disable()
    try:
        assert parse_yaml("posts:\n  - {id: a, content: c, to: [x]}\n", "s.yaml")["posts"]
        left = [o for o in gc.get_objects() if isinstance(o, yamlfile._QuickLoader)]
    finally:
        gc.enable()
    assert left == []  # its tags memo and tree do not wait for the collector
