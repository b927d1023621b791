"""A real Synapse homeserver on 127.0.0.1 (SQLite), one per test session, and its users.

Synapse comes from PyPI (``matrix-synapse`` in the ``test`` extras) and runs with
this interpreter. Its config is the one ``--generate-config`` writes, plus an
override file: a client listener on a free loopback port, no federation, no key
servers, generous login limits. The message rate limit keeps Synapse's default
(0.2/s, burst 10); users other than the one that tests it are let off it.

Users are registered through the admin API with the shared secret, as
``register_new_matrix_user`` does. The :class:`MatrixUser` calls here are plain
``requests``, independent of ``connectors/matrix/``: they are the members and the
reference reads the connector is compared with.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.realserver.conftest import free_ports, unavailable

SERVER_NAME = "crosspost.test"
START_TIMEOUT = 90
TIMEOUT = (5, 30)

_OVERRIDES = """\
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
presence:
  enabled: false
enable_registration: false
rc_login:
  address: {{per_second: 1000, burst_count: 1000}}
  account: {{per_second: 1000, burst_count: 1000}}
  failed_attempts: {{per_second: 1000, burst_count: 1000}}
rc_registration: {{per_second: 1000, burst_count: 1000}}
rc_joins:
  local: {{per_second: 1000, burst_count: 1000}}
rc_invites:
  per_room: {{per_second: 1000, burst_count: 1000}}
  per_user: {{per_second: 1000, burst_count: 1000}}
"""


@dataclass
class MatrixUser:
    """An account on the test server, signed in with its own token."""

    base: str
    user_id: str
    token: str
    password: str

    @property
    def localpart(self) -> str:
        return self.user_id[1:].partition(":")[0]

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One client-server call; the decoded answer, or an AssertionError naming the refusal."""
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        response = requests.request(
            method, f"{self.base}{path}", headers=headers, timeout=TIMEOUT, **kwargs
        )
        assert response.ok, f"{method} {path}: HTTP {response.status_code} {response.text[:300]}"
        return response.json() if response.content else None

    def create_room(self, alias: str | None = None) -> str:
        body: dict[str, Any] = {"preset": "public_chat"}
        if alias:
            body["room_alias_name"] = alias
        return str(self.call("POST", "/_matrix/client/v3/createRoom", json=body)["room_id"])

    def join(self, room: str) -> None:
        self.call("POST", f"/_matrix/client/v3/join/{quote(room, safe='')}", json={})

    def leave(self, room: str) -> None:
        self.call("POST", f"/_matrix/client/v3/rooms/{quote(room, safe='')}/leave", json={})

    def send(self, room: str, content: dict[str, Any], kind: str = "m.room.message") -> str:
        txn = f"t{time.monotonic_ns()}"
        path = f"/_matrix/client/v3/rooms/{quote(room, safe='')}/send/{kind}/{txn}"
        return str(self.call("PUT", path, json=content)["event_id"])

    def react(self, room: str, event_id: str, key: str) -> str:
        relates = {"rel_type": "m.annotation", "event_id": event_id, "key": key}
        return self.send(room, {"m.relates_to": relates}, "m.reaction")

    def event(self, room: str, event_id: str) -> dict[str, Any]:
        path = f"/_matrix/client/v3/rooms/{quote(room, safe='')}/event/{quote(event_id, safe='')}"
        return dict(self.call("GET", path))

    def messages(self, room: str, limit: int = 200) -> list[dict[str, Any]]:
        """The room's ``m.room.message`` events, oldest first."""
        params = {"dir": "b", "limit": limit, "filter": '{"types":["m.room.message"]}'}
        path = f"/_matrix/client/v3/rooms/{quote(room, safe='')}/messages"
        return list(reversed(self.call("GET", path, params=params)["chunk"]))


@dataclass
class Synapse:
    """A running homeserver and what is needed to make users on it."""

    process: subprocess.Popen[bytes]
    base: str
    shared_secret: str
    work: Path
    admin: MatrixUser | None = None

    def log_tail(self) -> str:
        log = self.work / "synapse.out"
        return log.read_text(encoding="utf-8", errors="replace")[-3000:] if log.exists() else ""

    def register(self, name: str, *, admin: bool = False, limited: bool = False) -> MatrixUser:
        """A user ``@name:crosspost.test``, free of the message rate limit unless ``limited``."""
        url = f"{self.base}/_synapse/admin/v1/register"
        nonce = requests.get(url, timeout=TIMEOUT).json()["nonce"]
        password = f"{name}-password"
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        fields = [nonce, name, password, "admin" if admin else "notadmin"]
        mac.update(b"\x00".join(value.encode() for value in fields))
        body = {
            "nonce": nonce,
            "username": name,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        made = requests.post(url, json=body, timeout=TIMEOUT)
        assert made.ok, made.text
        answer = made.json()
        user = MatrixUser(self.base, answer["user_id"], answer["access_token"], password)
        if not limited:
            self._unlimit(user)
        return user

    def _unlimit(self, user: MatrixUser) -> None:
        if self.admin is None:
            self.admin = self.register("admin", admin=True, limited=True)
            self._unlimit(self.admin)
        path = f"/_synapse/admin/v1/users/{quote(user.user_id, safe='')}/override_ratelimit"
        self.admin.call("POST", path, json={"messages_per_second": 0, "burst_count": 0})


def _generate_config(work: Path, port: int) -> list[Path]:
    command = [
        sys.executable,
        "-m",
        "synapse.app.homeserver",
        "--server-name",
        SERVER_NAME,
        "--config-path",
        str(work / "homeserver.yaml"),
        "--generate-config",
        "--report-stats=no",
        "--data-directory",
        str(work),
    ]
    done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"synapse --generate-config failed: {done.stderr[-2000:]}", pytrace=False)
    log_config = work / f"{SERVER_NAME}.log.config"
    log_config.write_text(log_config.read_text().replace("INFO", "WARNING"))
    overrides = work / "overrides.yaml"
    overrides.write_text(_OVERRIDES.format(port=port), encoding="utf-8")
    return [work / "homeserver.yaml", overrides]


def _shared_secret(config: Path) -> str:
    for line in config.read_text(encoding="utf-8").splitlines():
        if line.startswith("registration_shared_secret:"):
            return line.partition(":")[2].strip().strip('"')
    raise AssertionError("the generated config has no registration_shared_secret")


def _wait_until_up(server: Synapse) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            if requests.get(f"{server.base}/_matrix/client/versions", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"Synapse did not start:\n{server.log_tail()}", pytrace=False)


def start_synapse(work: Path) -> Synapse:
    """Generate a config in ``work`` and start Synapse; returns once it answers."""
    if importlib.util.find_spec("synapse") is None:
        unavailable("matrix-synapse is not installed (pip install -e '.[test]')")
    work.mkdir(parents=True, exist_ok=True)
    (port,) = free_ports(1)
    configs = _generate_config(work, port)
    command = [sys.executable, "-m", "synapse.app.homeserver"]
    for config in configs:
        command += ["--config-path", str(config)]
    with (work / "synapse.out").open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=work,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop_synapse ends it whole
        )
    server = Synapse(process, f"http://127.0.0.1:{port}", _shared_secret(configs[0]), work)
    try:
        _wait_until_up(server)
    except BaseException:
        stop_synapse(server)
        raise
    return server


def stop_synapse(server: Synapse) -> None:
    """SIGTERM the server's group, then SIGKILL what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.process.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    """One Synapse for the whole session, on a free loopback port."""
    server = start_synapse(tmp_path_factory.mktemp("synapse"))
    try:
        yield server
    finally:
        stop_synapse(server)
