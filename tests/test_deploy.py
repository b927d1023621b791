"""The service recipes in deploy/ (systemd unit, Dockerfile, compose file) and ``health``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from crosspost.cli import cli
from crosspost.cli.health import daemon_health
from crosspost.store import Store

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"


def _unit() -> dict[str, list[str]]:
    """``Key=value`` lines of the unit, as key → values (a key may repeat)."""
    found: dict[str, list[str]] = {}
    for line in (DEPLOY / "crosspost.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_unit_restarts_on_failure_as_a_dedicated_user() -> None:
    unit = _unit()
    assert unit["Restart"] == ["on-failure"]
    assert unit["User"] == ["crosspost"] and unit["Group"] == ["crosspost"]
    assert unit["ReadWritePaths"] == ["/srv/crosspost"]
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["EnvironmentFile"] == ["/etc/crosspost/env"]
    assert unit["ExecStart"][0].endswith("crosspost daemon")


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    installed = Path(sys.executable).parent / "crosspost"
    if not installed.is_file():
        pytest.skip(f"no crosspost command next to {sys.executable} to stand in for ExecStart")
    text = (DEPLOY / "crosspost.service").read_text(encoding="utf-8")
    unit = tmp_path / "crosspost.service"
    unit.write_text(text.replace("/opt/crosspost/bin/crosspost", str(installed)), encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "crosspost.service" not in done.stderr, done.stderr  # no warning about our unit


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load((DEPLOY / "compose.yaml").read_text("utf-8"))
    return data


def test_compose_runs_crosspost_and_postgres() -> None:
    compose = _compose()
    assert set(compose["services"]) == {"crosspost", "postgres"}
    app, db = compose["services"]["crosspost"], compose["services"]["postgres"]
    assert (REPO / "deploy" / app["build"]["context"] / app["build"]["dockerfile"]).is_file()
    assert app["healthcheck"]["test"][:3] == ["CMD", "crosspost", "health"]
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert app["environment"]["CROSSPOST_DATABASE"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in app["environment"]["CROSSPOST_DATABASE"]
    assert any(v.endswith(":/srv/crosspost") for v in app["volumes"])
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert ["pgdata:/var/lib/postgresql/data"] == db["volumes"]
    assert "pgdata" in compose["volumes"]


def test_dockerfile_copies_paths_that_exist_and_checks_health() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    copied = [
        source
        for line in text.splitlines()
        if line.startswith("COPY ")
        for source in line.split()[1:-1]
    ]
    assert copied, "the Dockerfile copies the sources"
    for source in copied:
        assert (REPO / source).exists(), f"COPY {source}: not in the repository"
    assert re.search(r'CMD \["crosspost", "health"', text)
    assert 'ENTRYPOINT ["crosspost"]' in text and "USER crosspost" in text


# ------------------------------------------------------------------- health


NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seen", "ok", "words"),
    [
        (NOW - timedelta(seconds=30), True, "daemon alive (last seen 2026-12-06 11:59:30Z, 30 s"),
        (
            NOW - timedelta(hours=3),
            False,
            "daemon not running (last seen 2026-12-06 09:00:00Z, 3 h",
        ),
        (None, False, "daemon never ran against this database"),
    ],
)
def test_daemon_health(seen: datetime | None, ok: bool, words: str) -> None:
    state = daemon_health(seen, NOW, timedelta(minutes=2))
    assert state.ok is ok
    assert state.describe().startswith(words)


def _health(tmp_path: Path, *args: str) -> tuple[int, str]:
    database = f"sqlite:///{tmp_path / 'h.db'}"
    result = CliRunner().invoke(cli, ["--database", database, "health", *args])
    return result.exit_code, result.output


def test_health_exits_1_before_the_daemon_ever_ran(tmp_path: Path) -> None:
    Store(f"sqlite:///{tmp_path / 'h.db'}").close()
    code, output = _health(tmp_path)
    assert code == 1
    assert "never ran" in output


def test_health_without_a_database_says_never_ran_and_creates_none(tmp_path: Path) -> None:
    code, output = _health(tmp_path)
    assert (code, output) == (1, "daemon never ran against this database\n")
    code, output = _health(tmp_path, "--json")
    assert code == 1
    assert json.loads(output) == {
        "ok": False,
        "alive_at": None,
        "stopped_at": None,
        "age_seconds": None,
        "max_age_seconds": 120.0,
    }
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("timezone: UTC\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["-s", str(schedule), "health"])
    assert result.exit_code == 1 and "never ran" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["schedule.yaml"]


def test_health_follows_the_heartbeat_age(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    alive = datetime.now(UTC) - timedelta(minutes=10)
    store.heartbeat("w1", alive, alive)
    store.close()
    assert _health(tmp_path)[0] == 1
    code, output = _health(tmp_path, "--max-age", "1h", "--json")
    assert code == 0, output
    data = json.loads(output)
    assert data["ok"] is True and 590 < data["age_seconds"] < 3600


def test_health_rejects_a_bad_duration(tmp_path: Path) -> None:
    code, output = _health(tmp_path, "--max-age", "soon")
    assert code == 2
    assert "--max-age" in output


def test_health_says_stopped_at_once_after_a_clean_stop(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    now = datetime.now(UTC)
    store.heartbeat("w1", now, now)
    assert _health(tmp_path)[0] == 0
    store.heartbeat_stopped("w1", now)
    store.close()
    code, output = _health(tmp_path)
    assert code == 1
    assert output.startswith("daemon stopped (")
    data = json.loads(_health(tmp_path, "--json")[1])
    assert data["ok"] is False and data["stopped_at"] is not None


def test_health_is_ok_while_another_daemon_runs(tmp_path: Path) -> None:
    """Of two daemons on one database, the one stopping last does not hide the other."""
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    now = datetime.now(UTC)
    store.heartbeat("w2", now - timedelta(seconds=3), now)
    store.heartbeat("w1", now, now)
    store.heartbeat_stopped("w1", now)
    assert _health(tmp_path)[0] == 0
    store.heartbeat("w2", now, now)  # a stopped daemon that starts again beats as alive
    store.heartbeat("w1", now, now)
    beat = store.last_heartbeat()
    assert beat is not None and beat.stopped_at is None
    store.close()


def test_a_stopped_daemon_reads_as_stopped_whatever_its_age() -> None:
    stopped = NOW - timedelta(minutes=1)
    state = daemon_health(stopped, NOW, timedelta(minutes=2), stopped_at=stopped)
    assert not state.ok
    assert state.describe() == "daemon stopped (2026-12-06 11:59:00Z, 1 min ago)"
