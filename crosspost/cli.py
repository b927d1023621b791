"""The ``crosspost`` command: thin — parse, call one function, print.

Exit codes, for every command: 0 all is well, 1 some publications failed (or
are unknown or missed), 2 bad input or configuration.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.console import Console

from crosspost import __version__
from crosspost.errors import ConfigError, CrosspostError, Problem
from crosspost.lazy_group import LazyGroup
from crosspost.logs import configure, mask_secrets
from crosspost.status import Status
from crosspost.tables import format_option

# The heavy parts (SQLAlchemy, Alembic, pydantic, Jinja, connectors) are imported by
# the commands that need them, so that --help and check start fast.
if TYPE_CHECKING:
    from crosspost.project import Project
    from crosspost.store import Store

__all__ = ["AppContext", "cli", "main"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
#: Statuses that make a command exit 1.
TROUBLE = (Status.FAILED, Status.UNKNOWN, Status.MISSED)
#: How a status is shown.
STYLE: dict[str, str] = {
    Status.PUBLISHED: "green",
    Status.FAILED: "red",
    Status.UNKNOWN: "yellow",
    Status.MISSED: "yellow",
}

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class AppContext:
    """What every command gets: where the schedule and the database are."""

    schedule: Path
    database: str | None
    debug: bool = False

    def project(self) -> Project:
        """Load the project; secrets it resolves are masked in logs from now on."""
        from crosspost.project import load_project

        project = load_project(self.schedule)
        mask_secrets(project.secret_values())
        return project

    def store(self) -> Store:
        """Open (and migrate) the store.

        Raises:
            ConfigError: no database named and no schedule to put the default next to.
            CrosspostError: the database cannot be reached.
        """
        from sqlalchemy.exc import ArgumentError, SQLAlchemyError

        from crosspost.settings import Settings, default_database_url
        from crosspost.store import Store

        url = self.database or Settings().database_url
        if url is None:
            if not self.schedule.is_file():
                raise ConfigError(
                    [
                        Problem.at(
                            self.schedule,
                            1,
                            1,
                            "schedule file not found (give -s PATH, or --database URL)",
                        )
                    ]
                )
            url = default_database_url(self.schedule)
        try:
            return Store(url)
        except (ArgumentError, ImportError) as exc:  # not a URL, or its driver is missing
            raise click.BadParameter(_reason(exc), param_hint="--database") from None
        except (SQLAlchemyError, OSError) as exc:
            raise CrosspostError(
                f"cannot open the database {_url_shown(url)}: {_reason(exc)}"
            ) from None


def _url_shown(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from crosspost.store.db import normalise_url

    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def _reason(exc: BaseException) -> str:
    """The first line of what went wrong, from the driver when there is one."""
    dbapi_error = _sqlalchemy_error("DBAPIError")
    cause = getattr(exc, "orig", exc) if dbapi_error and isinstance(exc, dbapi_error) else exc
    if isinstance(cause, OSError) and cause.strerror:
        where = f"{cause.filename}: " if cause.filename else ""
        return f"{where}{cause.strerror}"
    return (str(cause).splitlines() or [type(cause).__name__])[0]


def _shown(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def print_problems(problems: list[Problem], prefix: str = "") -> None:
    """Every problem as ``file:line:column: message`` on stderr."""
    for problem in problems:
        err.print(
            f"{prefix}{_shown(problem.file)}:{problem.line}:{problem.column}: {problem.message}",
            markup=False,
            emoji=False,  # line 100 is ":100:", which rich would print as an emoji
        )


def _sqlalchemy_error(name: str) -> type[Exception] | None:
    """``sqlalchemy.exc.<name>`` if SQLAlchemy was imported; else none of its errors can occur."""
    module = sys.modules.get("sqlalchemy.exc")
    found = getattr(module, name, None) if module is not None else None
    return found if isinstance(found, type) and issubclass(found, Exception) else None


def _machine_error(exc: Exception) -> bool:
    """A failure of the machine or the database, not of the input or of crosspost."""
    database_error = _sqlalchemy_error("SQLAlchemyError")
    return isinstance(exc, OSError) or (
        database_error is not None and isinstance(exc, database_error)
    )


#: Errors in a path the user gave (``--output schedule.yaml/x.html``): bad input.
_PATH_ERRORS = (NotADirectoryError, IsADirectoryError, FileNotFoundError, FileExistsError)


class _App(LazyGroup):
    """Turns :class:`CrosspostError` into a message and its exit code, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            print_problems(exc.problems)
            err.print(f"Error: {len(exc.problems)} problem(s) in the input; nothing was changed.")
            ctx.exit(exc.exit_code)
        except CrosspostError as exc:
            if ctx.obj is not None and ctx.obj.debug:
                raise
            err.print(f"Error: {exc}", markup=False)
            ctx.exit(exc.exit_code)
        except Exception as exc:
            # the input was fine, the machine was not: a full disk, a read-only database…
            if not _machine_error(exc) or (ctx.obj is not None and ctx.obj.debug):
                raise
            err.print(f"Error: {_reason(exc)}", markup=False)
            ctx.exit(EXIT_BAD_INPUT if isinstance(exc, _PATH_ERRORS) else EXIT_FAILED)


@click.group(
    cls=_App,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Example: crosspost -s schedule.yaml check && crosspost daemon",
)
@click.option(
    "-s",
    "--schedule",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("schedule.yaml"),
    show_default=True,
    envvar="CROSSPOST_SCHEDULE",
    show_envvar=True,
    help="The schedule file.",
)
@click.option(
    "--database",
    envvar=["CROSSPOST_DATABASE", "CROSSPOST_DATABASE_URL"],
    show_envvar=True,
    default=None,
    help="SQLAlchemy URL [default: sqlite:///<schedule dir>/crosspost.db]",
)
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    envvar="CROSSPOST_LOG_LEVEL",
    show_envvar=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
@click.option(
    "--log-format",
    default="text",
    show_default=True,
    envvar="CROSSPOST_LOG_FORMAT",
    show_envvar=True,
    type=click.Choice(["text", "json"], case_sensitive=False),
)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(__version__, prog_name="crosspost")
@click.pass_context
def cli(
    ctx: click.Context,
    schedule: Path,
    database: str | None,
    log_level: str,
    log_format: str,
    debug: bool,
) -> None:
    """Schedule-as-code cross-posting: one content library, every platform."""
    configure(log_level, log_format)
    ctx.obj = AppContext(schedule, database, debug)


def _now() -> datetime:
    return datetime.now(UTC)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _exit(code: int) -> NoReturn:
    raise SystemExit(code)


# --------------------------------------------------------------------------- check


def _known_limits(app: AppContext, project: Project) -> list[Any]:
    """Use the limits servers reported earlier; say where each account's limit comes from.

    Reads the database only if there is one: ``check`` never creates it.
    """
    from crosspost.limits import apply_reported_limits, limit_sources
    from crosspost.settings import Settings, default_database_url

    url = app.database or Settings().database_url
    if url is None and (app.schedule.parent / "crosspost.db").is_file():
        url = default_database_url(app.schedule)
    used = {}
    if url is not None:
        from sqlalchemy.exc import SQLAlchemyError

        from crosspost.store import Store

        try:
            store = Store(url)
        except SQLAlchemyError:
            err.print("warning: the database cannot be read; counting with known defaults")
        else:
            used = apply_reported_limits(store, project)
            store.close()
    return limit_sources(project, used)


@cli.command(epilog="Example: crosspost check --json")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def check(app: AppContext, as_json: bool) -> None:
    """Validate the schedule, content, templates and accounts, and render every upcoming post.

    Each problem is printed as file:line:column: what is wrong (what was expected).
    Exits 0 when all is well, 2 on any problem. Sends nothing.
    """
    from crosspost.events import event_warnings
    from crosspost.preview import check_project

    limits: list[Any] = []
    warnings: list[Problem] = []
    try:
        project = app.project()
        limits = _known_limits(app, project)
        problems = check_project(project, _now())
        warnings = event_warnings(project.schedule, project.root, project.path, _now())
    except ConfigError as exc:
        problems, project = exc.problems, None
    if as_json:
        _print_json(
            {
                "ok": not problems,
                "problems": [{**asdict(p), "file": _shown(p.file)} for p in problems],
                "warnings": [{**asdict(p), "file": _shown(p.file)} for p in warnings],
                "limits": [asdict(source) for source in limits],
            }
        )
    else:
        print_problems(problems)
        print_problems(warnings, "warning: ")
        if not problems and project is not None:
            made = len(project.origins)  # announcements of events: counted with them
            events = len(project.schedule.events)
            out.print(
                f"ok: {len(project.schedule.posts) - made} entries, "
                + (f"{events} event(s) ({made} announcements), " if events else "")
                + f"{len(project.accounts)} accounts, {len(project.content) - made} content items"
            )
        if limits:
            out.print("\n".join(["length limits:", *(f"  {s.describe()}" for s in limits)]))
    _exit(EXIT_BAD_INPUT if problems else EXIT_OK)


# --------------------------------------------------------------------------- plan


@cli.command(epilog="Example: crosspost plan --until 2d --verbose")
@click.option(
    "--until",
    "until",
    default="7d",
    show_default=True,
    help="How far ahead: a duration (90m, 2d, 1w).",
)
@click.option(
    "--limit",
    default=200,
    show_default=True,
    type=click.IntRange(0),
    help="Show at most this many (0 = all).",
)
@click.option("--entry", "entries", multiple=True, help="Only this entry (repeatable).")
@click.option("--account", "accounts", multiple=True, help="Only this account (repeatable).")
@click.option("--content", "contents", multiple=True, help="Only this content (repeatable).")
@click.option("--verbose", "-v", is_flag=True, help="Also print the rendered text.")
@format_option
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.pass_obj
def plan(
    app: AppContext,
    until: str,
    limit: int,
    entries: tuple[str, ...],
    accounts: tuple[str, ...],
    contents: tuple[str, ...],
    verbose: bool,
    fmt: str,
    as_json: bool,
) -> None:
    """Show the upcoming publications in order, rendered and measured; sends nothing.

    Exits 2 when a post would be refused by its platform.
    """
    from crosspost.plan_view import plan_filter, print_plan, summary
    from crosspost.preview import plan_checksum, plan_page
    from crosspost.schedule import parse_duration

    try:
        horizon = parse_duration(until)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--until") from None
    project = app.project()
    _known_limits(app, project)
    only = plan_filter(project, entries, accounts, contents)
    now = _now()
    posts, total = plan_page(project, now, now + horizon, limit, only)
    checksum = plan_checksum(posts)
    if as_json:
        publications = [asdict(p) for p in posts]
        _print_json({"checksum": checksum, "total": total, "publications": publications})
    else:
        print_plan(out, posts, verbose, fmt)
        if fmt != "tsv":
            out.print(f"{summary(len(posts), total, until)}; plan sha256 {checksum}")
    _exit(EXIT_BAD_INPUT if any(p.problems for p in posts) else EXIT_OK)


# --------------------------------------------------------------------------- publish


@cli.command(epilog="Example: crosspost publish content/launch.md --to mastodon,bluesky")
@click.argument("content")
@click.option("--to", "to", required=True, help="Accounts or groups, comma-separated.")
@click.option("--dry-run", is_flag=True, help="Render and check, send nothing.")
@click.option("--again", is_flag=True, help="Publish even if this exact post went out before.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_obj
def publish(
    app: AppContext, content: str, to: str, dry_run: bool, again: bool, as_json: bool
) -> None:
    """Publish CONTENT (a content id or a Markdown file) now, recorded like any scheduled post.

    Running it twice by mistake does not post twice: the same text to the same
    account is recorded once, unless --again.
    """
    from crosspost.oneoff import UnknownTarget, publish_now

    try:
        results = publish_now(
            app.project(), app.store(), content, to, dry_run=dry_run, again=again, clock=_now
        )
    except UnknownTarget as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from None
    if as_json:
        _print_json({"publications": [asdict(r) for r in results]})
    else:
        for result in results:
            _print_result(result)
    not_out = [r for r in results if r.status not in (Status.PUBLISHED, "dry-run")]
    _exit(EXIT_FAILED if not_out else EXIT_OK)


def _print_result(result: Any) -> None:
    style = STYLE.get(result.status, "")
    where = result.url or ""
    line = f"[{style}]{result.status}[/{style}]" if style else result.status
    out.print(f"{line} {result.account}: {result.content} {where}")
    if result.error:
        out.print(f"  {result.error}", markup=False)
    if result.status != "dry-run":
        return
    total = len(result.parts)
    for number, (part, length) in enumerate(zip(result.parts, result.lengths, strict=True), 1):
        thread = f"part {number}/{total}, " if total > 1 else ""
        out.print(f"— {thread}{length}/{result.limit} {result.unit} —", markup=False)
        out.print(part, markup=False)


# --------------------------------------------------------------------------- daemon


@cli.command(epilog="Example: crosspost daemon --once   # from cron")
@click.option("--once", is_flag=True, help="Publish what is due now, then exit.")
@click.option(
    "--tick", default="5s", show_default=True, help="How often to look for due publications."
)
@click.option(
    "--lease",
    default="10m",
    show_default=True,
    help="How long a claimed publication is held before it counts as abandoned.",
)
@click.pass_obj
def daemon(app: AppContext, once: bool, tick: str, lease: str) -> None:
    """Run the scheduler: publish on time, re-read the schedule when it changes.

    SIGTERM or SIGINT (Ctrl-C) stops it cleanly: the publication in flight is
    finished and recorded; exits 0 after SIGTERM, 130 after Ctrl-C. With --once,
    exits 1 if any publication failed.
    """
    from crosspost.daemon import Daemon
    from crosspost.schedule import parse_duration

    try:
        tick_every, lease_for = parse_duration(tick), parse_duration(lease)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    project = app.project()  # bad input: exit 2 before the database is even opened
    store = app.store()
    runner = Daemon(
        app.schedule,
        store,
        on_outcome=_print_outcome,
        tick=tick_every,
        lease=lease_for,
        project=project,
    )
    if once:
        outcomes = runner.run_once()
        waiting = _report_waiting(store, runner.publisher.held)
        if not outcomes and not waiting:
            out.print("nothing is due")
        trouble = any(o.status in TROUBLE for o in outcomes)
        _exit(EXIT_FAILED if trouble or waiting else EXIT_OK)
    from crosspost.daemon_view import exit_code_for, in_flight, start_banner, stopping_message

    def tell(signum: int) -> None:
        out.print(stopping_message(signum, in_flight(store, runner.publisher.worker_id)))

    runner.on_signal = tell
    out.print(start_banner(runner.project, _shown(str(app.schedule)), _now()), markup=False)
    runner.run_forever()
    _exit(exit_code_for(runner.received))


def _report_waiting(store: Store, held: dict[str, str]) -> list[Any]:
    """Say which due publications did not go out in this run, and when they are tried again."""
    from crosspost.pending import due_not_sent

    waiting = due_not_sent(store, _now(), held)
    for item in waiting:
        err.print(item.describe(), markup=False)
    return waiting


def _print_outcome(outcome: Any) -> None:
    style = STYLE.get(outcome.status, "dim")
    stamp = datetime.now().astimezone().strftime("%H:%M:%S")
    out.print(
        f"{stamp} [{style}]{outcome.status:>9}[/{style}] {outcome.entry} → "
        f"{outcome.account} {outcome.url or ''}"
    )
    if outcome.error and outcome.status != Status.PUBLISHED:
        out.print(f"          {outcome.error}", markup=False)


# --------------------------------------------------------------------------- status


@cli.command(epilog="Example: crosspost status --status failed,unknown --json")
@click.option("--status", "statuses", default="", help="Only these states, comma-separated.")
@click.option("--account", "accounts", default="", help="Only these accounts, comma-separated.")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(0),
    help="With a filter: the newest N (0 = all).",
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Every publication, also those planned more than an hour ahead.",
)
@format_option
@click.option("--json", "as_json", is_flag=True, help="Print every publication as JSON.")
@click.pass_obj
def status(
    app: AppContext,
    statuses: str,
    accounts: str,
    limit: int,
    show_all: bool,
    fmt: str,
    as_json: bool,
) -> None:
    """What needs attention first: counts per state, problems, the last published, the next planned.

    With --status, --account or --all: the matching publications instead.
    Exits 1 when any publication failed, was missed or is unknown.
    """
    from crosspost import status_view

    try:
        wanted = status_view.parse_statuses(statuses)
    except click.BadParameter as exc:
        exc.param_hint = "--status"
        raise
    store = app.store()
    if not (as_json or wanted or accounts or show_all):
        problems, held_now = status_view.print_overview(out, store, _now(), fmt)
        _exit(EXIT_FAILED if problems or held_now else EXIT_OK)
    until = None if show_all or as_json else _now() + timedelta(hours=1)
    rows = store.publications(wanted, _split(accounts), until=until)
    held = _held_accounts(store)
    if as_json:
        beat = store.last_heartbeat()
        _print_json(
            {
                "publications": [_status_json(r) for r in rows],
                "daemon": {"alive_at": beat.alive_at.isoformat() if beat else None},
                "held_accounts": held,
            }
        )
    else:
        status_view.print_rows(out, rows[-limit:] if limit else rows, store, _now(), fmt)
        _print_held(held)
    _exit(EXIT_FAILED if held or any(r.status in TROUBLE for r in rows) else EXIT_OK)


def _held_accounts(store: Store) -> list[dict[str, str]]:
    """Accounts held since their credentials failed (status shows them; they exit 1)."""
    from crosspost.store.account_state import holds

    return [
        {"account": h.account, "reason": h.reason, "since": h.since.isoformat()}
        for h in holds(store)
    ]


def _print_held(held: list[dict[str, str]]) -> None:
    if not held:
        return
    out.print("held accounts (credentials failed; nothing of theirs is sent):")
    for hold in held:
        out.print(
            f"  {hold['account']} since {hold['since']}: {hold['reason']}\n"
            f"    fix its settings, or: crosspost resolve --account {hold['account']} --retry",
            markup=False,
        )


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _status_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "entry": row.entry,
        "occurrence": row.occurrence,
        "account": row.account,
        "content": row.content_id,
        "status": row.status,
        "due_at": row.due_at.isoformat(),
        "attempts": row.attempts,
        "remote_id": row.remote_id,
        "url": row.url,
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "error": row.error,
    }


#: Commands in modules of their own: name → (module:attribute, summary for --help).
_COMMANDS = {
    "collect": (
        "crosspost.metrics_cli:collect",
        "Collect post reactions, account figures, follower joins/leaves and mentions.",
    ),
    "report": (
        "crosspost.report_cli:report",
        "Reactions, audience growth and churn, member-written content, conversions and the "
        "best times to post, from what crosspost has collected in the period (--since, "
        "--until). Reads only the local store; every time is shown in the schedule's timezone.",
    ),
    "conversions": (
        "crosspost.report_cli:conversions",
        "Conversions from analytics exports, matched to posts by their UTM tags.",
    ),
    "init": (
        "crosspost.init_cli:init",
        "Start a project in DIRECTORY (default: here): a commented schedule.yaml, content/, "
        "templates/, .env.example and .gitignore.",
    ),
    "resolve": (
        "crosspost.resolve_cli:resolve",
        "Decide about publications that are unknown, failed or missed (see crosspost status).",
    ),
    "retract": (
        "crosspost.retract_cli:retract_command",
        "Delete published posts from their platforms (every part of a thread).",
    ),
    "import": (
        "crosspost.import_cli:import_command",
        "Turn the rows of FILE (.csv or .json) into content files and schedule entries.",
    ),
    "inbox": (
        "crosspost.inbox_cli:inbox",
        "Mentions, replies, quotes and comments members wrote, newest first.",
    ),
    "health": (
        "crosspost.health_cli:health",
        "Exit 0 when the daemon was alive within --max-age, else 1 (for healthchecks).",
    ),
    "calendar": (
        "crosspost.calendar_cli:calendar_command",
        "Write every event (cancelled ones marked so) as one iCalendar (.ics) file.",
    ),
}


def _add_commands() -> None:
    # imported when used: these modules build on AppContext and the helpers above
    for name, (target, summary) in _COMMANDS.items():
        cli.add_lazy(name, target, summary)


_add_commands()


def main() -> None:
    """Console entry point."""
    cli.main(prog_name="crosspost")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())  # type: ignore[func-returns-value]
