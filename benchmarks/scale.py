"""An agency-sized project written to a folder: N entries × 10 accounts, for ``check``/``plan``.

Ten accounts on three platforms (four Mastodon, three Bluesky, three folders), one group
holding them all, 500 inline content items (a third of them long enough to become
threads, half with a link) and N entries spread over ``cron``, ``every`` and ``at``
triggers in three time zones. Nothing here talks to a network: ``check`` and ``plan``
send nothing and the Mastodon instance limits are the configured ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = ["ACCOUNTS", "CONTENT_ITEMS", "write_project"]

ACCOUNTS = 10
CONTENT_ITEMS = 500
_ZONES = ("Europe/Kyiv", "America/New_York", "Asia/Tokyo")
_WORDS = "community makers gather every week to repair share and learn together".split()


def _accounts() -> str:
    lines = []
    for n in range(4):
        lines.append(
            f"  m{n}: {{connector: mastodon, instance: 'https://m{n}.example', "
            "access_token: '${SCALE_MASTODON_TOKEN}', max_characters: 500}"
        )
    for n in range(3):
        lines.append(
            f"  b{n}: {{connector: bluesky, handle: 'scale{n}.bsky.social', "
            "app_password: '${SCALE_BLUESKY_PASSWORD}'}"
        )
    for n in range(3):
        lines.append(f"  f{n}: {{connector: folder, path: out/f{n}}}")
    return "\n".join(lines)


def _content(items: int) -> str:
    lines = []
    for n in range(items):
        words = 120 if n % 3 == 0 else 25  # a third become threads on Bluesky
        body = " ".join(_WORDS[(n + i) % len(_WORDS)] for i in range(words))
        link = f", link: 'https://example.org/news/{n}'" if n % 2 else ""
        lines.append(
            f"  - {{id: c{n}, body: '{body}. Post {n}.', tags: [news, week{n % 7}]{link}}}"
        )
    return "\n".join(lines)


def _trigger(n: int, now: datetime) -> str:
    kind = n % 3
    if kind == 0:
        return f"cron: '{n % 60} {n % 24} * * *'"
    if kind == 1:
        return f"every: {1 + n % 12}h"
    at = now + timedelta(days=1 + n % 300, minutes=n % 1440)
    return f"at: '{at:%Y-%m-%d %H:%M}'"


def _posts(entries: int, items: int, now: datetime) -> str:
    return "\n".join(
        f"  - {{id: e{n}, content: c{n % items}, to: [everyone], {_trigger(n, now)}, "
        f"timezone: {_ZONES[n % len(_ZONES)]}}}"
        for n in range(entries)
    )


def write_project(folder: Path, entries: int, items: int = CONTENT_ITEMS) -> Path:
    """Write ``schedule.yaml`` and ``.env`` for ``entries`` entries into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    names = [f"m{n}" for n in range(4)] + [f"b{n}" for n in range(3)] + [f"f{n}" for n in range(3)]
    text = (
        "timezone: UTC\n"
        f"accounts:\n{_accounts()}\n"
        f"groups:\n  everyone: [{', '.join(names)}]\n"
        f"content:\n{_content(items)}\n"
        f"posts:\n{_posts(entries, items, now)}\n"
    )
    (folder / ".env").write_text(
        "SCALE_MASTODON_TOKEN=scale-token\nSCALE_BLUESKY_PASSWORD=abcd-efgh-ijkl-mnop\n",
        encoding="utf-8",
    )
    path = folder / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    return path
