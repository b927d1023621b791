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
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from crosspost import __version__
from crosspost.errors import ConfigError, CrosspostError, Problem
from crosspost.logs import configure, mask_secrets
from crosspost.project import Project, load_project
from crosspost.schedule import parse_duration
from crosspost.settings import Settings, default_database_url
from crosspost.store import Store
from crosspost.store.db import normalise_url

__all__ = ["AppContext", "cli", "main"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
#: Statuses that make a command exit 1.
TROUBLE = ("failed", "unknown", "missed")

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
        project = load_project(self.schedule)
        mask_secrets(project.secret_values())
        return project

    def store(self) -> Store:
        """Open (and migrate) the store.

        Raises:
            ConfigError: no database named and no schedule to put the default next to.
            CrosspostError: the database cannot be reached.
        """
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
        except SQLAlchemyError as exc:
            reason = str(exc.orig if isinstance(exc, DBAPIError) else exc).splitlines()[0]
            shown = make_url(normalise_url(url)).render_as_string(hide_password=True)
            raise CrosspostError(f"cannot open the database {shown}: {reason}") from None


def _shown(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def print_problems(problems: list[Problem]) -> None:
    """Every problem as ``file:line:column: message`` on stderr."""
    for problem in problems:
        err.print(
            f"{_shown(problem.file)}:{problem.line}:{problem.column}: {problem.message}",
            markup=False,
        )


class _App(click.Group):
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
    help="The schedule file.",
)
@click.option(
    "--database",
    envvar="CROSSPOST_DATABASE_URL",
    default=None,
    help="SQLAlchemy URL [default: sqlite:///<schedule dir>/crosspost.db]",
)
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
@click.option(
    "--log-format", default="text", show_default=True, type=click.Choice(["text", "json"])
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


@cli.command(epilog="Example: crosspost check --json")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def check(app: AppContext, as_json: bool) -> None:
    """Validate the schedule, content, templates and accounts, and render every upcoming post.

    Each problem is printed as file:line:column: what is wrong (what was expected).
    Exits 0 when all is well, 2 on any problem. Sends nothing.
    """
    from crosspost.preview import check_project

    try:
        project = app.project()
        problems = check_project(project, _now())
    except ConfigError as exc:
        problems, project = exc.problems, None
    if as_json:
        _print_json(
            {
                "ok": not problems,
                "problems": [{**asdict(p), "file": _shown(p.file)} for p in problems],
            }
        )
    else:
        print_problems(problems)
        if not problems and project is not None:
            out.print(
                f"ok: {len(project.schedule.posts)} entries, {len(project.accounts)} "
                f"accounts, {len(project.content)} content items"
            )
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
@click.option("--limit", default=200, show_default=True, help="Show at most this many.")
@click.option("--verbose", "-v", is_flag=True, help="Also print the rendered text.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.pass_obj
def plan(app: AppContext, until: str, limit: int, verbose: bool, as_json: bool) -> None:
    """Show the upcoming publications in order, rendered and measured; sends nothing.

    Exits 2 when a post would be refused by its platform.
    """
    from crosspost.preview import plan_checksum, plan_posts

    try:
        horizon = parse_duration(until)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--until") from None
    project = app.project()
    now = _now()
    posts = list(plan_posts(project, now, now + horizon, limit))
    checksum = plan_checksum(posts)
    if as_json:
        _print_json({"checksum": checksum, "publications": [asdict(p) for p in posts]})
    else:
        _print_plan(posts, verbose)
        out.print(f"{len(posts)} publication(s) in the next {until}; plan sha256 {checksum}")
    _exit(EXIT_BAD_INPUT if any(p.problems for p in posts) else EXIT_OK)


def _print_plan(posts: list[Any], verbose: bool) -> None:
    table = Table(show_lines=verbose)
    for column in ("local time", "UTC", "account", "content", "length", "text" if verbose else ""):
        if column:
            table.add_column(column)
    for post in posts:
        local = datetime.fromisoformat(post.local)
        length = " + ".join(str(n) for n in post.lengths) or "-"
        cells = [
            f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({post.zone})",
            f"{datetime.fromisoformat(post.due_at):%Y-%m-%d %H:%M}Z",
            post.account,
            post.content,
            f"{length}/{post.limit} {post.unit}"
            + (f" ({len(post.parts)} parts)" if len(post.parts) > 1 else "")
            + ("  [red]" + "; ".join(post.problems) + "[/red]" if post.problems else ""),
        ]
        if verbose:
            cells.append("\n— — —\n".join(post.parts))
        table.add_row(*cells)
    out.print(table)


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
    from crosspost.oneoff import publish_now

    results = publish_now(
        app.project(), app.store(), content, to, dry_run=dry_run, again=again, clock=_now
    )
    if as_json:
        _print_json({"publications": [asdict(r) for r in results]})
    else:
        for result in results:
            _print_result(result)
    _exit(EXIT_FAILED if any(r.status in TROUBLE for r in results) else EXIT_OK)


def _print_result(result: Any) -> None:
    style = {"published": "green", "failed": "red", "unknown": "yellow"}.get(result.status, "")
    where = result.url or ""
    line = f"[{style}]{result.status}[/{style}]" if style else result.status
    out.print(f"{line} {result.account}: {result.content} {where}")
    if result.error:
        out.print(f"  {result.error}", markup=False)
    for part in result.parts if result.status == "dry-run" else []:
        out.print(part, markup=False)
        out.print("— — —")


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

    SIGTERM or SIGINT stops it cleanly: the publication in flight is finished
    and recorded. With --once, exits 1 if any publication failed.
    """
    from crosspost.daemon import Daemon

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
        if not outcomes:
            out.print("nothing is due")
        _exit(EXIT_FAILED if any(o.status in TROUBLE for o in outcomes) else EXIT_OK)
    out.print(f"crosspost daemon: {app.schedule} → {store!r}; Ctrl-C to stop")
    runner.run_forever()
    _exit(EXIT_OK)


def _print_outcome(outcome: Any) -> None:
    style = {"published": "green", "failed": "red", "unknown": "yellow", "missed": "yellow"}.get(
        outcome.status, "dim"
    )
    stamp = datetime.now().astimezone().strftime("%H:%M:%S")
    out.print(
        f"{stamp} [{style}]{outcome.status:>9}[/{style}] {outcome.entry} → "
        f"{outcome.account} {outcome.url or ''}"
    )
    if outcome.error and outcome.status != "published":
        out.print(f"          {outcome.error}", markup=False)


# --------------------------------------------------------------------------- status


@cli.command(epilog="Example: crosspost status --status failed,unknown --json")
@click.option("--status", "statuses", default="", help="Only these statuses, comma-separated.")
@click.option("--account", "accounts", default="", help="Only these accounts, comma-separated.")
@click.option("--limit", default=50, show_default=True, help="Show the newest N (0 = all).")
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Also show planned publications more than an hour ahead.",
)
@click.option("--json", "as_json", is_flag=True, help="Print every publication as JSON.")
@click.pass_obj
def status(
    app: AppContext, statuses: str, accounts: str, limit: int, show_all: bool, as_json: bool
) -> None:
    """Every publication with its state, due time, account, remote id, URL and last error.

    Exits 1 when any publication failed, was missed or is unknown.
    """
    store = app.store()
    until = None if show_all or as_json else _now() + timedelta(hours=1)
    rows = store.publications(_split(statuses), _split(accounts), until=until)
    beat = store.last_heartbeat()
    if as_json:
        _print_json(
            {
                "publications": [_status_json(r) for r in rows],
                "daemon": {"alive_at": beat.alive_at.isoformat() if beat else None},
            }
        )
    else:
        _print_status(rows[-limit:] if limit else rows, beat, len(rows))
    _exit(EXIT_FAILED if any(r.status in TROUBLE for r in rows) else EXIT_OK)


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


def _print_status(rows: list[Any], beat: Any, total: int) -> None:
    table = Table()
    for column in ("id", "due (UTC)", "entry", "account", "status", "url / error"):
        table.add_column(column)
    for row in rows:
        detail = row.url or row.remote_id or ""
        if row.error and row.status != "published":
            detail = row.error
        table.add_row(
            str(row.id),
            f"{row.due_at:%Y-%m-%d %H:%M}",
            f"{row.entry} {row.occurrence}",
            row.account,
            row.status,
            detail,
        )
    out.print(table)
    if beat is None:
        out.print("daemon: never ran against this database")
    else:
        ago = int((_now() - beat.alive_at).total_seconds())
        out.print(
            f"daemon: last alive {beat.alive_at:%Y-%m-%d %H:%M:%S}Z ({ago}s ago); "
            f"{len(rows)} of {total} shown"
        )


# --------------------------------------------------------------------------- resolve


@cli.command(epilog="Example: crosspost resolve 42 --published https://social.example/@club/1")
@click.argument("publication_id", type=int)
@click.option("--published", "url", default=None, help="It did go out, at this URL.")
@click.option("--retry", is_flag=True, help="It did not go out: publish it again.")
@click.option("--skip", is_flag=True, help="Leave it: do not publish it.")
@click.option("--json", "as_json", is_flag=True, help="Print the publication as JSON.")
@click.pass_obj
def resolve(
    app: AppContext, publication_id: int, url: str | None, retry: bool, skip: bool, as_json: bool
) -> None:
    """Decide about a publication that is unknown, failed or missed (see crosspost status).

    Exactly one of --published URL, --retry or --skip.
    """
    from crosspost.oneoff import resolve_publication

    if [bool(url), retry, skip].count(True) != 1:
        raise click.UsageError("give exactly one of --published URL, --retry, --skip")
    action = "published" if url else "retry" if retry else "skip"
    row = resolve_publication(app.store(), publication_id, action, url, _now())
    if as_json:
        _print_json(_status_json(row))
    else:
        out.print(f"publication {row.id} ({row.entry} → {row.account}) is now {row.status}")
    _exit(EXIT_OK)


def _add_commands() -> None:
    # imported here: these modules build on AppContext and the helpers above
    from crosspost.metrics_cli import collect
    from crosspost.report_cli import conversions, report

    for command in (collect, report, conversions):
        cli.add_command(command)


_add_commands()


def main() -> None:
    """Console entry point."""
    cli.main(prog_name="crosspost")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())  # type: ignore[func-returns-value]
