"""What a feed fetch costs: parsing each format, and deciding and recording new entries.

``python -m benchmarks.feeds_poll [N]`` builds feeds of N entries (default 500) in RSS,
Atom and JSON Feed, serves them from the tests' feed server on 127.0.0.1 and prints, per
format: the document's size, the time to parse it, and the time of a whole first fetch
into a fresh SQLite store (GET, parse, the seen check, N entries recorded and, with
``since: 2020-01-01`` and ``max_per_fetch: 100``, the posts of 100 of them to two
accounts), then of a second fetch that finds nothing new (no validators: read whole).
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crosspost.loading.project import load_project
from crosspost.publishing.feeds import FeedPoller
from crosspost.publishing.feeds_parse import parse_feed
from crosspost.store import Store
from tests.feedserver import Doc, Item, atom, json_feed, rss, serving

FORMATS = {
    "rss": (rss, "application/rss+xml"),
    "atom": (atom, "application/atom+xml"),
    "json": (json_feed, "application/feed+json"),
}


def _items(count: int) -> list[Item]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    summary = "<p>" + "A paragraph of the entry, with <b>some</b> markup. " * 8 + "</p>"
    return [
        Item(f"urn:e:{n}", f"Entry {n}", f"https://b.example/{n}", summary,
             start + timedelta(hours=n), ("news", "tools"))
        for n in range(count)
    ]  # fmt: skip


def _project(folder: Path, url: str) -> Path:
    path = folder / "schedule.yaml"
    text = f"""\
        accounts:
          a: {{connector: folder, path: a}}
          b: {{connector: folder, path: b}}
        feeds:
          - {{id: f, url: "{url}", to: [a, b], since: 2020-01-01, max_per_fetch: 100}}
        """
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def main(count: int) -> None:
    server_run = serving()
    server = next(server_run)
    print(f"{count} entries per feed")
    for name, (build, kind) in FORMATS.items():
        body = build(_items(count))
        server.docs[f"/{name}"] = Doc(body, content_type=kind)
        parse = _timed(lambda body=body, kind=kind: parse_feed(body, kind, "https://b.example/"))
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            project = load_project(_project(folder, server.url(f"/{name}")))
            store = Store(f"sqlite:///{folder}/x.db")
            poller = FeedPoller(store)
            feed = project.feeds[0]
            first = _timed(lambda p=poller, j=project, f=feed: p.poll(j, f))
            second = _timed(lambda p=poller, j=project, f=feed: p.poll(j, f))
            store.close()
        print(
            f"{name:5} {len(body) / 1024:7.0f} KiB  parse {parse * 1000:6.0f} ms  "
            f"first fetch {first * 1000:6.0f} ms  again {second * 1000:6.0f} ms"
        )
    server_run.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
