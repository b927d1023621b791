"""Real servers nobody here wrote, started on 127.0.0.1 for the tests of this folder.

Marked ``realserver``: ``pytest -m "not realserver"`` leaves them out. When a server
cannot be installed or started they skip with a one-line reason, except under
``CI=true``, where a missing server is a failure.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO / "scripts" / "install-bluesky-devenv.sh"
LAUNCHER = Path(__file__).resolve().parent / "bluesky_devenv.mjs"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
REDIS = "127.0.0.1:6379"
#: Bounds: a cached install is instant, a first one takes minutes (native modules).
INSTALL_TIMEOUT = 1200
START_TIMEOUT = 180
SYNC_TIMEOUT = 60
PREFIX = "CROSSPOST-DEVENV "


def unavailable(reason: str) -> None:
    """Skip with ``reason``, or fail when CI must run every real-server test."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"real server unavailable in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 right now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def install_by_script(script: Path, what: str, timeout: float = INSTALL_TIMEOUT) -> Path:
    """The directory ``script`` prints last, after installing ``what`` if needed.

    The scripts cache per user, so this is instant once installed; when one cannot
    install, the tests that need it are :func:`unavailable` with its last word.
    """
    try:
        done = subprocess.run(
            ["sh", str(script)],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        unavailable(f"cannot install {what}: {error}")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        said = [line for line in done.stderr.splitlines() if "complete log" not in line]
        last = next((line for line in reversed(said) if line.strip()), "no output")
        unavailable(f"cannot install {what} (scripts/{script.name}): {last}")
    return Path(lines[-1])


def install_devenv() -> Path:
    """The dev-env directory, installed by the repo's script if needed (cached per user)."""
    return install_by_script(INSTALL_SCRIPT, "@atproto/dev-env")


def check_postgres() -> None:
    try:
        psycopg.connect(POSTGRES, connect_timeout=5).close()
    except psycopg.Error as error:
        unavailable(f"no PostgreSQL at {POSTGRES} for the Bluesky AppView: {error}")


@dataclass
class DevEnv:
    """A running ``@atproto/dev-env`` network and the pipe that drives it."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str]
    schema: str
    work: Path
    info: dict[str, Any] = field(default_factory=dict)

    def stderr_tail(self) -> str:
        """The end of what the network logged, for a failure message."""
        log = self.work / "devenv.stderr"
        return log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""

    @property
    def pds(self) -> str:
        """Base URL of the PDS (accounts, writes; proxies ``app.bsky.*`` to the AppView)."""
        return str(self.info["pds"])

    @property
    def appview(self) -> str:
        """Base URL of the AppView (the counts a person sees in the app)."""
        return str(self.info["appview"])

    def message(self, timeout: float) -> dict[str, Any]:
        """The next protocol line of the launcher, waiting at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=min(1.0, max(deadline - time.monotonic(), 0.01)))
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if line.startswith(PREFIX):
                parsed: dict[str, Any] = json.loads(line[len(PREFIX) :])
                return parsed
        raise TimeoutError(
            f"dev-env said nothing within {timeout:.0f}s (exit {self.process.poll()})"
        )

    def sync(self) -> None:
        """Wait until the AppView has indexed everything the PDS has written."""
        assert self.process.stdin is not None
        self.process.stdin.write("sync\n")
        self.process.stdin.flush()
        answer = self.message(SYNC_TIMEOUT)
        assert answer.get("synced"), answer


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


def start_devenv(devenv_dir: Path, work: Path) -> DevEnv:
    schema = "xp_" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10))
    plc, pds, appview, ozone = free_ports(4)
    config = {
        "devenv": str(devenv_dir),
        "postgres": POSTGRES,
        "redis": REDIS,
        "schema": schema,
        "plc": plc,
        "pds": pds,
        "appview": appview,
        "ozone": ozone,
    }
    work.mkdir(parents=True, exist_ok=True)
    stderr = (work / "devenv.stderr").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [str(devenv_dir / "node"), str(LAUNCHER), json.dumps(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        cwd=work,
        env={**os.environ, "TMPDIR": str(work), "LOG_ENABLED": "false"},
        start_new_session=True,  # its own process group: stop() ends every child
    )
    stderr.close()
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    return DevEnv(process, lines, schema, work)


def stop_devenv(env: DevEnv) -> None:
    """Close stdin (the launcher shuts the network down), then end the group for good."""
    process = env.process
    try:
        if process.stdin is not None:
            process.stdin.close()
        process.wait(timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            continue
    drop_schemas(env.schema)


def drop_schemas(schema: str) -> None:
    with psycopg.connect(POSTGRES, autocommit=True, connect_timeout=5) as conn:
        for prefix in ("appview", "bsync", "ozone"):
            conn.execute(f'DROP SCHEMA IF EXISTS "{prefix}_{schema}" CASCADE')


@pytest.fixture(scope="session")
def bluesky_devenv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevEnv]:
    """Bluesky's own test network (PLC, PDS, AppView) on loopback, for the whole session."""
    devenv_dir = install_devenv()
    check_postgres()
    env = start_devenv(devenv_dir, tmp_path_factory.mktemp("bluesky-devenv"))
    try:
        try:
            env.info = env.message(START_TIMEOUT)
        except TimeoutError as error:
            env.info = {"error": str(error)}
        if not env.info.get("ready"):
            pytest.fail(f"dev-env did not start: {env.info}\n{env.stderr_tail()}", pytrace=False)
        yield env
    finally:
        stop_devenv(env)


# The Matrix homeserver, one per session for every module that asks for it (its module
# imports the helpers above, so it comes last).
from tests.realserver.synapse import synapse  # noqa: E402, F401
