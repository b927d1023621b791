"""The bare baseline of ``check`` and ``plan``: the same work with the libraries alone.

``python -m benchmarks.bare check|plan schedule.yaml`` parses the schedule with
ruamel.yaml (round trip, as crosspost needs positions), computes occurrences with
APScheduler triggers in each entry's zone and renders every post with a plain
Jinja2 template: for ``check`` the next occurrence of every entry for every
account, for ``plan`` the first 200 occurrences of the next 7 days. No
validation, no thread splitting, no platform rules: what any tool must do at least.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from jinja2 import Environment
from ruamel.yaml import YAML

_TEMPLATE = "{{ body }}{% if link %}\n\n{{ link }}{% endif %}\n\n{{ tags | join(' #') }}"


def _trigger(post: dict[str, Any], zone: ZoneInfo) -> BaseTrigger:
    if "cron" in post:
        return CronTrigger.from_crontab(post["cron"], timezone=zone)
    if "every" in post:
        return IntervalTrigger(hours=int(str(post["every"]).rstrip("h")), timezone=zone)
    at = datetime.fromisoformat(str(post["at"])).replace(tzinfo=zone)
    return DateTrigger(run_date=at, timezone=zone)


def _occurrences(trigger: BaseTrigger, now: datetime, end: datetime, limit: int) -> list[datetime]:
    found: list[datetime] = []
    previous = None
    moment = trigger.get_next_fire_time(previous, now)
    while moment is not None and moment < end and len(found) < limit:
        found.append(moment)
        previous, moment = moment, trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return found


def run(command: str, path: Path) -> int:
    """Do ``command``'s work on ``path``; return how many posts were rendered."""
    root = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    content = {item["id"]: item for item in root["content"]}
    groups = root.get("groups", {})
    template = Environment(autoescape=False).from_string(_TEMPLATE)
    now = datetime.now(UTC)
    end = now + (timedelta(days=100 * 366) if command == "check" else timedelta(days=7))
    limit = 1 if command == "check" else 200
    rows = []
    for post in root["posts"]:
        accounts = [a for name in post["to"] for a in groups.get(name, [name])]
        trigger = _trigger(post, ZoneInfo(str(post.get("timezone", root["timezone"]))))
        for moment in _occurrences(trigger, now, end, limit):
            rows += [(moment, post["id"], account, post) for account in accounts]
    rows.sort(key=lambda row: row[:3])
    chosen = rows if command == "check" else rows[:limit]
    for moment, entry, account, post in chosen:
        item = content[post["content"]]
        link = item.get("link")
        template.render(
            body=item["body"],
            link=f"{link}?utm_source={account}&utm_campaign={entry}" if link else None,
            tags=item.get("tags", []),
            occurrence=moment,
        )
    return len(chosen)


if __name__ == "__main__":
    print(run(sys.argv[1], Path(sys.argv[2])))
