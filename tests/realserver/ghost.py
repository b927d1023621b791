"""A real Ghost on 127.0.0.1: SQLite, a fresh content folder, an owner and an integration.

Installed by ``scripts/install-ghost.sh`` (cached per user). The fixture starts Ghost in
development mode, finishes its set-up through the Admin API as a person would (owner,
then a staff session, then a custom integration) and hands the tests the site's
address and the integration's Admin API key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.realserver.conftest import free_ports, unavailable

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install-ghost.sh"
INSTALL_TIMEOUT = 1800
START_TIMEOUT = 240
OWNER = {
    "name": "Crosspost Test",
    "email": "owner@crosspost.invalid",
    "password": "x7!Kq2#mP9vW4zT",
}


@dataclass(frozen=True)
class GhostSite:
    """A running Ghost: its address and an Admin API key."""

    url: str
    admin_key: str
    work: Path

    def log_tail(self) -> str:
        log = self.work / "ghost.log"
        return log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""


def install_ghost() -> Path:
    """The Ghost directory, installed by the repo's script if needed."""
    try:
        done = subprocess.run(
            ["sh", str(SCRIPT)],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        unavailable(f"cannot install Ghost: {error}")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        said = [line for line in done.stderr.splitlines() if "complete log" not in line]
        last = next((line for line in reversed(said) if line.strip()), "no output")
        unavailable(f"cannot install Ghost (scripts/{SCRIPT.name}): {last}")
    return Path(lines[-1])


def _environment(ghost: Path, work: Path, port: int) -> dict[str, str]:
    content = work / "content"
    shutil.copytree(ghost / "content", content)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("database__", "url"))},
        "NODE_ENV": "development",
        "url": f"http://127.0.0.1:{port}",
        "server__host": "127.0.0.1",
        "server__port": str(port),
        "database__client": "sqlite3",
        "database__connection__filename": str(work / "ghost.db"),
        "database__useNullAsDefault": "true",
        "paths__contentPath": str(content),
        "logging__level": "warn",
        "logging__transports": '["stdout"]',
        # no mail server here: staff logins must not wait for an emailed code
        "security__staffDeviceVerification": "false",
        "mail__transport": "stub",
    }


def start_ghost(ghost: Path, work: Path) -> tuple[subprocess.Popen[bytes], GhostSite]:
    """Ghost started on a free port, answering, set up with an owner and an integration."""
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    with (work / "ghost.log").open("wb") as log:
        process = subprocess.Popen(
            [str(ghost / "node"), "index.js"],
            cwd=ghost,
            env=_environment(ghost, work, port),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    site = GhostSite(url, "", work)
    try:
        _wait_until_up(url, process, site)
        return process, GhostSite(url, _set_up(url), work)
    except BaseException:
        stop(process)
        raise


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop Ghost, killing it if it does not stop within 30 seconds."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], site: GhostSite) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Ghost exited with {process.returncode}:\n{site.log_tail()}")
        try:
            answer = requests.get(f"{url}/ghost/api/admin/site/", timeout=5)
            if answer.ok:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    pytest.fail(f"Ghost did not answer within {START_TIMEOUT}s:\n{site.log_tail()}")


def _set_up(url: str) -> str:
    """The owner, a staff session and a custom integration: its Admin API key."""
    admin = f"{url}/ghost/api/admin"
    origin = {"Origin": url, "Accept-Version": "v5.0"}
    setup = {**OWNER, "blogTitle": "Makerspace (test)"}
    answer = requests.post(
        f"{admin}/authentication/setup/", json={"setup": [setup]}, headers=origin, timeout=60
    )
    answer.raise_for_status()
    staff = requests.Session()
    staff.headers.update(origin)
    login = {"username": OWNER["email"], "password": OWNER["password"]}
    staff.post(f"{admin}/session/", json=login, timeout=30).raise_for_status()
    made = staff.post(
        f"{admin}/integrations/",
        params={"include": "api_keys"},
        json={"integrations": [{"name": "crosspost"}]},
        timeout=30,
    )
    made.raise_for_status()
    keys: list[dict[str, Any]] = made.json()["integrations"][0]["api_keys"]
    key = next(k for k in keys if k.get("type") == "admin")
    secret = str(key["secret"])
    # Ghost 6 answers with the key as its admin shows it ({id}:{secret}); older, the secret
    return secret if ":" in secret else f"{key['id']}:{secret}"
