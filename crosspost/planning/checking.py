"""What ``check`` renders and reports: the next occurrence of every entry, nothing sent.

Every entry's next occurrence is rendered for each of its targets and checked against
its platform's rules; a queue's next slot with every item of its pool, each feed's
template with a sample entry. :mod:`crosspost.planning.preview` shows the same posts as
``plan`` lists them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from connectors.base import InputFiles, RenderedPost
from crosspost.errors import ConfigError, Problem, RenderError, RenderLimitError
from crosspost.loading.content_item import ContentItem
from crosspost.loading.posts_spec import PostSpec
from crosspost.loading.project import Project
from crosspost.planning.plan import Occurrence, occurrences
from crosspost.planning.slots import QueuePlanner
from crosspost.rendering.articles import long_form_source, stand_in_url
from crosspost.rendering.target import render_target
from crosspost.status import NEXT_SLOT

__all__ = [
    "CHECK_WINDOW",
    "check_project",
    "feed_template_problems",
    "next_occurrences",
    "render_occurrence",
]

#: How far ahead ``check`` looks for an entry's next occurrence: a one-off for an
#: event two years away is checked today, not the year before it is due.
CHECK_WINDOW = timedelta(days=100 * 366)


def render_occurrence(
    project: Project,
    post: PostSpec,
    account: str,
    occurrence: Occurrence,
    content: str | ContentItem | None = None,
) -> RenderedPost:
    """The post ``post`` makes for ``account`` at ``occurrence``, as it would go out.

    ``content``: an item (a feed entry's), an id (a queue's choice), or the entry's own.
    """
    if isinstance(content, ContentItem):
        item = content
    else:
        item = project.resolve_content(content or post.content)
    # an announcement links to its article's long-form post, which is not out yet
    source = long_form_source(project, post.id, account, item)
    url = stand_in_url(source) if source else None
    return render_target(project, post.id, account, occurrence.due_at, item, url)


def _template_of(project: Project, reference: str, account: str) -> tuple[str, str]:
    """The template name and platform a render of ``reference`` for ``account`` uses."""
    platform = project.accounts[account].platform
    try:
        item = project.resolve_content(reference)
    except ConfigError:
        return "", platform  # rendering reports the missing content
    return item.for_target(platform, account)[0].template, platform


def next_occurrences(
    project: Project, now: datetime, planner: QueuePlanner
) -> list[tuple[int, PostSpec, Occurrence]]:
    """The next occurrence of every enabled entry (``next-slot``: its earliest account's)."""
    found = []
    for index, post in enumerate(project.schedule.posts):
        if not post.enabled:
            continue
        zone = post.timezone or project.schedule.timezone
        if post.next_slot:
            times = [planner.next_slot(post, a) for a in project.targets[post.id]]
            first = min((t for t in times if t is not None), default=None)
            upcoming = (
                [Occurrence(first, post.id, NEXT_SLOT, first.astimezone(zone))] if first else []
            )
        else:
            upcoming = occurrences(post, zone, now, now + CHECK_WINDOW, 1)
        if upcoming:  # else a one-off in the past: its missed policy decides, status shows it
            found.append((index, post, upcoming[0]))
    return found


def check_project(
    project: Project,
    now: datetime,
    platform_rules: bool = True,
    planner: QueuePlanner | None = None,
) -> list[Problem]:
    """Render the next occurrence of every entry for every target and check it.

    Every problem is placed on the entry's line in ``schedule.yaml``, or on the
    template line that failed. ``platform_rules=False`` only renders (what a
    daemon's reload asks: a post too long fails alone, a broken template fails all).
    A queue's next slot is checked with every item of its pool.
    """
    planner = planner or QueuePlanner(project, None, now)
    problems = _unslotted(project, planner)
    # A template that ran into a bound (time, output) is reported once per platform, not
    # rendered again for every entry and queue item that uses it.
    runaway: set[tuple[str, str]] = set()
    for index, post, occurrence in next_occurrences(project, now, planner):
        queue = project.queue_of(post.id)
        contents = list(queue.pool) if queue is not None else [None]
        for content in contents:
            problems += _check_entry(
                project, index, post, occurrence, platform_rules, content, runaway
            )
    problems += feed_template_problems(project, now)
    if platform_rules:
        problems += _input_file_problems(project)
    return problems


def feed_template_problems(project: Project, now: datetime) -> list[Problem]:
    """Each feed's template rendered with a sample entry for each of its accounts.

    Only whether it renders: how long a real entry makes a post is known when it comes.
    """
    problems: list[Problem] = []
    if not project.feeds:
        return problems
    from crosspost.loading.feeds_item import sample  # the feed parser, only for projects with feeds

    for feed in project.feeds:
        if not feed.enabled:
            continue
        item = sample(feed, feed.timezone or project.schedule.timezone, now)
        for account in project.targets[feed.entry]:
            try:
                render_target(project, feed.entry, account, now, item)
            except RenderError as exc:
                problems.append(exc.problem)
    return problems


def _input_file_problems(project: Project) -> list[Problem]:
    """The problems of files the accounts read themselves (a recipient list), where they are."""
    problems: list[Problem] = []
    for name in project.accounts:
        connector = project.connector(name)
        if isinstance(connector, InputFiles):
            problems += connector.input_problems()
    return problems


def _unslotted(project: Project, planner: QueuePlanner) -> list[Problem]:
    """``at: next-slot`` for an account whose queues have no free slot within a year."""
    problems = []
    for index, post in enumerate(project.schedule.posts):
        if not (post.enabled and post.next_slot):
            continue
        missing = [a for a in project.targets[post.id] if planner.next_slot(post, a) is None]
        if missing:
            line, name = project.where(index, post.id)
            message = f"{name}.at: next-slot, but no free queue slot within a year for "
            problems.append(Problem.at(project.path, line, 1, message + ", ".join(missing)))
    return problems


def _check_entry(
    project: Project,
    index: int,
    post: PostSpec,
    occurrence: Occurrence,
    platform_rules: bool,
    content: str | None = None,
    runaway: set[tuple[str, str]] | None = None,
) -> list[Problem]:
    problems = []
    line, name = project.where(index, post.id)
    item = f", item {content}" if content else ""
    runaway = set() if runaway is None else runaway
    for account in project.targets[post.id]:
        # Looked up only once a template ran away: most checks meet none.
        if runaway and _template_of(project, content or post.content, account) in runaway:
            continue
        try:
            rendered = render_occurrence(project, post, account, occurrence, content)
        except RenderLimitError as exc:
            runaway.add(_template_of(project, content or post.content, account))
            problems.append(exc.problem)
            continue
        except RenderError as exc:
            problems.append(exc.problem)
            continue
        if not platform_rules:
            continue
        connector = project.connector(account)
        for reason in connector.check(rendered):
            problems.append(
                Problem.at(
                    project.path,
                    line,
                    1,
                    f"{name} ({post.id} → {account}{item}, "
                    f"due {occurrence.local:%Y-%m-%d %H:%M %Z}): {reason}",
                )
            )
    return problems
