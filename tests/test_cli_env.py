"""Global options from the environment, log lines, and urllib3's retries kept quiet."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from crosspost.cli import cli
from crosspost.logs import TextFormatter, configure, in_colour, iso_time
from crosspost.store import Store

ENV_OPTIONS = {
    "--schedule": "CROSSPOST_SCHEDULE",
    "--database": "CROSSPOST_DATABASE",
    "--log-level": "CROSSPOST_LOG_LEVEL",
    "--log-format": "CROSSPOST_LOG_FORMAT",
}


def test_help_names_the_environment_variables() -> None:
    result = CliRunner().invoke(cli, ["--help"], terminal_width=200)
    lines = result.output.splitlines()
    for option, variable in ENV_OPTIONS.items():
        described = " ".join(line for line in lines if option in line)
        assert variable in " ".join(lines), variable
        assert described, option


def test_schedule_and_database_come_from_the_environment(example_project: Path) -> None:
    env = {
        "CROSSPOST_SCHEDULE": str(example_project),
        "CROSSPOST_DATABASE": f"sqlite:///{example_project.parent / 'env.db'}",
    }
    result = CliRunner().invoke(cli, ["check"], env=env)
    assert result.exit_code == 0, result.output
    store, now = Store(env["CROSSPOST_DATABASE"]), datetime.now(UTC)
    store.heartbeat("w", now, now)
    store.close()
    result = CliRunner().invoke(cli, ["health"], env=env)
    assert result.exit_code == 0, result.output  # the daemon beat in this database


def test_log_level_and_format_come_from_the_environment(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr("crosspost.cli.configure", lambda *args: seen.append(args))
    env = {"CROSSPOST_LOG_LEVEL": "debug", "CROSSPOST_LOG_FORMAT": "json"}
    CliRunner().invoke(cli, ["-s", str(example_project), "check"], env=env)
    assert seen == [("DEBUG", "json")]


def test_a_bad_log_level_in_the_environment_is_bad_input() -> None:
    result = CliRunner().invoke(cli, ["check"], env={"CROSSPOST_LOG_LEVEL": "loud"})
    assert result.exit_code == 2
    assert "--log-level" in result.output


def test_log_times_are_iso_8601_with_their_zone() -> None:
    kyiv = timezone(timedelta(hours=2))
    shown = iso_time(datetime(2026, 12, 6, 14, 0, 5, 123456, tzinfo=kyiv))
    parsed = datetime.fromisoformat(shown)
    assert parsed.utcoffset() is not None
    assert parsed == datetime(2026, 12, 6, 14, 0, 5, tzinfo=kyiv)


def test_a_log_record_is_one_line_on_stderr_however_long(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A service manager keeps each printed line as an entry: a record is not wrapped into
    several, and stdout stays the command's own (``--json``)."""
    url = "https://social.example/@club/" + "1" * 200
    configure("INFO", "text")
    try:
        logging.getLogger("crosspost.test").info("published launch to club: %s", url)
    finally:
        configure("WARNING", "text")
    captured = capfd.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    when, level, message = line.split(maxsplit=2)
    assert datetime.fromisoformat(when).utcoffset() is not None
    assert (level, message) == ("INFO", f"published launch to club: {url}")


def test_log_lines_drop_control_characters_and_show_colour_only_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = logging.LogRecord("x", logging.WARNING, "f", 1, "answer: %s", ("\x1b[2Jgone",), None)
    assert TextFormatter().format(record).endswith("WARNING  answer: [2Jgone")
    coloured = TextFormatter(colour=True).format(record)
    assert "\x1b[33mWARNING \x1b[0m answer: [2Jgone" in coloured
    assert coloured.count("\x1b") == 2  # the level's colour only

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert in_colour(Terminal()) and not in_colour(object())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not in_colour(Terminal())


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _get_with_retries(url: str) -> None:
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=Retry(total=2, backoff_factor=0)))
    with pytest.raises(requests.ConnectionError):
        session.get(url, timeout=2)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_urllib3_retries_never_reach_the_terminal(
    fmt: str, capfd: pytest.CaptureFixture[str]
) -> None:
    configure("WARNING", fmt)
    try:
        _get_with_retries(f"http://127.0.0.1:{_closed_port()}/api")
        logging.getLogger("crosspost.test").warning("our one line")
    finally:
        configure("WARNING", "text")
    captured = capfd.readouterr()
    shown = captured.out + captured.err
    assert "our one line" in shown
    assert "Retrying" not in shown and "urllib3" not in shown


def test_urllib3_retries_are_shown_when_debugging(caplog: pytest.LogCaptureFixture) -> None:
    configure("DEBUG", "text")
    try:
        with caplog.at_level(logging.DEBUG):
            _get_with_retries(f"http://127.0.0.1:{_closed_port()}/api")
    finally:
        configure("WARNING", "text")
    assert any("Retrying" in r.getMessage() for r in caplog.records)
