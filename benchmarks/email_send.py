"""Newsletter send rate: what recording every recipient in the store costs.

``python -m benchmarks.email_send [N]`` sends one newsletter to N recipients (default
500) through a real SMTP server on loopback (aiosmtpd, from the test extras), twice:
through ``crosspost publish`` (each recipient recorded as started and done in a SQLite
store, two commits each) and through the bare connector (steps kept in memory). It
prints messages per second of both and the ratio.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from connectors.base import RenderedPost
from connectors.email import EmailConnector
from crosspost.cli import cli
from tests.realserver.smtp import Handler, running
from tests.realserver.test_email import write_project


def _people(folder: Path, count: int) -> None:
    rows = "".join(f"member{n}@example.org,Member {n}\n" for n in range(count))
    (folder / "subscribers.csv").write_text("email,name\n" + rows, encoding="utf-8")


def _through_crosspost(folder: Path, port: int, count: int) -> float:
    schedule = write_project(folder, port)
    text = schedule.read_text(encoding="utf-8").replace("timeout: 20", "max_per_minute: 10000")
    schedule.write_text(text, encoding="utf-8")
    _people(folder, count)
    args = ["-s", str(schedule), "--database", f"sqlite:///{folder}/x.db", "publish"]
    started = time.perf_counter()
    result = CliRunner().invoke(
        cli, [*args, "content/open-night.md", "--to", "news"], env={"SMTP_PASSWORD": "pw-123"}
    )
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    return elapsed


def _bare(folder: Path, port: int, count: int) -> float:
    _people(folder, count)
    settings = EmailConnector.Settings(
        host="127.0.0.1",
        port=port,
        security="none",
        username="news",
        password="pw-123",
        from_address="news@example.org",
        recipients=Path("subscribers.csv"),
        base_dir=folder,
        max_per_minute=10_000,
    )
    post = RenderedPost(parts=("<p>Open night</p>",), alternative="Open night", title="Open")
    started = time.perf_counter()
    EmailConnector("news", settings).publish(post, "crosspost-bench")
    return time.perf_counter() - started


def main(count: int) -> None:
    """Send to ``count`` recipients both ways and print the rates."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "a").mkdir()
        (base / "b").mkdir()
        with running(Handler()) as server:
            recorded = _through_crosspost(base / "a", server.port, count)
        with running(Handler()) as server:
            bare = _bare(base / "b", server.port, count)
    print(f"{count} recipients, steps in SQLite: {count / recorded:.0f} messages/s")
    print(f"{count} recipients, steps in memory: {count / bare:.0f} messages/s")
    print(f"cost of recording: {recorded / bare:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
