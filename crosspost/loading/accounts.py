"""Accounts: from ``accounts:`` entries to ready connectors, secrets resolved.

Only this module turns ``${ENV_VAR}`` references into values, and only into the
connector's settings model, where they are ``SecretStr``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import typing
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr, ValidationError

from connectors.abilities import ExclusiveResource
from connectors.base import Connector, ConnectorSettings, FileState
from crosspost.errors import Problem
from crosspost.loading import registry
from crosspost.loading.schedule import AccountSpec
from crosspost.loading.settings import REFERENCE, SecretSource
from crosspost.loading.yamlfile import locate, validation_problems

if TYPE_CHECKING:
    from crosspost.loading.project import Project

__all__ = [
    "Account",
    "build_accounts",
    "secret_fields",
    "settings_hash",
    "shared_resource_warnings",
]


@dataclass(frozen=True)
class Account:
    """One configured account: its alias, connector class and validated settings."""

    name: str
    spec: AccountSpec
    connector_cls: type[Connector]
    settings: ConnectorSettings

    @property
    def platform(self) -> str:
        """The connector's name (``mastodon``, ``feed``, …)."""
        return self.connector_cls.name

    def connect(self, state_dir: Path) -> Connector:
        """A connector instance for this account (no network I/O)."""
        state = FileState(state_dir / "state" / f"{self.name}.json")
        return self.connector_cls(self.name, self.settings, state)

    @cached_property
    def settings_digest(self) -> str:
        """:func:`settings_hash`, worked out once: nothing changes the settings after the
        load (a reload makes new accounts), and the daemon asks at every round."""
        values = {
            name: value.get_secret_value() if isinstance(value, SecretStr) else value
            for name, value in self.settings
        }
        data = json.dumps([self.platform, values], sort_keys=True, default=str)
        return hashlib.sha256(data.encode()).hexdigest()[:16]


def settings_hash(account: Account) -> str:
    """A short digest of the account's connector and resolved settings, secrets included.

    Stored with a hold or learned limits to notice that the settings changed (a new
    token, another server). Truncated sha256: it tells values apart, it cannot
    give a token back.
    """
    return account.settings_digest


def secret_fields(settings_cls: type[ConnectorSettings]) -> set[str]:
    """Names of the fields declared as ``SecretStr`` (possibly optional)."""
    names = set()
    for name, field in settings_cls.model_fields.items():
        annotation = field.annotation
        members = typing.get_args(annotation) or (annotation,)
        if SecretStr in members:
            names.add(name)
    return names


def shared_resource_warnings(project: Project) -> list[Problem]:
    """Accounts that use something only one account can use (``ExclusiveResource``).

    Each later account that names a resource an earlier one named gets a warning
    at its line; building the connectors sends nothing.
    """
    first: dict[str, str] = {}
    warnings = []
    for name in project.accounts:
        connector = project.connector(name)
        if not isinstance(connector, ExclusiveResource):
            continue
        resource = connector.exclusive_resource()
        if resource is None:
            continue
        if resource not in first:
            first[resource] = name
            continue
        line, column = locate(project.root, ["accounts", name])
        message = (
            f"accounts.{name}: shares {resource} with account {first[resource]}, and only "
            "one account can use it: each would take what the other should get "
            "(give each account its own)"
        )
        warnings.append(Problem.at(project.path, line, column, message))
    return warnings


def build_accounts(
    specs: dict[str, AccountSpec],
    root: Any,
    path: Path,
    secrets: SecretSource,
    templates_dir: Path | None = None,
) -> tuple[dict[str, Account], list[Problem]]:
    """Every account that could be built, and the problems of the others.

    Connectors whose settings declare ``base_dir`` get the schedule's folder, and those
    that declare ``templates_dir`` get ``templates_dir`` (for templates of their own).
    """
    accounts: dict[str, Account] = {}
    problems: list[Problem] = []
    for name, spec in specs.items():
        account, found = _build(name, spec, root, path, secrets, templates_dir)
        problems += found
        if account is not None:
            accounts[name] = account
    return accounts, problems


def _build(
    name: str,
    spec: AccountSpec,
    root: Any,
    path: Path,
    secrets: SecretSource,
    templates_dir: Path | None,
) -> tuple[Account | None, list[Problem]]:
    prefix: list[str | int] = ["accounts", name]
    try:
        cls = registry.load(spec.connector)
    except (LookupError, TypeError) as exc:
        line, column = locate(root, [*prefix, "connector"])
        return None, [Problem.at(path, line, column, f"accounts.{name}.connector: {exc}")]
    raw = spec.settings
    problems = _literal_secrets(cls.Settings, raw, root, path, prefix)
    resolved, missing = secrets.resolve(raw)
    if "base_dir" in cls.Settings.model_fields and "base_dir" not in resolved:
        resolved["base_dir"] = str(path.parent)  # file-based connectors: paths as in the schedule
    fields = cls.Settings.model_fields
    if templates_dir is not None and "templates_dir" in fields and "templates_dir" not in resolved:
        resolved["templates_dir"] = str(templates_dir)
    for variable in sorted(set(missing)):
        key = next((k for k, v in raw.items() if f"${{{variable}}}" in str(v)), None)
        line, column = locate(root, [*prefix, *([key] if key else [])])
        problems.append(
            Problem.at(
                path,
                line,
                column,
                f"accounts.{name}.{key}: environment "
                f"variable {variable} is not set (export it or add it to .env)",
            )
        )
    problems += _line_breaks(raw, resolved, root, path, prefix)
    if problems:
        return None, problems
    try:
        settings = cls.Settings.model_validate(resolved)
    except ValidationError as exc:
        return None, _settings_problems(exc, cls.Settings, root, path, prefix)
    return Account(name, spec, cls, settings), []


def _line_breaks(
    raw: dict[str, Any], resolved: dict[str, Any], root: Any, path: Path, prefix: list[str | int]
) -> list[Problem]:
    """A value from the environment with a line break in it (a token pasted with its newline)."""
    problems = []
    for key, value in raw.items():
        if REFERENCE.search(str(value)) and any(c in str(resolved.get(key)) for c in "\r\n"):
            line, column = locate(root, [*prefix, key])
            problems.append(
                Problem.at(
                    path,
                    line,
                    column,
                    f"{'.'.join(map(str, prefix))}.{key}: the value of {value} contains a line "
                    "break (check the environment or .env)",
                )
            )
    return problems


def _literal_secrets(
    settings_cls: type[ConnectorSettings],
    raw: dict[str, Any],
    root: Any,
    path: Path,
    prefix: list[str | int],
) -> list[Problem]:
    problems = []
    for field in sorted(secret_fields(settings_cls) & raw.keys()):
        if not REFERENCE.fullmatch(str(raw[field]).strip()):
            line, column = locate(root, [*prefix, field])
            problems.append(
                Problem.at(
                    path,
                    line,
                    column,
                    f"{'.'.join(map(str, prefix))}.{field}: secrets go in the environment or .env, "
                    f"not in this file (expected a reference like ${{{field.upper()}}})",
                )
            )
    return problems


def _settings_problems(
    exc: ValidationError,
    settings_cls: type[ConnectorSettings],
    root: Any,
    path: Path,
    prefix: list[str | int],
) -> list[Problem]:
    problems = validation_problems(exc, root, path, prefix)
    known = sorted(settings_cls.model_fields)
    fixed = []
    for problem in problems:
        message = problem.message
        if message.endswith(": unknown field"):
            key = message.split(":")[0].rsplit(".", 1)[-1]
            close = difflib.get_close_matches(key, known, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            message = f"{message} (expected one of: {', '.join(known)}){hint}"
        # never echo a resolved secret back in an error message
        fixed.append(Problem(problem.file, problem.line, problem.column, _without_input(message)))
    return fixed


def _without_input(message: str) -> str:
    return message.split(" [type=")[0]
