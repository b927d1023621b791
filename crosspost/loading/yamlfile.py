"""YAML with positions: load files so that every error can say file:line:column.

ruamel.yaml's round-trip loader keeps the line and column of every key and
item (YAML 1.2, so ``12:30`` stays a string and ``no`` is not ``False``). A plain
document (most schedules) is read faster by ruamel's C parser into :class:`ReadMap`
and :class:`ReadSeq`, with the same values and positions.
:func:`locate` walks a pydantic error location back to the node it names.
"""

from __future__ import annotations

import difflib
import typing
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml import main as ruamel_main
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer, ComposerError
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from crosspost.errors import ConfigError, Problem
from crosspost.loading.inputfile import MAX_FILE_BYTES, read_text

__all__ = [
    "Positions",
    "ReadMap",
    "ReadSeq",
    "Where",
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "MAX_LINES",
    "MAX_VALUES",
    "load_yaml",
    "locate",
    "parse_yaml",
    "plain",
    "validation_problems",
]


#: At most this many nodes may be produced by aliases (``*name``) in one document.
MAX_ALIAS_NODES = 100_000
#: Deeper nesting than this is refused (it would only ever be a mistake or an attack).
MAX_DEPTH = 100
#: At most this many values (scalars, lists and mappings) in one document: parsing keeps
#: about 1 KB per value until it is done, so this bounds its memory (about 1 GB).
MAX_VALUES = 1_000_000
#: At most this many lines in one file: the round-trip loader keeps every comment and
#: blank line as a token (a few hundred bytes each).
MAX_LINES = 1_000_000
#: ruamel.yaml's C parser (ruamel.yaml.clib); None where it is not installed.
_CParser: Any = getattr(ruamel_main, "CParser", None)
#: The tags plain YAML resolves to; any other (``!foo``, ``!!python/…``) is refused.
_KNOWN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge")
)


class _BoundedComposer(Composer):
    """Counts what aliases expand to, refusing alias bombs and unknown tags where they are.

    ruamel.yaml shares the anchored node rather than copying it, but everything
    after parsing (validation, rendering) walks the expanded tree, so 9 nested
    levels of 9 aliases would cost 9⁹ nodes there.
    """

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self._expanded = 0
        self._values = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.parser.check_event(AliasEvent):
            mark = self.parser.peek_event().start_mark
            node = super().compose_node(parent, index)
            self._expanded += self._size(node, mark, set())
            if self._expanded > MAX_ALIAS_NODES:
                raise ComposerError(
                    None,
                    None,
                    f"aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?)",
                    mark,
                )
            return node
        self._values += 1
        if self._values > MAX_VALUES:
            mark = self.parser.peek_event().start_mark
            raise ComposerError(
                None, None, f"more than {MAX_VALUES:,} values in one file (the limit)", mark
            )
        node = super().compose_node(parent, index)
        tag = str(getattr(node.tag, "value", node.tag) or "")
        if tag and tag not in _KNOWN_TAGS:
            raise ComposerError(
                None, None, f"unknown tag {tag} (tags are not used)", node.start_mark
            )
        return node

    def _size(self, node: Node, mark: Any, open_nodes: set[int]) -> int:
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        if id(node) in open_nodes:
            raise ComposerError(None, None, "an alias refers to the node it is in", mark)
        open_nodes.add(id(node))
        size = 1
        if isinstance(node, MappingNode):
            size += sum(
                self._size(k, mark, open_nodes) + self._size(v, mark, open_nodes)
                for k, v in node.value
            )
        elif isinstance(node, SequenceNode):
            size += sum(self._size(item, mark, open_nodes) for item in node.value)
        open_nodes.discard(id(node))
        self._sizes[id(node)] = size
        return size


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.max_depth = MAX_DEPTH
    yaml.Composer = _BoundedComposer
    return yaml


def parse_yaml(text: str, file: Path | str, line_offset: int = 0) -> Any:
    """Parse YAML text, turning syntax errors into a :class:`ConfigError` with the position.

    Args:
        text: the YAML source.
        file: the file name to report.
        line_offset: lines before ``text`` in the file (front matter starts after ``---``).
    """
    lines = text.count("\n", 0, len(text) - 1) + 1
    if lines > MAX_LINES:
        message = f"more than {MAX_LINES:,} lines in one file (the limit)"
        raise ConfigError([Problem.at(file, MAX_LINES + 1 + line_offset, 1, message)])
    quick = _parse_quickly(text)
    if quick is not _CAREFULLY:
        return quick
    try:
        return _yaml().load(text)
    except MarkedYAMLError as exc:
        raise ConfigError([_syntax_problem(exc, file, line_offset)]) from None
    except Exception as exc:  # ruamel raises a few unmarked errors (duplicate keys, …)
        raise ConfigError([Problem.at(file, 1 + line_offset, 1, f"YAML: {exc}")]) from None


#: What :func:`_parse_quickly` answers when the pure parser must read the text.
_CAREFULLY: Any = object()


def _parse_quickly(text: str) -> Any:
    """``text`` read by ruamel's C parser (ruamel.yaml.clib) into what :func:`_yaml` makes
    of it, positions included, in a third of the time; :data:`_CAREFULLY` when that parser
    is not installed or the text is anything but a plain, well-formed document within the
    limits: the pure parser then reads it again and words the error.

    A document without anchors (most schedules) is built from the parser's events in one
    pass, counted as it goes (:func:`_read_plainly`). One with anchors takes two: the
    events alone first, counted as :class:`_BoundedComposer` counts nodes, so that no
    hostile text is built into nodes (the C parser builds the whole tree before anyone
    could count it); then the document, with the same resolver (YAML 1.2) and
    constructor as the pure parser's, each value's tag checked as it is resolved.
    """
    if _CParser is None:
        return _CAREFULLY
    try:
        built = _read_plainly(text)
        if built is not _CAREFULLY:
            return built
        if not _plainly_bounded(_CParser(text)):
            return _CAREFULLY
        loader = _QuickLoader(text)
        try:
            node = loader.get_single_node()
            if node is None or loader.unknown_tag:
                return _CAREFULLY
            return loader.construct_quickly(node)
        finally:
            loader.dispose()
            # it refers to itself (as parser, composer, constructor, resolver): without
            # its attributes it goes at once, not at the next collection of cycles
            loader.__dict__.clear()
    except Exception:  # a syntax error, a duplicate key, …: the careful reading words it
        return _CAREFULLY


def _read_plainly(text: str) -> Any:
    """``text`` built from the C parser's events in one pass, without nodes, into
    :class:`ReadMap` and :class:`ReadSeq` (the values and positions the pure parser
    gives, without its formatting: a schedule is read, not written back): for 50,000
    entries 1.5 CPU-s instead of 2.9 for two passes into ruamel's types.
    :data:`_CAREFULLY` at the first event it does not build plainly: an anchor, an
    alias, a tag, a key that is not a text, a key written twice, more values or deeper
    nesting than the limits, more than one document. It counts values and depth as it
    builds, as :class:`_BoundedComposer` does."""
    loader = _QuickLoader(text)
    try:
        return loader.read_plainly()
    except Exception:  # a syntax error: the careful reading words it
        return _CAREFULLY
    finally:
        loader.dispose()
        loader.__dict__.clear()  # see _parse_quickly


def _plainly_bounded(parser: Any) -> bool:
    """Whether the events of ``parser`` stay within :data:`MAX_VALUES`, :data:`MAX_DEPTH`
    and :data:`MAX_ALIAS_NODES` (counted as :class:`_BoundedComposer` does) in one document
    without directives or explicit tags (the pure loader keeps a tagged value as such).

    Events are told apart by their exact class, scalars first: this loop sees every
    value of the file (600,000 events for 50,000 entries). A node's size is the count of
    nodes (values, and what aliases expand to) between its start and its end, so a
    scalar only adds one to the count."""
    values = expanded = documents = 0
    sizes: dict[str, int] = {}  # anchor -> nodes its value expands to
    open_nodes: list[tuple[str | None, int]] = []  # anchor, nodes counted before it
    next_event = parser.get_event
    try:
        while (event := next_event()) is not None:
            kind = type(event)
            if kind is ScalarEvent:
                values += 1
                if values > MAX_VALUES or event.tag is not None:  # a tag: kept as written
                    return False
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                anchor, before = open_nodes.pop()
                if anchor is not None:
                    sizes[anchor] = values + expanded - before
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if values >= MAX_VALUES or event.tag is not None:
                    return False
                open_nodes.append((event.anchor, values + expanded))
                values += 1
                if len(open_nodes) > MAX_DEPTH:
                    return False
            elif kind is AliasEvent:
                shared = sizes.get(event.anchor)
                if shared is None or not open_nodes:
                    return False
                expanded += shared
                if expanded > MAX_ALIAS_NODES:
                    return False
            elif kind is DocumentStartEvent:
                documents += 1
                if documents > 1 or event.version or event.tags:
                    return False
            elif kind not in _OTHER_EVENTS:
                return False  # an event this count does not know: the careful reading
    finally:
        parser.dispose()
    return documents == 1


#: Events that change no count.
_OTHER_EVENTS = frozenset((StreamStartEvent, StreamEndEvent, DocumentEndEvent))


if _CParser is not None:

    class _QuickLoader(_CParser, RoundTripConstructor, VersionedResolver):  # type: ignore[misc]
        """The C parser with the pure parser's resolver and constructor, as ruamel.yaml
        puts them together for its own C loaders."""

        def __init__(self, text: str) -> None:
            _CParser.__init__(self, text)
            self._parser = self._composer = self
            RoundTripConstructor.__init__(self, loader=self)
            self.allow_duplicate_keys = False
            self.comment_handling = None  # as the pure loader's: no comments to attach
            VersionedResolver.__init__(self, version=None, loadumper=self)
            self._implicit = VersionedResolver.versioned_resolver.fget(self)  # type: ignore[attr-defined]
            #: A value resolved to a tag the pure loader refuses (``=`` is one, in YAML 1.2).
            self.unknown_tag = False
            #: Tags of the scalars resolved so far, by text and implicitness.
            self._scalar_tags: dict[tuple[Any, Any], Any] = {}

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            """ruamel's resolution, asked once per distinct scalar: it matched each
            value against its patterns, and a schedule repeats most of its values (the
            accounts, the content, the cron lines of its entries)."""
            if kind is not ScalarNode:
                return self._known(super().resolve(kind, value, implicit))
            key = (value, implicit)
            tag = self._scalar_tags.get(key)
            if tag is None:
                tag = self._scalar_tags[key] = self._known(super().resolve(kind, value, implicit))
            return tag

        def _known(self, tag: Any) -> Any:
            if str(getattr(tag, "value", tag)) not in _KNOWN_TAGS:
                self.unknown_tag = True
            return tag

        def construct_quickly(self, node: Node) -> Any:
            """What ``construct_document`` makes of ``node``, in half the time: mappings,
            lists and strings are built here as ruamel builds them (positions and flow
            style included), other values by ruamel's own constructors. The whole
            document goes to ``construct_document`` instead at a node it would treat
            otherwise: one with an anchor (its value is shared), a merge key (``<<``),
            a key that is not a string, a key written twice."""
            try:
                return self._construct_plainly(node)
            except _NotPlain:
                return self.construct_document(node)
            finally:
                self.constructed_objects = {}

        def _construct_plainly(self, node: Node) -> Any:
            if node.anchor is not None:
                raise _NotPlain
            if isinstance(node, MappingNode):
                return self._mapping(node)
            if isinstance(node, SequenceNode):
                return self._sequence(node)
            if self._is_text(node):
                return node.value
            return self.construct_object(node, deep=True)

        def read_plainly(self) -> Any:
            """See :func:`_read_plainly`. A collection is built as its events come: a
            mapping's key waits on its frame for the value, which is set when it ends
            (a scalar at once, a collection at its end event)."""
            stack: list[_Frame] = []
            root: Any = _CAREFULLY
            values = documents = 0
            next_event = self.get_event
            while (event := next_event()) is not None:
                kind = type(event)
                if kind is ScalarEvent:
                    values += 1
                    if event.anchor is not None or event.ctag is not None or values > MAX_VALUES:
                        return _CAREFULLY
                    if not stack:
                        root = self._scalar(event)
                        continue
                    frame = stack[-1]
                    if frame.mapping and frame.key is None:
                        if not self._text_key(event, frame.lines):
                            return _CAREFULLY
                        frame.key, frame.key_mark = event.value, event.start_mark
                        continue
                    frame.add(self._scalar(event), event.start_mark)
                elif kind is MappingStartEvent or kind is SequenceStartEvent:
                    values += 1
                    if event.anchor is not None or event.ctag is not None or values > MAX_VALUES:
                        return _CAREFULLY
                    if stack and stack[-1].mapping and stack[-1].key is None:
                        return _CAREFULLY  # a collection as a key
                    stack.append(_Frame(kind is MappingStartEvent, event))
                    if len(stack) > MAX_DEPTH:
                        return _CAREFULLY
                elif kind is MappingEndEvent or kind is SequenceEndEvent:
                    frame = stack.pop()
                    if stack:
                        stack[-1].add(frame.data, frame.start_mark)
                    else:
                        root = frame.data
                elif kind is DocumentStartEvent:
                    documents += 1
                    if documents > 1 or event.version or event.tags:
                        return _CAREFULLY
                elif kind not in _OTHER_EVENTS:
                    return _CAREFULLY  # an alias, or an event this reading does not know
            return _CAREFULLY if self.unknown_tag else root

        def _tag(self, event: Any) -> Any:
            """The tag of a scalar ``event``: :meth:`resolve`'s memo looked up first."""
            tag = self._scalar_tags.get((event.value, event.implicit))
            return tag if tag is not None else self.resolve(ScalarNode, event.value, event.implicit)

        def _scalar(self, event: Any) -> Any:
            tag = self._tag(event)
            if tag is self.DEFAULT_SCALAR_TAG and event.style in _PLAIN_STYLES:
                return event.value
            node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
            return self.construct_object(node, deep=True)

        def _text_key(self, event: Any, keys: dict[Any, Any]) -> bool:
            """Whether the scalar ``event`` is a key ``_mapping`` takes: a text (a merge
            key ``<<`` resolves to a tag of its own), not one of ``keys`` already."""
            return (
                self._tag(event) is self.DEFAULT_SCALAR_TAG
                and event.style in _PLAIN_STYLES
                and event.value not in keys
            )

        def _mapping(self, node: MappingNode) -> CommentedMap:
            data = CommentedMap()
            data._yaml_set_line_col(node.start_mark.line, node.start_mark.column)
            positions = data.lc  # looked up once: a property that checks for itself
            for key_node, value_node in node.value:
                if key_node.anchor is not None or not self._is_text(key_node):
                    raise _NotPlain  # a merge key (<<) too: it resolves to a tag of its own
                key = key_node.value
                if key in data:
                    raise _NotPlain  # a duplicate: ruamel's constructor words it
                value = self._construct_plainly(value_node)
                where = [key_node.start_mark.line, key_node.start_mark.column]
                positions.add_kv_line_col(
                    key, [*where, value_node.start_mark.line, value_node.start_mark.column]
                )
                data[key] = value
            self.set_collection_style(data, node)
            return data

        def _is_text(self, node: Node) -> bool:
            """Whether ``node`` is a scalar that ruamel's constructor reads as its text:
            resolved to the string tag (the resolver hands every string the one object
            it keeps for it; any other tag object goes to ruamel's constructor), plain or
            quoted."""
            return (
                node.ctag is self.DEFAULT_SCALAR_TAG
                and isinstance(node, ScalarNode)
                and node.style in _PLAIN_STYLES
            )

        def _sequence(self, node: SequenceNode) -> CommentedSeq:
            data = CommentedSeq()
            data._yaml_set_line_col(node.start_mark.line, node.start_mark.column)
            positions = data.lc
            items = []
            for index, child in enumerate(node.value):
                items.append(self._construct_plainly(child))
                positions.add_idx_line_col(index, [child.start_mark.line, child.start_mark.column])
            data.extend(items)
            self.set_collection_style(data, node)
            return data

        @property
        def processing_version(self) -> Any:
            """YAML 1.2, as the pure loader reads a document without a ``%YAML``
            directive (the only kind read here). ruamel's own looks for the version on
            three attributes this loader lacks, each an exception, at every value."""
            return _YAML_1_2

        @property
        def versioned_resolver(self) -> Any:
            return self._implicit


#: The version :class:`_QuickLoader` reads: ruamel's default, that of a document
#: without a directive.
_YAML_1_2 = (1, 2)
#: The styles of a scalar ruamel's round-trip constructor reads as a plain ``str``: plain
#: (``""`` from the C parser) and quoted; ``|`` and ``>`` make scalar-string types.
_PLAIN_STYLES = frozenset((None, "", "'", '"'))


class Positions:
    """Where a mapping or list read in one pass is, and where each of its keys, values and
    items is (0-based): what ruamel's ``LineCol`` answers for a ``CommentedMap``, for
    :func:`locate`. ``data``: a key's ``[key line, key column, value line, value column]``,
    an item's ``[line, column]``, by key or index."""

    __slots__ = ("line", "col", "data")

    def __init__(self, line: int, col: int) -> None:
        self.line, self.col = line, col
        self.data: dict[Any, list[int]] = {}

    def key(self, key: Any) -> tuple[int, int]:
        return self.data[key][0], self.data[key][1]

    def value(self, key: Any) -> tuple[int, int]:
        return self.data[key][2], self.data[key][3]

    def item(self, index: int) -> tuple[int, int]:
        return self.data[index][0], self.data[index][1]


class ReadMap(dict[Any, Any]):
    """A mapping as :func:`_read_plainly` reads it: a ``dict`` that knows its positions
    (``lc``, as a ``CommentedMap``). A ``CommentedMap`` costs three times as much to make
    and fill, for formatting nothing here reads back."""

    __slots__ = ("lc",)
    lc: Positions


class ReadSeq(list[Any]):
    """A list as :func:`_read_plainly` reads it (see :class:`ReadMap`)."""

    __slots__ = ("lc",)
    lc: Positions


#: The mappings and lists of a parsed tree, whichever reading made them.
_MAPPINGS = (CommentedMap, ReadMap)
_SEQUENCES = (CommentedSeq, ReadSeq)


class _Frame:
    """A mapping or list :meth:`_QuickLoader.read_plainly` is building."""

    __slots__ = ("mapping", "data", "lines", "key", "key_mark", "start_mark")

    def __init__(self, mapping: bool, event: Any) -> None:
        self.mapping = mapping
        self.start_mark = mark = event.start_mark
        self.data: ReadMap | ReadSeq = ReadMap() if mapping else ReadSeq()
        self.data.lc = positions = Positions(mark.line, mark.column)
        self.lines = positions.data
        self.key: Any = None
        self.key_mark: Any = None

    def add(self, value: Any, mark: Any) -> None:
        if self.mapping:
            key_mark = self.key_mark
            self.lines[self.key] = [key_mark.line, key_mark.column, mark.line, mark.column]
            self.data[self.key] = value
            self.key = None
        else:
            self.lines[len(self.data)] = [mark.line, mark.column]
            self.data.append(value)  # type: ignore[union-attr]


class _NotPlain(Exception):
    """A node :meth:`_QuickLoader.construct_quickly` leaves to ruamel's constructor."""


def _syntax_problem(exc: MarkedYAMLError, file: Path | str, line_offset: int) -> Problem:
    """Place a syntax error; an unclosed quote or bracket is placed where it was opened."""
    what = exc.problem or exc.context or "invalid YAML"
    mark = exc.problem_mark or exc.context_mark
    unclosed = "end of stream" in what or "<stream end>" in what
    if exc.context_mark is not None and (mark is None or unclosed):
        mark = exc.context_mark
        what = f"{exc.context}: {what}" if exc.context else what
    line = (mark.line + 1 if mark else 1) + line_offset
    column = mark.column + 1 if mark else 1
    return Problem.at(file, line, column, f"YAML syntax: {what}")


def load_yaml(path: Path, limit: int = MAX_FILE_BYTES) -> Any:
    """Read and parse a YAML file of at most ``limit`` bytes."""
    return parse_yaml(read_text(path, limit=limit), path)


def locate(root: Any, loc: Sequence[str | int], line_offset: int = 0) -> tuple[int, int]:
    """1-based line and column of the deepest node of ``root`` that ``loc`` reaches."""
    node = root
    line, column = 1, 1
    for key in loc:
        position = _position(node, key)
        if position is None:
            break
        line, column = position
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    return line + line_offset, column


@dataclass(frozen=True)
class Where:
    """A node of a YAML file (``events.0``) under which problems are placed by field."""

    root: Any
    path: Path
    loc: tuple[str | int, ...]

    def problem(self, loc: tuple[str | int, ...], message: str) -> Problem:
        """``file:line:column: events.0.steps.2.at: message`` for the field at ``loc``."""
        full = (*self.loc, *loc)
        line, column = locate(self.root, list(full))
        label = ".".join(str(part) for part in full)
        return Problem.at(self.path, line, column, f"{label}: {message}")

    def add(self, problems: list[Problem], loc: tuple[str | int, ...], message: str) -> None:
        """Append :meth:`problem` to ``problems``."""
        problems.append(self.problem(loc, message))


def _position(node: Any, key: str | int) -> tuple[int, int] | None:
    try:
        if isinstance(node, _MAPPINGS) and key in node:
            row, col = node.lc.value(key) if _is_scalar(node[key]) else node.lc.key(key)
            return row + 1, col + 1
        if isinstance(node, _SEQUENCES) and isinstance(key, int) and key < len(node):
            row, col = node.lc.item(key)
            return row + 1, col + 1
    except (KeyError, TypeError, AttributeError):
        return None
    if isinstance(node, _MAPPINGS + _SEQUENCES):
        return node.lc.line + 1, node.lc.col + 1
    return None


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, _MAPPINGS + _SEQUENCES)


def plain(tree: Any) -> Any:
    """``tree`` (as parsed) in plain dicts and lists, its positions left behind, for a
    model to validate: pydantic reads a ``CommentedMap`` through its Python methods,
    and a 50,000-entry schedule took 1.1 s to validate that way, 0.33 s copied first.

    A mapping's entries are taken in its own order, merged keys (``<<``) included, as
    ruamel's ``CommentedMap`` gives them; scalars stay the objects parsed.
    """
    if isinstance(tree, OrderedDict):  # CommentedMap; its C methods, not its Python ones
        return {key: plain(value) for key, value in OrderedDict.items(tree)}
    if isinstance(tree, dict):
        return {key: plain(value) for key, value in tree.items()}
    if isinstance(tree, list):
        return [plain(value) for value in tree]
    return tree


def validation_problems(
    error: ValidationError,
    root: Any,
    file: Path | str,
    prefix: Sequence[str | int] = (),
    line_offset: int = 0,
    model: type[BaseModel] | None = None,
) -> list[Problem]:
    """One :class:`Problem` per pydantic error, placed on the YAML node it is about.

    With ``model`` (the class that was validated), an unknown field also gets a
    "did you mean" naming the closest known field.
    """
    problems = []
    for item in error.errors():
        loc = [part for part in item["loc"] if not _is_union_tag(part)]
        line, column = locate(root, [*prefix, *loc], line_offset)
        field = ".".join(str(part) for part in [*prefix, *loc]) or "(top level)"
        message = _message(item)
        if item["type"] == "extra_forbidden" and model is not None and loc:
            message += _did_you_mean(str(loc[-1]), _known_fields(model, loc[:-1]))
        problems.append(Problem.at(file, line, column, f"{field}: {message}"))
    return problems


def _known_fields(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The field names of the (nested) model that ``loc`` leads to."""
    current = model
    for part in loc:
        field = current.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            continue  # a list index or a dict key: the same model goes on
        nested = _model_in(field.annotation)
        if nested is None:
            return []
        current = nested
    return sorted(current.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f'; did you mean "{close[0]}"?' if close else ""


def _is_union_tag(part: Any) -> bool:
    # pydantic inserts the member type name into locations of union errors
    return isinstance(part, str) and ("[" in part or part.startswith(("function-", "literal")))


def _message(item: Any) -> str:
    message = str(item["msg"]).removeprefix("Value error, ")
    if item["type"] == "extra_forbidden":
        return "unknown field"
    if item["type"] == "missing":
        return "required field is missing"
    return message
