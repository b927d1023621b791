"""Writing YAML back: ``schedule.yaml`` round-trip, so its comments and layout stay.

Used by ``crosspost import`` to append entries for review in git.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

__all__ = ["count_entries", "dump_yaml", "flow_seq", "replace_file", "schedule_with"]


def replace_file(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, keeping its permissions."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".schedule-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def flow_seq(values: Iterable[Any]) -> CommentedSeq:
    """A list written inline: ``[a, b]``."""
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def dump_yaml(data: Any, yaml: YAML | None = None) -> str:
    """YAML text of ``data`` (round-trip writer, long lines never folded)."""
    yaml = yaml or _yaml()
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long title or body line
    return yaml


def schedule_with(path: Path, entries: list[dict[str, Any]], source: str) -> str:
    """``schedule.yaml``'s text with ``entries`` appended to ``posts:``, all else as it was."""
    text = path.read_text(encoding="utf-8")
    yaml = _yaml()
    root = yaml.load(text)
    if root is None:
        root = CommentedMap()
    posts = root.get("posts")
    if not isinstance(posts, CommentedSeq):
        posts = root["posts"] = CommentedSeq()
    posts.fa.set_block_style()
    offset = _indent(yaml, text, root, posts)
    first = len(posts)
    for entry in entries:
        posts.append(CommentedMap({k: flow_seq(v) if k == "to" else v for k, v in entry.items()}))
    posts.yaml_set_comment_before_after_key(
        first, before=f"imported from {source}: {count_entries(len(entries))}", indent=offset
    )
    return dump_yaml(root, yaml)


def count_entries(count: int) -> str:
    """``1 entry``, ``2 entries``."""
    return f"{count} entry" if count == 1 else f"{count} entries"


def _indent(yaml: YAML, text: str, root: CommentedMap, posts: CommentedSeq) -> int:
    """Set the writer's indents to the file's own; returns where a ``-`` of ``posts`` goes."""
    mapping = next((v.lc.col for v in root.values() if isinstance(v, CommentedMap) and v), 2)
    sequence, offset = mapping + 2, mapping
    if posts:
        line, column = posts.lc.item(0)
        dash = text.splitlines()[line].find("-")
        if dash >= 0:
            sequence, offset = column, dash
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return offset
