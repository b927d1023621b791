"""Faults the mock server can inject, and the thread-safe rule book that picks them.

A :class:`FaultRule` names a method and a path pattern (``:id`` matches one
segment, ``*`` anything) and fires on the next matching requests (``times``), on
the Nth one (``nth``), or with a probability drawn from the book's seeded RNG.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_SLOW_SECONDS", "Fault", "FaultBook", "FaultRule"]

#: A slow answer never waits longer than this, so no test can hang on it.
MAX_SLOW_SECONDS = 30.0

_KINDS = ("status", "rate_limit", "slow", "drop", "unauthorized")


@dataclass(frozen=True)
class Fault:
    """How one request misbehaves. Build it with the class methods.

    Attributes:
        kind: ``status``, ``rate_limit``, ``slow``, ``drop`` or ``unauthorized``
            (the control API also takes ``accept_then_drop``: ``drop`` with ``after``).
        code: HTTP status for ``status``.
        retry_after: seconds announced by ``rate_limit``.
        seconds: delay of ``slow`` before the request is handled normally.
        after: the request takes effect (e.g. the status is stored) before the
            fault replaces the answer.
    """

    kind: str
    code: int = 500
    retry_after: int = 30
    seconds: float = 0.0
    after: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {_KINDS}")
        if not 100 <= self.code <= 599:
            raise ValueError(f"HTTP status out of range: {self.code}")
        if not 0 <= self.seconds <= MAX_SLOW_SECONDS:
            raise ValueError(f"slow faults last 0..{MAX_SLOW_SECONDS} s, not {self.seconds}")
        if self.retry_after < 0:
            raise ValueError("retry_after must not be negative")

    @classmethod
    def status(cls, code: int = 500, *, after: bool = False) -> Fault:
        """Answer ``code`` with ``{"error": <reason>}``; with ``after``, act first."""
        return cls("status", code=code, after=after)

    @classmethod
    def rate_limit(cls, retry_after: int = 30) -> Fault:
        """429 with ``Retry-After`` and ``X-RateLimit-*`` headers."""
        return cls("rate_limit", code=429, retry_after=retry_after)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Wait ``seconds`` (at most :data:`MAX_SLOW_SECONDS`), then answer normally."""
        return cls("slow", seconds=seconds)

    @classmethod
    def accept_then_drop(cls) -> Fault:
        """Handle the request (store the post), then close the socket without answering."""
        return cls("drop", after=True)

    @classmethod
    def drop(cls) -> Fault:
        """Close the socket without acting on the request or answering it."""
        return cls("drop")

    @classmethod
    def unauthorized(cls) -> Fault:
        """401 ``The access token is invalid``, whatever token was sent."""
        return cls("unauthorized", code=401)

    def to_json(self) -> dict[str, Any]:
        """The fault as the control API reads and writes it."""
        return {
            "kind": self.kind,
            "code": self.code,
            "retry_after": self.retry_after,
            "seconds": self.seconds,
            "after": self.after,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """Parse a fault; raises ``ValueError`` on a bad one."""
        unknown = set(data) - {"kind", "code", "retry_after", "seconds", "after"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        kind = str(data.get("kind", ""))
        accepted = kind == "accept_then_drop"
        kind = "drop" if accepted else kind
        defaults = {"rate_limit": 429, "unauthorized": 401}
        return cls(
            kind,
            code=int(data.get("code", defaults.get(kind, 500))),
            retry_after=int(data.get("retry_after", 30)),
            seconds=float(data.get("seconds", 0.0)),
            after=bool(data.get("after", accepted)),
        )


def _pattern(path: str) -> re.Pattern[str]:
    parts = [
        "[^/]+" if seg == ":id" else ".*" if seg == "*" else re.escape(seg)
        for seg in path.split("/")
    ]
    return re.compile("/".join(parts) + "/?")


@dataclass
class FaultRule:
    """When to inject a fault.

    Attributes:
        method: HTTP method, or ``*`` for any.
        path: ``/api/v1/statuses``, ``/api/v1/statuses/:id``, ``*`` …
        fault: what to do.
        times: fire at most this many times (``None``: no limit).
        nth: fire only on the Nth matching request, counted from when the rule was added.
        probability: fire with this chance (seeded RNG of the book).
    """

    method: str
    path: str
    fault: Fault
    times: int | None = 1
    nth: int | None = None
    probability: float | None = None
    id: int = 0
    seen: int = 0
    fired: int = 0
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or null for no limit)")
        if self.nth is not None and self.nth < 1:
            raise ValueError("nth counts from 1")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within 0..1")
        self._regex = _pattern(self.path)

    def matches(self, method: str, path: str) -> bool:
        """Whether a request counts for this rule."""
        return self.method in ("*", method.upper()) and self._regex.fullmatch(path) is not None

    @property
    def exhausted(self) -> bool:
        """The rule can never fire again."""
        if self.times is not None and self.fired >= self.times:
            return True
        return self.nth is not None and self.seen >= self.nth

    def to_json(self) -> dict[str, Any]:
        """The rule as the control API shows it."""
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "fault": self.fault.to_json(),
            "times": self.times,
            "nth": self.nth,
            "probability": self.probability,
            "seen": self.seen,
            "fired": self.fired,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        """Parse a rule posted to ``/_mock/faults``; raises ``ValueError`` on a bad one."""
        fault = data.get("fault")
        if not isinstance(fault, Mapping):
            raise ValueError('a rule needs a "fault" object')
        probability = data.get("probability")
        default_times = None if probability is not None or data.get("nth") else 1
        times = data.get("times", default_times)
        nth = data.get("nth")
        return cls(
            method=str(data.get("method", "*")),
            path=str(data.get("path", "*")),
            fault=Fault.from_json(fault),
            times=None if times is None else int(times),
            nth=None if nth is None else int(nth),
            probability=None if probability is None else float(probability),
        )


class FaultBook:
    """The rules in force; safe to use from the test and the server threads at once."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self._seed = seed
        self._rng = random.Random(seed)

    def add(self, rule: FaultRule) -> int:
        """Add ``rule`` after the others; returns its id."""
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
            return rule.id

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault for this request, if a rule fires; the first firing rule wins.

        Every matching rule counts the request (for ``nth``), even when an
        earlier rule already fired.
        """
        chosen: Fault | None = None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                rule.seen += 1
                if chosen is None and self._fires(rule):
                    rule.fired += 1
                    chosen = rule.fault
            self._rules = [r for r in self._rules if not r.exhausted]
        return chosen

    def _fires(self, rule: FaultRule) -> bool:
        if rule.nth is not None and rule.seen != rule.nth:
            return False
        return rule.probability is None or self._rng.random() < rule.probability

    def rules(self) -> list[dict[str, Any]]:
        """The rules still in force."""
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def clear(self) -> None:
        """Drop every rule and restart the RNG from the seed."""
        with self._lock:
            self._rules.clear()
            self._rng = random.Random(self._seed)
