"""The ``crosspost`` command: thin — parse, call one function, print.

This module holds the top-level group (its global options and how errors end a run)
and registers every command lazily, so that ``crosspost --help`` imports none of them.
Exit codes, for every command: 0 all is well, 1 some publications failed (or
are unknown or missed), 2 bad input or configuration.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Any

import click

from crosspost import __version__
from crosspost.cli.context import AppContext, reason, sqlalchemy_error
from crosspost.cli.lazy_group import LazyGroup
from crosspost.cli.output import EXIT_BAD_INPUT, EXIT_FAILED, echo, print_problems
from crosspost.errors import ConfigError, CrosspostError
from crosspost.logs import configure
from crosspost.rendering.humanize import counted

__all__ = ["cli", "main"]


def _machine_error(exc: Exception) -> bool:
    """A failure of the machine or the database, not of the input or of crosspost."""
    database_error = sqlalchemy_error("SQLAlchemyError")
    sqlite3 = sys.modules.get("sqlite3")  # a file read without the store (check, status)
    return (
        isinstance(exc, OSError)
        or (database_error is not None and isinstance(exc, database_error))
        or (sqlite3 is not None and isinstance(exc, sqlite3.Error))
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
            problems = counted(len(exc.problems), "problem")
            echo(f"Error: {problems} in the input; nothing was changed.", err=True)
            ctx.exit(exc.exit_code)
        except CrosspostError as exc:
            if ctx.obj is not None and ctx.obj.debug:
                raise
            echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except Exception as exc:
            # the input was fine, the machine was not: a full disk, a read-only database…
            if not _machine_error(exc) or (ctx.obj is not None and ctx.obj.debug):
                raise
            echo(f"Error: {reason(exc)}", err=True)
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


#: Every command, each in a module of its own: name → (module:attribute, summary for --help).
_COMMANDS = {
    "check": (
        "crosspost.cli.check:check",
        "Validate the schedule, content, templates and accounts, and render every upcoming post.",
    ),
    "plan": (
        "crosspost.cli.plan:plan",
        "Show the upcoming publications in order, rendered and measured; sends nothing.",
    ),
    "publish": (
        "crosspost.cli.publish:publish",
        "Publish CONTENT (a content id or a Markdown file) now, recorded like any scheduled post.",
    ),
    "daemon": (
        "crosspost.cli.daemon:daemon",
        "Run the scheduler: publish on time, re-read the schedule when it changes.",
    ),
    "status": (
        "crosspost.cli.status:status",
        "What needs attention first: counts per state, problems, the last published, the next "
        "planned.",
    ),
    "collect": (
        "crosspost.cli.metrics:collect",
        "Collect post reactions, account figures, follower joins/leaves and mentions.",
    ),
    "report": (
        "crosspost.cli.report:report",
        "Reactions, audience growth and churn, member-written content, conversions and the "
        "best times to post, from what crosspost has collected in the period (--since, "
        "--until). Reads only the local store; every time is shown in the schedule's timezone.",
    ),
    "conversions": (
        "crosspost.cli.conversions:conversions",
        "Conversions from analytics exports, matched to posts by their UTM tags.",
    ),
    "init": (
        "crosspost.cli.init:init",
        "Start a project in DIRECTORY (default: here): a commented schedule.yaml, content/, "
        "templates/, .env.example and .gitignore.",
    ),
    "resolve": (
        "crosspost.cli.resolve:resolve",
        "Decide about publications that are unknown, failed or missed (see crosspost status).",
    ),
    "retract": (
        "crosspost.cli.retract:retract_command",
        "Delete published posts from their platforms (every part of a thread).",
    ),
    "import": (
        "crosspost.cli.importing:import_command",
        "Turn the rows of FILE (.csv or .json) into content files and schedule entries.",
    ),
    "inbox": (
        "crosspost.cli.inbox:inbox",
        "Mentions, replies, quotes and comments members wrote, newest first.",
    ),
    "health": (
        "crosspost.cli.health:health",
        "Exit 0 when a daemon runs (alive within --max-age, not stopped), else 1 (healthchecks).",
    ),
    "calendar": (
        "crosspost.cli.calendar:calendar_command",
        "Write every event (cancelled ones marked so) as one iCalendar (.ics) file.",
    ),
    "reply": (
        "crosspost.cli.reply:reply",
        "Answer inbox item ITEM_ID in its thread with TEXT (Markdown), and mark it answered.",
    ),
    "doctor": (
        "crosspost.cli.doctor:doctor",
        "Prove each account's credentials work and may do what crosspost needs; posts nothing.",
    ),
    "feeds": (
        "crosspost.cli.feeds:feeds",
        "The feeds the schedule subscribes to, and how their last fetch went.",
    ),
    "approve": (
        "crosspost.cli.approve:approve",
        "Approve CONTENT (content ids or Markdown files) as it reads now, for entries with "
        "approval: required.",
    ),
}


def _add_commands() -> None:
    # imported when used, so that --help and the other commands do not pay for them
    for name, (target, summary) in _COMMANDS.items():
        cli.add_lazy(name, target, summary)


_add_commands()


#: Objects allocated between two young collections. Start-up allocates over a million
#: objects and keeps nearly all of them (modules, classes, schemas, the project); at
#: Python's default of 700 the collector walked them again and again, 8% of the CPU
#: time of ``check``. A young collection walks every object made since the last one, so
#: a threshold the imports of ``check`` (about 85,000 objects) stay under spares the
#: example the one collection that found nothing (4% of its start); after that, a
#: command that loads a project freezes it. Cycles are still collected, in larger batches.
_GC_THRESHOLD = 100_000


def main() -> None:
    """Console entry point."""
    gc.set_threshold(_GC_THRESHOLD, *gc.get_threshold()[1:])
    # crosspost uses no pydantic plugin, and looking for them read the entry points of
    # every installed distribution at the first model (2 % of ``check``). Setting the
    # variable, even empty, keeps pydantic's own behaviour (docs/production.md).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    cli.main(prog_name="crosspost")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())  # type: ignore[func-returns-value]
