"""Process settings from the environment (``CROSSPOST_*``) and ``.env``, and secret lookup.

Secrets never live in ``schedule.yaml``: account settings refer to them as
``${ENV_VAR}``, resolved here from the process environment first, then from the
``.env`` file next to the schedule. Resolved values are wrapped in
``SecretStr`` by the connector's settings model and are never written anywhere.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crosspost.loading.inputfile import read_text

__all__ = [
    "REFERENCE",
    "SecretSource",
    "database_url_setting",
    "default_database_url",
]

#: ``${NAME}`` inside a setting's value.
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def database_url_setting(environ: Mapping[str, str] | None = None) -> str | None:
    """``CROSSPOST_DATABASE_URL``, in any case as ``env_settings.Settings`` reads it, or None."""
    for key, value in (os.environ if environ is None else environ).items():
        if key.upper() == "CROSSPOST_DATABASE_URL":
            return value
    return None


def default_database_url(schedule_path: Path) -> str:
    """The embedded default: a SQLite file next to the schedule."""
    return f"sqlite:///{(schedule_path.parent / 'crosspost.db').resolve()}"


class SecretSource:
    """Looks up ``${NAME}`` references: environment first, then the ``.env`` file."""

    def __init__(self, env_file: Path | None = None, environ: Mapping[str, str] | None = None):
        self._environ = os.environ if environ is None else environ
        self._file: dict[str, str | None] = {}
        if env_file is not None and os.path.lexists(env_file):  # a dangling link is an error
            from dotenv import dotenv_values  # only with a .env: it costs start-up time

            self._file = dict(dotenv_values(stream=io.StringIO(read_text(env_file))))

    def __repr__(self) -> str:
        return "SecretSource(...)"

    def get(self, name: str) -> str | None:
        """The value of ``name``, or None when neither source has it."""
        value = self._environ.get(name)
        return value if value is not None else self._file.get(name)

    def resolve(self, value: Any) -> tuple[Any, list[str]]:
        """``value`` with every ``${NAME}`` replaced; also the names that were not found."""
        missing: list[str] = []
        if isinstance(value, str):

            def substitute(match: re.Match[str]) -> str:
                found = self.get(match.group(1))
                if found is None:
                    missing.append(match.group(1))
                    return ""
                return found

            return REFERENCE.sub(substitute, value), missing
        if isinstance(value, Mapping):
            resolved = {}
            for key, item in value.items():
                resolved[key], lost = self.resolve(item)
                missing += lost
            return resolved, missing
        if isinstance(value, list):
            items = []
            for item in value:
                done, lost = self.resolve(item)
                items.append(done)
                missing += lost
            return items, missing
        return value, missing
