"""Who holds a lease, and whether that process is gone.

A claim records the claiming process (host, pid, start time). A restart on the
same host need not wait out the lease of a process that died: if that pid is
not running, or runs with another start time (the pid was reused), or its
daemon stopped beating for longer than a bound, its leases expire at once.
Processes on other hosts cannot be looked at from here; their rows keep the
lease rule (PostgreSQL with several hosts).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["Holder", "LeaseRecord", "gone_holders", "host_identity", "is_gone", "this_process"]

#: Start times closer than this are the same process (they are read with rounding).
_SAME_START = 1.0


@dataclass(frozen=True)
class Holder:
    """A process that may hold leases."""

    host: str
    pid: int
    #: Epoch seconds the process started at (``None``: not recorded).
    process_start: float | None


def this_process() -> Holder:
    """The current process."""
    return Holder(host_identity(), os.getpid(), _start_of(os.getpid()))


def host_identity() -> str:
    """The host name, plus the pid namespace where there is one.

    Containers sharing the host's name (``--network host``) have pids of their own:
    a pid of another namespace must never be looked up here.
    """
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}/{namespace}"


def _start_of(pid: int) -> float | None:
    import psutil  # only when a process is looked at: commands that read the store never do

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.Error, OSError):
        return None


def is_gone(holder: Holder) -> bool:
    """Whether ``holder``, a process of this host, is no longer running."""
    import psutil

    if not psutil.pid_exists(holder.pid):
        return True
    start = _start_of(holder.pid)
    if start is None:  # it ended between the two questions
        return not psutil.pid_exists(holder.pid)
    recorded = holder.process_start
    return recorded is not None and abs(start - recorded) > _SAME_START


@dataclass(frozen=True)
class LeaseRecord:
    """A worker holding leases, as the store knows it."""

    worker: str
    holder: Holder
    #: When that worker's daemon last beat, if it is a daemon.
    alive_at: datetime | None


def gone_holders(
    records: list[LeaseRecord], me: Holder, now: datetime, stale_after: timedelta
) -> list[str]:
    """Workers on the host of ``me`` whose leases can expire now: process gone or silent.

    This process's own workers are alive by definition; their leases keep the rule.
    """
    gone = []
    for record in records:
        if record.holder.host != me.host or record.holder.pid == me.pid:
            continue
        alive_at = record.alive_at
        if alive_at is not None and alive_at.tzinfo is None:
            alive_at = alive_at.replace(tzinfo=UTC)
        silent = alive_at is not None and now - alive_at > stale_after
        if silent or is_gone(record.holder):
            gone.append(record.worker)
    return gone
