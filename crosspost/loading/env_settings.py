"""The process settings read from ``CROSSPOST_*`` variables (pydantic-settings).

A module of its own so that importing :mod:`crosspost.loading.settings` (every command
that loads a project) does not import pydantic-settings.
"""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """What the process reads from ``CROSSPOST_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="CROSSPOST_", extra="ignore")

    #: SQLAlchemy URL; default ``sqlite:///<schedule dir>/crosspost.db``.
    database_url: str | None = None
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
