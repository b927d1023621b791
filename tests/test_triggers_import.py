"""The planning package imports APScheduler's util without asyncio; asyncio is whole afterwards."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys, inspect
import crosspost.planning.plan
import apscheduler.util
print("BEFORE", "asyncio" in sys.modules)
import asyncio
print("WHOLE", hasattr(asyncio, "run") and hasattr(asyncio, "get_running_loop"))
print("SAME", apscheduler.util.iscoroutinefunction is inspect.iscoroutinefunction)
"""


def _probe(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def test_the_triggers_leave_asyncio_to_the_first_that_imports_it() -> None:
    assert _probe(PROBE) == ["BEFORE False", "WHOLE True", "SAME True"]


def test_asyncio_imported_first_is_the_one_apscheduler_uses() -> None:
    """Before Python 3.14 APScheduler takes asyncio's test (inspect's from 3.14 on)."""
    code = "import asyncio, crosspost.planning.plan, apscheduler.util\n"
    code += "print(apscheduler.util.iscoroutinefunction is asyncio.iscoroutinefunction)"
    assert _probe(code) == [str(sys.version_info < (3, 14))]


def test_the_triggers_still_fire() -> None:
    from datetime import UTC, datetime

    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab("0 18 * * mon", timezone="Europe/Kyiv")
    fire = trigger.get_next_fire_time(None, datetime(2026, 12, 7, tzinfo=UTC))
    assert fire is not None and fire.isoformat() == "2026-12-07T18:00:00+02:00"
