"""Evergreen queues: a pool of content posted into recurring slots, one item per slot.

::

    queues:
      - id: tips
        to: [everywhere]
        content: [tip-solder, tip-glue]   # and/or tags: [tip], folder: content/tips
        slots:
          - cron: "0 10 * * 1,4"
          - {days: [sat], times: ["11:00"], to: [archive]}
        cooldown: 30d        # an item is not repeated on an account within 30 days
        max_repeats: 5       # optional: at most 5 times per account
        order: round-robin   # least-recently-posted, or random (with a seed)
        fill_gaps: 2h        # only fill a slot with no other post of the account within 2 h

The slots of the same accounts become one entry (``queue:tips``; slots given ``to:`` of
their own become ``queue:tips:archive``) whose cron lines are those slots, so planning,
``missed`` policies, DST and local time work as for any entry. Its rows carry the
placeholder content ``queue:tips`` until the item for the slot is chosen, just before it is
first sent (:mod:`crosspost.planning.slots`).

What a ``queues:`` entry may say is :mod:`crosspost.planning.queues_spec`; this module
reads, checks and expands them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from crosspost.errors import Problem
from crosspost.loading.content import Library
from crosspost.loading.content_item import ContentItem
from crosspost.loading.posts_spec import PostSpec
from crosspost.loading.schedule import ScheduleFile
from crosspost.loading.yamlfile import Where, validation_problems
from crosspost.planning.plan import cron_trigger
from crosspost.planning.queues_spec import QueueSpec
from crosspost.status import QUEUE_PREFIX

__all__ = [
    "Queue",
    "QueueExpansion",
    "Indexed",
    "expand_queues",
    "pool_of",
    "queue_problems",
    "read_queues",
]

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Queue:
    """A validated queue: its spec, its items in pool order and the entries it made."""

    spec: QueueSpec
    index: int
    pool: tuple[str, ...]
    entries: tuple[str, ...]
    zone: ZoneInfo

    @property
    def id(self) -> str:
        """The queue's id."""
        return self.spec.id

    @property
    def placeholder(self) -> str:
        """The content id its rows carry until their item is chosen."""
        return f"{QUEUE_PREFIX}{self.spec.id}"


@dataclass
class QueueExpansion:
    """The entries made from the queues, their accounts, where each is written."""

    posts: list[PostSpec] = field(default_factory=list)
    targets: dict[str, list[str]] = field(default_factory=dict)
    origins: dict[str, Loc] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)


# --------------------------------------------------------------------------- reading


#: A queue that validated, and its position in ``queues:``.
Indexed = tuple[int, QueueSpec]


def read_queues(
    schedule: ScheduleFile, root: Any, path: Path
) -> tuple[list[Indexed], list[Problem]]:
    """Every ``queues:`` entry that validates, and the problems of those that do not."""
    specs: list[Indexed] = []
    problems: list[Problem] = []
    for index, raw in enumerate(schedule.queues):
        try:
            specs.append((index, QueueSpec.model_validate(raw)))
        except ValidationError as exc:
            problems += validation_problems(exc, root, path, ["queues", index], model=QueueSpec)
    return specs, problems


def queue_problems(
    specs: list[Indexed],
    schedule: ScheduleFile,
    library: Library,
    root: Any,
    path: Path,
    unknown_account: Callable[[str], str],
) -> list[Problem]:
    """Everything wrong with valid-looking queues, each at its file:line."""
    problems: list[Problem] = []
    seen: set[str] = set()
    names = set(schedule.accounts) | set(schedule.groups)
    for index, spec in specs:
        where = Where(root, path, ("queues", index))
        if spec.id in seen:
            problems.append(where.problem(("id",), f'"{spec.id}" is used twice'))
        seen.add(spec.id)
        problems += [
            where.problem(("to", i), unknown_account(n))
            for i, n in enumerate(spec.to)
            if n not in names
        ]
        problems += _slot_problems(spec, schedule, where, unknown_account)
        problems += _pool_problems(spec, library, where, path.parent)
    return problems


def _slot_problems(
    spec: QueueSpec, schedule: ScheduleFile, where: Where, unknown_account: Callable[[str], str]
) -> list[Problem]:
    problems = []
    accounts = set(_members(spec.to, schedule))
    zone = spec.timezone or schedule.timezone
    for index, slot in enumerate(spec.slots):
        for position, name in enumerate(slot.to or []):
            if name not in schedule.accounts and name not in schedule.groups:
                problems.append(
                    where.problem(("slots", index, "to", position), unknown_account(name))
                )
            elif not set(_members([name], schedule)) <= accounts:
                message = f'"{name}" is not among the queue\'s accounts ({", ".join(spec.to)})'
                problems.append(where.problem(("slots", index, "to", position), message))
        key = "cron" if slot.cron is not None else "times"
        try:
            trigger = cron_trigger("; ".join(slot.cron_lines()), zone)
            never = trigger.get_next_fire_time(None, datetime.now(UTC)) is None
        except (ValueError, OverflowError) as exc:
            problems.append(where.problem(("slots", index, key), str(exc)))
            continue
        if never:
            problems.append(where.problem(("slots", index, key), "never fires (no date matches)"))
    return problems


def _pool_problems(spec: QueueSpec, library: Library, where: Where, base: Path) -> list[Problem]:
    problems = []
    items = library.items
    for position, reference in enumerate(spec.content):
        if reference in items or library.failed_to_load(reference):
            continue
        close = difflib.get_close_matches(reference, sorted(items), n=1)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        problems.append(
            where.problem(("content", position), f'unknown content "{reference}"{hint}')
        )
    for position, tag in enumerate(spec.tags):
        if not _tagged(items.values(), [tag]):
            problems.append(where.problem(("tags", position), f'no content is tagged "{tag}"'))
    if spec.folder is not None:
        folder = (base / spec.folder).resolve()
        if not folder.is_dir():
            problems.append(where.problem(("folder",), f"{spec.folder} is not a folder"))
        elif not _in_folder(items.values(), folder):
            problems.append(where.problem(("folder",), f"no content file is in {spec.folder}"))
    return problems


# --------------------------------------------------------------------------- expanding


def pool_of(spec: QueueSpec, items: dict[str, ContentItem], base: Path) -> tuple[str, ...]:
    """The queue's items in order: ``content`` as listed, then by tag and folder, by id."""
    found = [c for c in spec.content if c in items]
    matched = set(_tagged(items.values(), spec.tags)) if spec.tags else set()
    if spec.folder is not None:
        matched |= set(_in_folder(items.values(), (base / spec.folder).resolve()))
    found += sorted(matched - set(found))
    return tuple(found)


def _tagged(items: Iterable[ContentItem], tags: list[str]) -> list[str]:
    wanted = {tag.strip().lower() for tag in tags}
    return [i.id for i in items if wanted & {t.strip().lower() for t in i.tags}]


def _in_folder(items: Iterable[ContentItem], folder: Path) -> list[str]:
    return [
        i.id
        for i in items
        if i.source.endswith(".md") and Path(i.source).resolve().is_relative_to(folder)
    ]


def _members(names: Iterable[str], schedule: ScheduleFile) -> list[str]:
    found: list[str] = []
    for name in names:
        found += [m for m in schedule.groups.get(name, [name]) if m not in found]
    return found


def expand_queues(
    specs: list[Indexed],
    schedule: ScheduleFile,
    items: dict[str, ContentItem],
    base: Path,
) -> QueueExpansion:
    """One entry per queue and set of slot accounts (validated beforehand)."""
    expansion = QueueExpansion()
    for index, spec in specs:
        if not spec.enabled:
            continue
        groups: dict[tuple[str, ...], list[int]] = {}
        for position, slot in enumerate(spec.slots):
            names = tuple(sorted(set(slot.to))) if slot.to else ()
            groups.setdefault(names, []).append(position)
        entries = []
        for names, positions in groups.items():
            entry = f"{QUEUE_PREFIX}{spec.id}" + (":" + "+".join(names) if names else "")
            lines = [line for p in positions for line in spec.slots[p].cron_lines()]
            expansion.posts.append(_post(spec, entry, list(names) or spec.to, lines))
            expansion.targets[entry] = _members(list(names) or spec.to, schedule)
            expansion.origins[entry] = ("queues", index, "slots", positions[0])
            entries.append(entry)
        zone = spec.timezone or schedule.timezone
        pool = pool_of(spec, items, base)
        expansion.queues[spec.id] = Queue(spec, index, pool, tuple(entries), zone)
    return expansion


def _post(spec: QueueSpec, entry: str, to: list[str], lines: list[str]) -> PostSpec:
    post = PostSpec.model_validate(
        {
            "id": spec.id,  # a valid id for validation; the real one has ``:`` in it
            "content": f"{QUEUE_PREFIX}{spec.id}",
            "to": to,
            "cron": "; ".join(lines),
            "timezone": spec.timezone,
            "missed": spec.missed,
            "grace": spec.grace,
            "approval": spec.approval,
            "utm": spec.utm,
            "thread": spec.thread,
        }
    )
    return post.model_copy(update={"id": entry})
