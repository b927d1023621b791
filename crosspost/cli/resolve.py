"""``crosspost resolve``: a person decides about publications that cannot decide themselves.

Publications are chosen by id, by filters, or both: ``--entry``, ``--account`` and
``--status`` (``failed,missed`` unless given), so an hour of downtime is one
command. ``--retry`` also lifts the credentials hold of each account it touches
(``--account NAME --retry`` lifts it even when nothing else is to be retried).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from crosspost.errors import ConfigError, Problem
from crosspost.publishing.resolving import RESOLVABLE, resolve_publication
from crosspost.status import Status
from crosspost.store import Publication, Store
from crosspost.store.account_state import holds, lift_hold

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext

__all__ = ["Resolution", "resolve", "resolve_many"]

#: What filters pick when no ``--status`` is given: never ``unknown`` by default,
#: because retrying a post that may have gone out is a decision to take one by one.
DEFAULT_STATUSES = (Status.FAILED, Status.MISSED)
#: Re-sending more than this many at once needs ``--force``.
BULK_LIMIT = 20


@dataclass
class Resolution:
    """What ``resolve`` changed."""

    publications: list[Publication] = field(default_factory=list)
    lifted_holds: list[str] = field(default_factory=list)


def _problem(message: str) -> ConfigError:
    return ConfigError([Problem.at("crosspost resolve", 1, 1, message)])


def _checked_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _problem(
            f"--published needs the post's URL, such as https://social.example/@club/1 "
            f"(got {url!r})"
        )
    return url.strip()


def _select(
    store: Store, ids: tuple[int, ...], entry: str, accounts: list[str], statuses: list[Status]
) -> list[Publication]:
    if ids:
        rows = []
        for publication_id in ids:
            row = store.get(publication_id)
            if row is None:
                raise _problem(f"no publication {publication_id} (see crosspost status)")
            rows.append(row)
    else:
        rows = store.publications(statuses or DEFAULT_STATUSES, accounts)
    return [
        r
        for r in rows
        if (not entry or r.entry == entry)
        and (not accounts or r.account in accounts)
        and (not ids or not statuses or r.status in statuses)
    ]


def resolve_many(
    store: Store,
    ids: tuple[int, ...],
    action: str,
    *,
    url: str | None = None,
    entry: str = "",
    accounts: list[str] | None = None,
    statuses: list[Status] | None = None,
    force: bool = False,
    now: datetime,
) -> Resolution:
    """Apply ``action`` (published, retry, skip) to the chosen publications.

    Raises:
        ConfigError: nothing chosen, a bad URL, too many re-sends without ``force``,
            or a publication in a state the action does not apply to.
    """
    accounts = accounts or []
    if not ids and not entry and not accounts and not statuses:
        raise _problem("name publications: IDs, or --entry / --account / --status filters")
    rows = _select(store, ids, entry, accounts, statuses or [])
    if action == "published":
        url = _checked_url(url or "")
        if len(rows) != 1:
            raise _problem(f"--published URL applies to one publication; {len(rows)} chosen")
    if action == "retry" and len(rows) > BULK_LIMIT and not force:
        raise _problem(f"{len(rows)} publications would be sent again; add --force to do it")
    wrong = [r for r in rows if r.status not in RESOLVABLE[action]]
    if wrong:  # checked first, so that a bad id changes nothing at all
        allowed = ", ".join(sorted(RESOLVABLE[action]))
        listed = ", ".join(f"{r.id} is {r.status}" for r in wrong)
        raise _problem(f"publication {listed}; --{action} applies to: {allowed}")
    result = Resolution()
    for row in rows:
        assert row.id is not None
        result.publications.append(resolve_publication(store, row.id, action, url, now))
    if action == "retry":
        held = {hold.account for hold in holds(store)}
        touched = set(accounts) | {row.account for row in rows}
        result.lifted_holds = sorted(a for a in touched & held if lift_hold(store, a))
    if not result.publications and not result.lifted_holds:
        raise _problem("no publication matches (see crosspost status)")
    return result


@click.command(
    epilog="\b\nExample:\n"
    "  crosspost resolve 42 --published https://social.example/@club/1\n"
    "  crosspost resolve --status missed --retry     # after a day of downtime\n"
    "  crosspost resolve --account mastodon --retry  # after renewing its token"
)
@click.argument("publication_ids", type=click.IntRange(1, 2**63 - 1), nargs=-1)
@click.option("--entry", default="", help="Only publications of this schedule entry.")
@click.option("--account", "accounts", default="", help="Only these accounts, comma-separated.")
@click.option(
    "--status",
    "statuses",
    default="",
    help="Only these statuses, comma-separated [default with filters: failed,missed].",
)
@click.option("--published", "url", default=None, help="It did go out, at this URL.")
@click.option("--retry", is_flag=True, help="It did not go out: publish it again.")
@click.option("--skip", is_flag=True, help="Leave it: do not publish it.")
@click.option("--force", is_flag=True, help=f"Re-send more than {BULK_LIMIT} at once.")
@click.option("--json", "as_json", is_flag=True, help="Print the publications as JSON.")
@click.pass_obj
def resolve(
    app: AppContext,
    publication_ids: tuple[int, ...],
    entry: str,
    accounts: str,
    statuses: str,
    url: str | None,
    retry: bool,
    skip: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Decide about publications that are unknown, failed or missed (see crosspost status).

    Exactly one of --published URL, --retry or --skip. --retry also lifts the
    credentials hold of the accounts it touches. Exits 2 when nothing matches.
    """
    from crosspost.cli.output import out, print_json
    from crosspost.cli.status import split_list, status_json
    from crosspost.cli.status_view import parse_statuses

    if [url is not None, retry, skip].count(True) != 1:
        raise click.UsageError("give exactly one of --published URL, --retry, --skip")
    action = "published" if url is not None else "retry" if retry else "skip"
    result = resolve_many(
        app.store(),
        publication_ids,
        action,
        url=url,
        entry=entry,
        accounts=split_list(accounts),
        statuses=parse_statuses(statuses),
        force=force,
        now=datetime.now(UTC),
    )
    if as_json:
        print_json(
            {
                "publications": [status_json(r) for r in result.publications],
                "lifted_holds": result.lifted_holds,
            }
        )
    else:
        for row in result.publications:
            out.print(f"publication {row.id} ({row.entry} → {row.account}) is now {row.status}")
        for account in result.lifted_holds:
            out.print(f"{account}: hold lifted; its posts are tried again")
