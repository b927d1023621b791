"""A project: ``schedule.yaml`` with its content, templates and accounts, loaded and cross-checked.

Loading collects every problem it can find before giving up, so one run of
``crosspost check`` lists them all; the checks of the sections against each other
are in :mod:`crosspost.loading.project_checks`.
"""

from __future__ import annotations

import difflib
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.base import BaseTrigger

from connectors.abilities import KeepsRecords
from connectors.base import Connector
from crosspost.errors import ConfigError, Problem
from crosspost.loading.accounts import Account, build_accounts, secret_fields
from crosspost.loading.content import Library, read_library
from crosspost.loading.content_item import ContentItem
from crosspost.loading.event_checks import event_problems, event_template_problems
from crosspost.loading.events import expand_events
from crosspost.loading.feeds_spec import FeedSpec, read_feeds
from crosspost.loading.front_matter import load_markdown
from crosspost.loading.inputfile import MAX_SCHEDULE_BYTES, ensure_regular
from crosspost.loading.posts_spec import PostSpec
from crosspost.loading.project_checks import (
    content_problems,
    group_problems,
    members_of,
    next_slot_problems,
    notify_problems,
    post_targets,
    trigger_problems,
    unknown_account_message,
    unknown_target,
)
from crosspost.loading.schedule import ScheduleFile, duplicate_post_ids, read_schedule_leniently
from crosspost.loading.settings import SecretSource
from crosspost.loading.yamlfile import locate
from crosspost.planning.plan import trigger_for
from crosspost.planning.queues import (
    Indexed,
    Queue,
    expand_queues,
    queue_problems,
    read_queues,
)
from crosspost.rendering.render import Renderer

if TYPE_CHECKING:
    from crosspost.store import Store
    from crosspost.store.connector_records import StoreRecords

__all__ = [
    "Project",
    "any_frozen",
    "collect_frozen",
    "load_project",
    "no_cycle_collection",
]


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
    #: ``feeds:``, validated; their entries' posts are ``feed:<id>``.
    feeds: list[FeedSpec] = field(default_factory=list)
    #: The evergreen queues by id (their entries are among the posts).
    queues: dict[str, Queue] = field(default_factory=dict)
    _connectors: dict[str, Connector] = field(default_factory=dict, repr=False)
    #: The store connectors that keep records use (see :meth:`attach_store`).
    _store: Store | None = field(default=None, repr=False)
    _records: dict[str, StoreRecords] = field(default_factory=dict, repr=False)
    #: Content named by path, read once: a later edit reaches a daemon only by a reload.
    _by_path: dict[str, ContentItem] = field(default_factory=dict, repr=False)
    _posts: dict[str, PostSpec] = field(init=False, repr=False)
    _queue_of: dict[str, Queue] = field(init=False, repr=False)
    _triggers: dict[str, BaseTrigger] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._posts = {post.id: post for post in self.schedule.posts}
        # a feed reads as a post entry where one is rendered or its grace applies
        self._posts.update({feed.entry: feed.as_post() for feed in self.feeds})
        self._queue_of = {entry: q for q in self.queues.values() for entry in q.entries}

    def queue_of(self, entry: str) -> Queue | None:
        """The queue whose slots ``entry`` is, or None for any other entry."""
        return self._queue_of.get(entry)

    def trigger(self, post: PostSpec) -> BaseTrigger:
        """The trigger of an entry (``at``, ``cron`` or ``every``), built once per project.

        Raises:
            ValueError: the entry has none of its own (``at: next-slot``).
        """
        if post.next_slot:
            raise ValueError(f"{post.id} takes a queue's slot, it has no trigger of its own")
        if post.id not in self._triggers:
            self._triggers[post.id] = trigger_for(post, post.timezone or self.schedule.timezone)
        return self._triggers[post.id]

    @property
    def base_dir(self) -> Path:
        """The folder of ``schedule.yaml``; relative paths start here."""
        return self.path.parent

    @property
    def state_dir(self) -> Path:
        """Where connectors keep rotating tokens (outside the database)."""
        return self.base_dir / self.schedule.state_dir

    def post(self, entry: str) -> PostSpec | None:
        """The ``posts:`` entry with this id (ids are unique: loading refuses duplicates),
        or a feed's as a post entry (``feed:<id>``)."""
        return self._posts.get(entry)

    def feed(self, entry: str) -> FeedSpec | None:
        """The feed whose posts are ``entry`` (``feed:<id>``)."""
        return next((feed for feed in self.feeds if feed.entry == entry), None)

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
            connector = self.accounts[account].connect(self.state_dir)
            self._connectors[account] = connector
            self._give_records(account, connector)
        return self._connectors[account]

    def attach_store(self, store: Store) -> None:
        """Let connectors that keep records (``connectors.records``) keep them in ``store``."""
        if store is self._store:
            return
        self._store, self._records = store, {}
        for account, connector in list(self._connectors.items()):  # publishers may add some
            self._give_records(account, connector)

    def _give_records(self, account: str, connector: Connector) -> None:
        if self._store is None or not isinstance(connector, KeepsRecords):
            return
        from crosspost.store.connector_records import StoreRecords

        records = StoreRecords(self._store, account, connector.name)
        self._records[account] = records
        connector.use_records(records)

    def records(self, account: str) -> StoreRecords | None:
        """The records ``account``'s connector keeps in the store, if it keeps any."""
        return self._records.get(account)

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
        self._store = previous._store
        for name, connector in previous._connectors.items():
            old, new = previous.accounts.get(name), self.accounts.get(name)
            if old is not None and new is not None and old == new:
                self._connectors[name] = connector
                if name in previous._records:
                    self._records[name] = previous._records[name]

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


def load_project(path: Path, secrets: SecretSource | None = None, *, keep: bool = False) -> Project:
    """Load and cross-check a project.

    ``keep``: the project lives on, until the process exits (``check``, ``plan``) or
    until the daemon replaces it; a large one is then frozen (see
    :func:`no_cycle_collection`), and a caller that goes on running calls
    :func:`collect_frozen` once its first work is done.

    Raises:
        ConfigError: every problem found, each with file:line:column.
    """
    ensure_regular(path, limit=MAX_SCHEDULE_BYTES)  # named as given, before a symlink is resolved
    # A load makes millions of objects that all live on; each full collection would walk
    # them all (dozens of seconds for 50k entries).
    with no_cycle_collection(freeze_many=keep):
        return _load(path, secrets)


#: Objects a block may make before :func:`no_cycle_collection` freezes what it made.
FREEZE_AFTER = 100_000


@contextmanager
def no_cycle_collection(*, freeze_many: bool = False) -> Iterator[None]:
    """Cyclic garbage collection off for the block (reference counting still frees).

    For work that makes very many acyclic objects, where every full collection walks
    all the objects alive: loading a project, building a report.

    ``freeze_many``: for objects that live on. When the block made more than
    :data:`FREEZE_AFTER`, every object alive is frozen (``gc.freeze``) before collection
    resumes: on their way to the oldest generation they would otherwise be walked by a
    young, a middle and a full collection (0.3, 0.45 and 0.6 s after a load of 50,000
    entries). Frozen, they are never walked, and cycles among them never freed, until
    :func:`collect_frozen`.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze_many and gc.get_count()[0] > FREEZE_AFTER:  # counted while disabled
            gc.freeze()
        if enabled:
            gc.enable()


def any_frozen() -> bool:
    """Whether objects are frozen (see :func:`no_cycle_collection`)."""
    return gc.get_freeze_count() > 0


def collect_frozen() -> None:
    """Put what :func:`no_cycle_collection` froze back among the oldest objects, and walk
    them all once: what a load left in cycles is freed, and later collections count them
    as usual. Nothing to do when nothing is frozen."""
    if any_frozen():
        gc.unfreeze()
        gc.collect()


def _load(path: Path, secrets: SecretSource | None) -> Project:
    path = path.resolve()
    schedule, root, problems = read_schedule_leniently(path)  # refused entries left out
    base = path.parent
    content_dir = base / schedule.content_dir if schedule.content_dir else None
    library = read_library(schedule.content, root, path, content_dir)
    renderer = Renderer(base / schedule.templates_dir, base)
    problems += library.problems
    for item in library.items.values():
        problems += renderer.template_problems(item)
    secrets = secrets or SecretSource(base / ".env")
    templates = base / schedule.templates_dir
    accounts, account_problems = build_accounts(schedule.accounts, root, path, secrets, templates)
    targets, target_problems = post_targets(schedule, root, path)
    problems += account_problems + group_problems(schedule, root, path) + target_problems
    problems += duplicate_post_ids(schedule, root, path)
    problems += _entry_problems(schedule, library, root, path, renderer)
    feeds, feed_problems = read_feeds(
        schedule,
        root,
        path,
        unknown_account=lambda name: unknown_target(name, schedule),
        template_problem=renderer.template_problem,
    )
    queue_specs, queue_read = _read_queues(schedule, library, root, path)
    problems += feed_problems + queue_read
    if problems:
        raise ConfigError(problems)
    targets.update({feed.entry: members_of(feed.to, schedule) for feed in feeds})
    return _assemble(path, schedule, root, library, accounts, targets, renderer, feeds, queue_specs)


def _entry_problems(
    schedule: ScheduleFile, library: Library, root: Any, path: Path, renderer: Renderer
) -> list[Problem]:
    """What is wrong with the entries, events and notifications as written."""
    unknown = partial(unknown_account_message, schedule=schedule)
    return [
        *content_problems(schedule, library, root, path, path.parent),
        *trigger_problems(schedule, root, path),
        *notify_problems(schedule, root, path),
        *event_problems(schedule, library, root, path, unknown),
        *event_template_problems(schedule, root, path, renderer.template_problem),
    ]


def _read_queues(
    schedule: ScheduleFile, library: Library, root: Any, path: Path
) -> tuple[list[Indexed], list[Problem]]:
    """The queues as written, and what is wrong with them."""
    unknown = partial(unknown_account_message, schedule=schedule)
    specs, problems = read_queues(schedule, root, path)
    return specs, problems + queue_problems(specs, schedule, library, root, path, unknown)


def _assemble(
    path: Path,
    schedule: ScheduleFile,
    root: Any,
    library: Library,
    accounts: dict[str, Account],
    targets: dict[str, list[str]],
    renderer: Renderer,
    feeds: list[FeedSpec],
    queue_specs: list[Indexed],
) -> Project:
    """The project of a schedule without problems: events and queues made into entries."""
    content = library.items
    events = expand_events(schedule, content, lambda names: members_of(names, schedule))
    queues = expand_queues(queue_specs, schedule, content, path.parent)
    problems = next_slot_problems(schedule, targets, queues.targets, root, path)
    if problems:
        raise ConfigError(problems)
    posts = [*schedule.posts, *events.posts, *queues.posts]
    return Project(
        path,
        schedule.model_copy(update={"posts": posts}),
        root,
        {**content, **events.content},
        accounts,
        {**targets, **events.targets, **queues.targets},
        renderer,
        {**events.origins, **queues.origins},
        feeds,
        queues.queues,
    )
