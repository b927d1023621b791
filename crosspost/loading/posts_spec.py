"""``posts:`` of ``schedule.yaml``: which content goes to which accounts, and when.

Each entry names its content, its accounts or groups, and one trigger: ``at`` (once,
or ``next-slot`` of a queue), ``cron`` or ``every``. Entries made from events, feeds
and queues are of the same model, so everything downstream reads one kind of entry.
"""

# Annotations are not postponed (no ``from __future__ import annotations``): pydantic
# builds these models at import and would compile and evaluate each one from a string.
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pydantic import Field, field_validator, model_validator

from crosspost.loading.spec_types import (
    DEFAULT_GRACE,
    ID_PATTERN,
    MIN_INTERVAL,
    Approval,
    Duration,
    LocalDateTime,
    Missed,
    StrictModel,
    ThreadMode,
    TimeZone,
    one_or_many,
)

__all__ = ["PostSpec"]

#: How ``at: next-slot`` may be spelt.
_NEXT_SLOT = frozenset({"next-slot", "next_slot", "next slot"})


class PostSpec(StrictModel):
    """One ``posts:`` entry: which content goes where, and when."""

    id: str = Field(pattern=ID_PATTERN)
    content: str
    to: list[str] = Field(min_length=1)
    at: LocalDateTime | None = None
    cron: str | None = None
    every: Duration | None = None
    start: LocalDateTime | None = None
    timezone: TimeZone | None = None
    until: LocalDateTime | None = None
    missed: Missed = "publish"
    grace: Duration = DEFAULT_GRACE
    thread: ThreadMode = "auto"
    numbering: bool = False
    utm: bool = True
    enabled: bool = True
    #: ``required``: its content must be approved before it goes out (``none``: never).
    approval: Approval | None = None
    #: ``at: next-slot``: each account's next free queue slot, fixed when first planned.
    next_slot: bool = False

    @model_validator(mode="before")
    @classmethod
    def _at_next_slot(cls, data: Any) -> Any:
        at = data.get("at") if isinstance(data, Mapping) else None
        if isinstance(at, str) and at.strip().lower() in _NEXT_SLOT:
            return {**data, "at": None, "next_slot": True}
        return data

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return one_or_many(value)

    @field_validator("every")
    @classmethod
    def _not_too_often(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < MIN_INTERVAL:
            raise ValueError(f"every {value} is shorter than the minimum interval of 1m")
        return value

    @model_validator(mode="after")
    def _one_trigger(self) -> "PostSpec":
        given = [name for name in ("at", "cron", "every") if getattr(self, name) is not None]
        given += ["at"] if self.next_slot else []
        if len(given) != 1:
            found = ", ".join(given) or "none"
            raise ValueError(f"needs exactly one of at, cron, every (found: {found})")
        if self.start is not None and self.every is None:
            raise ValueError("start goes with every")
        return self
