"""``crosspost doctor``: does every account work? Read-only calls; nothing is posted.

Exit codes: 0 every account checked is fine, 1 at least one has a problem (its
credentials, a missing scope or right, no rate-limit room left, a platform that
cannot be reached), 2 bad input (an unknown account, a schedule that does not load).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from crosspost.rendering.humanize import counted

if TYPE_CHECKING:
    from crosspost.cli.context import AppContext
    from crosspost.loading.project import Project
    from crosspost.publishing.doctor import AccountCheck

__all__ = ["doctor"]

_EPILOG = """\b
Examples:
  crosspost doctor
  crosspost doctor --account mastodon,bluesky --json
"""
_LABEL = {"ok": "ok", "problem": "PROBLEM", "unchecked": "unchecked"}


def _now() -> datetime:
    return datetime.now(UTC)


@click.command(epilog=_EPILOG)
@click.option("--account", "accounts", default="", help="Only these accounts, comma-separated.")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_obj
def doctor(app: AppContext, accounts: str, as_json: bool) -> None:
    """Prove each account's credentials work and may do what crosspost needs; posts nothing.

    For every account: whose credentials they are, the scopes or rights they lack,
    the limits its server declares (kept for crosspost check), the rate-limit room
    left and what the connector can do. Only reading requests are sent.
    """
    from crosspost.publishing.doctor import check_accounts

    project = app.project()
    chosen = _chosen(accounts, project)
    store = app.store()

    def progress(number: int, account: str) -> None:
        click.echo(f"checking {account} ({number}/{len(chosen)})…", err=True)

    checks = check_accounts(project, store, chosen, _now, progress)
    store.close()
    if as_json:
        click.echo(json.dumps({"accounts": [asdict(c) for c in checks]}, indent=2))
    else:
        for check in checks:
            _print(check)
    failed = [c.account for c in checks if c.status == "problem"]
    if not as_json:
        accounts = counted(len(checks), "account")
        click.echo(f"{len(checks) - len(failed)} of {accounts} without problems")
    raise SystemExit(1 if failed else 0)


def _chosen(value: str, project: Project) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    known = sorted(project.accounts)
    for name in names:
        if name not in project.accounts:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            raise click.BadParameter(
                f'unknown account "{name}" (expected one of: {", ".join(known)}){hint}',
                param_hint="--account",
            )
    return names or known


def _print(check: AccountCheck) -> None:
    who = f" {check.identity}" if check.identity else ""
    click.echo(f"{_LABEL[check.status]:<9} {check.account} ({check.platform}){who}")
    for problem in check.problems:
        click.echo(f"          ✗ {problem}")
    if check.limits:
        click.echo(f"          limits: {check.limits['text']}")
    if check.rate:
        click.echo(f"          rate: {check.rate['text']}")
    if check.scopes is not None:
        click.echo(f"          scopes: {' '.join(check.scopes) or '(none)'}")
    click.echo(f"          can: {', '.join(check.capabilities) or '(only publish)'}")
    for name, value in check.details.items():
        click.echo(f"          {name}: {value}")
    for note in check.notes:
        click.echo(f"          note: {note}")
