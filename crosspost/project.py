"""A project: ``schedule.yaml`` with its content, templates and accounts, loaded and cross-checked.

Loading collects every problem it can find before giving up, so one run of
``crosspost check`` lists them all.
"""

from __future__ import annotations

import difflib
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.triggers.base import BaseTrigger

from connectors.base import Connector
from crosspost.accounts import Account, build_accounts, secret_fields
from crosspost.content import ContentItem, Library, load_markdown, read_library
from crosspost.errors import ConfigError, Problem
from crosspost.events import event_problems, event_template_problems, expand_events
from crosspost.inputfile import ensure_regular
from crosspost.plan import trigger_for
from crosspost.render import Renderer
from crosspost.schedule import PostSpec, ScheduleFile, read_schedule
from crosspost.settings import SecretSource
from crosspost.yamlfile import locate

__all__ = ["Project", "load_project", "unknown_account_message"]


@dataclass
class Project:
    """Everything the plan, the daemon and the one-off publisher need."""

    path: Path
    schedule: ScheduleFile
    root: Any
    content: dict[str, ContentItem]
    accounts: dict[str, Account]
    targets: dict[str, list[str]]
    renderer: Renderer
    #: Where entries not written under ``posts:`` come from (``events.0.steps.2``).
    origins: dict[str, tuple[str | int, ...]] = field(default_factory=dict)
    _connectors: dict[str, Connector] = field(default_factory=dict, repr=False)
    #: Content named by path, read once: a later edit reaches a daemon only by a reload.
    _by_path: dict[str, ContentItem] = field(default_factory=dict, repr=False)
    _posts: dict[str, PostSpec] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._posts = {post.id: post for post in self.schedule.posts}

    @property
    def base_dir(self) -> Path:
        """The folder of ``schedule.yaml``; relative paths start here."""
        return self.path.parent

    @property
    def state_dir(self) -> Path:
        """Where connectors keep rotating tokens (outside the database)."""
        return self.base_dir / self.schedule.state_dir

    def post(self, entry: str) -> PostSpec | None:
        """The ``posts:`` entry with this id (ids are unique: loading refuses duplicates)."""
        return self._posts.get(entry)

    def line_of(self, *loc: str | int) -> int:
        """Line of a node of ``schedule.yaml``."""
        return locate(self.root, list(loc))[0]

    def where(self, index: int, entry: str) -> tuple[int, str]:
        """Line and name (``posts.3``, ``events.0.steps.2``) of entry ``index`` of the posts."""
        loc = self.origins.get(entry, ("posts", index))
        return self.line_of(*loc), ".".join(str(part) for part in loc)

    def connector(self, account: str) -> Connector:
        """The connector of ``account``, built once and reused (sessions, rate-limit state)."""
        if account not in self._connectors:
            self._connectors[account] = self.accounts[account].connect(self.state_dir)
        return self._connectors[account]

    def secret_values(self) -> list[str]:
        """Every resolved secret of every account (to mask them in logs)."""
        values = []
        for account in self.accounts.values():
            for name in secret_fields(type(account.settings)):
                secret = getattr(account.settings, name)
                if secret is not None:
                    values.append(secret.get_secret_value())
        return values

    def adopt_connectors(self, previous: Project) -> None:
        """Keep the connectors of accounts whose configuration did not change (hot reload)."""
        for name, connector in previous._connectors.items():
            old, new = previous.accounts.get(name), self.accounts.get(name)
            if old is not None and new is not None and old == new:
                self._connectors[name] = connector

    def resolve_content(self, reference: str) -> ContentItem:
        """A content item by id, or by path to a Markdown file.

        Raises:
            ConfigError: neither exists.
        """
        if reference in self.content:
            return self.content[reference]
        if reference in self._by_path:
            return self._by_path[reference]
        given = Path(reference)
        candidates = [given] if given.is_absolute() else [Path.cwd() / given, self.base_dir / given]
        for path in candidates:
            if path.suffix == ".md" and path.is_file():
                item = self._by_path[reference] = load_markdown(path, self.base_dir)
                return item
        close = difflib.get_close_matches(reference, sorted(self.content), n=1)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        raise ConfigError(
            [Problem.at(self.path, 1, 1, f'no content "{reference}" (an id or a .md file){hint}')]
        )


def load_project(path: Path, secrets: SecretSource | None = None) -> Project:
    """Load and cross-check a project.

    Raises:
        ConfigError: every problem found, each with file:line:column.
    """
    ensure_regular(path)  # named as given, before a symlink is resolved
    with _no_collections():
        return _load(path, secrets)


@contextmanager
def _no_collections() -> Iterator[None]:
    """No garbage collection while loading: a load makes millions of objects that all
    live on, and each full collection would walk them all (dozens of seconds for 50k entries)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load(path: Path, secrets: SecretSource | None) -> Project:
    path = path.resolve()
    schedule, root = read_schedule(path)
    base = path.parent
    secrets = secrets or SecretSource(base / ".env")
    problems: list[Problem] = []
    content_dir = base / schedule.content_dir if schedule.content_dir else None
    library = read_library(schedule.content, root, path, content_dir)
    content, problems = library.items, list(library.problems)
    renderer = Renderer(base / schedule.templates_dir, base)
    for item in content.values():
        problems += renderer.template_problems(item)
    accounts, account_problems = build_accounts(schedule.accounts, root, path, secrets)
    problems += account_problems
    problems += _group_problems(schedule, root, path)
    targets, target_problems = _targets(schedule, root, path)
    problems += target_problems
    problems += _content_problems(schedule, library, root, path, base)
    problems += _trigger_problems(schedule, root, path)
    problems += _notify_problems(schedule, root, path)
    problems += event_problems(
        schedule, library, root, path, lambda name: unknown_account_message(name, schedule)
    )
    problems += event_template_problems(schedule, root, path, renderer.template_problem)
    if problems:
        raise ConfigError(problems)
    events = expand_events(schedule, content, lambda names: _members(names, schedule))
    schedule = schedule.model_copy(update={"posts": [*schedule.posts, *events.posts]})
    return Project(
        path,
        schedule,
        root,
        {**content, **events.content},
        accounts,
        {**targets, **events.targets},
        renderer,
        events.origins,
    )


def _members(names: list[str], schedule: ScheduleFile) -> list[str]:
    """The accounts ``names`` stand for (groups expanded), each once, in order."""
    found: list[str] = []
    for name in names:
        members = schedule.groups.get(name, [name])
        found += [m for m in members if m not in found]
    return found


def _group_problems(schedule: ScheduleFile, root: Any, path: Path) -> list[Problem]:
    problems = []
    for group, members in schedule.groups.items():
        if group in schedule.accounts:
            line, column = locate(root, ["groups", group])
            problems.append(
                Problem.at(path, line, column, f'groups.{group}: "{group}" is also an account name')
            )
        for index, member in enumerate(members):
            if member not in schedule.accounts:
                line, column = locate(root, ["groups", group, index])
                problems.append(
                    Problem.at(
                        path,
                        line,
                        column,
                        f"groups.{group}.{index}: " + unknown_account_message(member, schedule),
                    )
                )
    return problems


def unknown_account_message(name: str, schedule: ScheduleFile) -> str:
    """`unknown account or group "x" (expected one of: …); did you mean "y"?`."""
    names = sorted(schedule.accounts) + sorted(schedule.groups)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    known = ", ".join(names) or "none defined"
    return f'unknown account or group "{name}" (expected one of: {known}){hint}'


def _targets(
    schedule: ScheduleFile, root: Any, path: Path
) -> tuple[dict[str, list[str]], list[Problem]]:
    targets: dict[str, list[str]] = {}
    problems = []
    for index, post in enumerate(schedule.posts):
        names: list[str] = []
        for position, name in enumerate(post.to):
            members = schedule.groups.get(name, [name] if name in schedule.accounts else None)
            if members is None:
                line, column = locate(root, ["posts", index, "to", position])
                problems.append(
                    Problem.at(
                        path,
                        line,
                        column,
                        f"posts.{index}.to: " + unknown_account_message(name, schedule),
                    )
                )
                continue
            names += [m for m in members if m not in names]
        targets[post.id] = names
    return targets, problems


def _content_problems(
    schedule: ScheduleFile, library: Library, root: Any, path: Path, base: Path
) -> list[Problem]:
    content = library.items
    problems = []
    for index, post in enumerate(schedule.posts):
        reference = post.content
        if reference in content or (reference.endswith(".md") and (base / reference).is_file()):
            continue
        if library.failed_to_load(reference):  # its own problems are reported already
            continue
        if not content and schedule.content_dir is None and not schedule.content:
            hint = " (no content is defined: add content: entries or a content_dir)"
        else:
            named = sorted({*content, *library.failed} - {""})  # a broken item is still named
            close = difflib.get_close_matches(reference, named, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
        line, column = locate(root, ["posts", index, "content"])
        problems.append(
            Problem.at(
                path, line, column, f'posts.{index}.content: unknown content "{reference}"{hint}'
            )
        )
    return problems


def _trigger_problems(schedule: ScheduleFile, root: Any, path: Path) -> list[Problem]:
    problems = []
    for index, post in enumerate(schedule.posts):
        field = "cron" if post.cron else "every" if post.every else "at"
        try:
            trigger = trigger_for(post, post.timezone or schedule.timezone)
            reason = _never_fires(post, trigger)
        except (ValueError, OverflowError) as exc:
            reason = str(exc)
        if reason is None:
            reason, field = _until_problem(post), "until"
        if reason is not None:
            line, column = locate(root, ["posts", index, field])
            problems.append(Problem.at(path, line, column, f"posts.{index}.{field}: {reason}"))
    return problems


def _never_fires(post: PostSpec, trigger: BaseTrigger) -> str | None:
    """Why a cron entry would never go out (``0 0 31 2 *``: there is no 31 February)."""
    if post.cron is None or post.until is not None:
        return None  # an ended entry is checked against its until
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        return f'cron "{post.cron}" never fires (no date matches it)'
    return None


def _until_problem(post: PostSpec) -> str | None:
    if post.until is None:
        return None
    for name in ("start", "at"):
        begin = getattr(post, name)
        if begin is not None and _naive(post.until) <= _naive(begin):
            return f"until {post.until} is not after {name} {begin}: the entry would never run"
    return None


def _naive(moment: datetime) -> datetime:
    # both are read as wall-clock times of the same entry; an explicit offset is kept
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _notify_problems(schedule: ScheduleFile, root: Any, path: Path) -> list[Problem]:
    if schedule.notify is None:
        return []
    problems = []
    for index, name in enumerate(schedule.notify.to):
        if name not in schedule.accounts and name not in schedule.groups:
            line, column = locate(root, ["notify", "to", index])
            problems.append(
                Problem.at(
                    path,
                    line,
                    column,
                    f"notify.to.{index}: " + unknown_account_message(name, schedule),
                )
            )
    return problems
