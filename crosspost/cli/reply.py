"""``crosspost reply``: answer an inbox item in its thread, through the account it came to.

Exit codes: 0 answered (or already answered with this text), 1 not sent (failed,
unknown, waiting for a retry, held), 2 bad input (unknown item, an account that
cannot reply, an empty answer or one its platform would refuse).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crosspost.status import Status

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext
    from crosspost.publishing.answering import AnswerResult

__all__ = ["reply"]

_EPILOG = """\b
Examples:
  crosspost inbox --unanswered
  crosspost reply 12 "Yes, doors open at **7 pm**: https://club.example/friday"
  crosspost reply 12 --file answer.md --dry-run
"""


def _now() -> datetime:
    return datetime.now(UTC)


@click.command(epilog=_EPILOG)
@click.argument("item_id", metavar="ITEM_ID", type=int)
@click.argument("text", required=False)
@click.option(
    "--file",
    "source_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read the answer (Markdown) from this file instead of TEXT.",
)
@click.option("--dry-run", is_flag=True, help="Show the answer and its length; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_obj
def reply(
    app: AppContext,
    item_id: int,
    text: str | None,
    source_file: Path | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Answer inbox item ITEM_ID in its thread with TEXT (Markdown), and mark it answered.

    The answer goes out through the account the item came to, as a reply on the
    platform. The same answer to the same item is sent once, however often the
    command runs.
    """
    from crosspost.loading.inputfile import read_text
    from crosspost.publishing.answering import answer_now

    if (text is None) == (source_file is None):
        raise click.UsageError("give the answer as TEXT or with --file, not both")
    source = read_text(source_file) if source_file is not None else str(text)
    result = answer_now(app.project(), app.store(), item_id, source, dry_run=dry_run, clock=_now)
    if as_json:
        click.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2, default=str))
    else:
        _print(result)
    if result.status == "dry-run":
        raise SystemExit(2 if result.problems else 0)
    raise SystemExit(0 if result.status == Status.PUBLISHED else 1)


def _print(result: AnswerResult) -> None:
    where = f"{result.account} ({result.platform})"
    if result.status == "dry-run":
        click.echo(f"answer to #{result.item} from {result.author} on {where}, not sent:")
        click.echo(f"— {result.length}/{result.limit} {result.unit} —")
        click.echo(result.text)
        for problem in result.problems:
            click.echo(f"  problem: {problem}")
        return
    click.echo(f"{result.status} #{result.item} → {where}: {result.url or ''}".rstrip())
    if result.error:
        click.echo(f"  {result.error}")
