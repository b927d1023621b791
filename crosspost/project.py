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
from pathlib import Path
from typing import Any

from connectors.base import Connector
from crosspost.accounts import Account, build_accounts, secret_fields
from crosspost.content import ContentItem, load_library, load_markdown
from crosspost.errors import ConfigError, Problem
from crosspost.plan import trigger_for
from crosspost.render import Renderer
from crosspost.schedule import PostSpec, ScheduleFile, read_schedule
from crosspost.settings import SecretSource
from crosspost.yamlfile import locate

__all__ = ["Project", "load_project"]


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
    if not path.is_file():
        raise ConfigError([Problem.at(path, 1, 1, "schedule file not found")])
    schedule, root = read_schedule(path)
    base = path.parent
    secrets = secrets or SecretSource(base / ".env")
    problems: list[Problem] = []
    content_dir = base / schedule.content_dir if schedule.content_dir else None
    try:
        content = load_library(schedule.content, root, path, content_dir)
    except ConfigError as exc:
        content, problems = {}, list(exc.problems)
    accounts, account_problems = build_accounts(schedule.accounts, root, path, secrets)
    problems += account_problems
    problems += _group_problems(schedule, root, path)
    targets, target_problems = _targets(schedule, root, path)
    problems += target_problems
    problems += _content_problems(schedule, content, root, path, base)
    problems += _trigger_problems(schedule, root, path)
    problems += _notify_problems(schedule, root, path)
    if problems:
        raise ConfigError(problems)
    renderer = Renderer(base / schedule.templates_dir, base)
    return Project(path, schedule, root, content, accounts, targets, renderer)


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
                        f"groups.{group}.{index}: " + _unknown_account(member, schedule),
                    )
                )
    return problems


def _unknown_account(name: str, schedule: ScheduleFile) -> str:
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
                        path, line, column, f"posts.{index}.to: " + _unknown_account(name, schedule)
                    )
                )
                continue
            names += [m for m in members if m not in names]
        targets[post.id] = names
    return targets, problems


def _content_problems(
    schedule: ScheduleFile, content: dict[str, ContentItem], root: Any, path: Path, base: Path
) -> list[Problem]:
    problems = []
    for index, post in enumerate(schedule.posts):
        reference = post.content
        if reference in content or (reference.endswith(".md") and (base / reference).is_file()):
            continue
        if not content and schedule.content_dir is None and not schedule.content:
            hint = " (no content is defined: add content: entries or a content_dir)"
        else:
            close = difflib.get_close_matches(reference, sorted(content), n=1)
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
        try:
            trigger_for(post, post.timezone or schedule.timezone)
        except ValueError as exc:
            field = "cron" if post.cron else "every" if post.every else "at"
            line, column = locate(root, ["posts", index, field])
            problems.append(Problem.at(path, line, column, f"posts.{index}.{field}: {exc}"))
    return problems


def _notify_problems(schedule: ScheduleFile, root: Any, path: Path) -> list[Problem]:
    if schedule.notify is None:
        return []
    problems = []
    for index, name in enumerate(schedule.notify.to):
        if name not in schedule.accounts and name not in schedule.groups:
            line, column = locate(root, ["notify", "to", index])
            problems.append(
                Problem.at(
                    path, line, column, f"notify.to.{index}: " + _unknown_account(name, schedule)
                )
            )
    return problems
