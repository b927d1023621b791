"""Real Nostr relays (nostr-relay from PyPI, SQLite storage) on 127.0.0.1, and members.

The relay lives in its own virtualenv (``scripts/install-nostr-relay.sh``). Members
sign and send their events with code of their own (coincurve, hashlib, websockets),
deliberately independent of ``connectors/nostr/``: it also checks our serialization,
since each relay recomputes the id and verifies the signature of what it stores.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coincurve import PrivateKey
from websockets.sync.client import connect

from tests.realserver.conftest import REPO, free_ports, install_by_script, unavailable

INSTALL_SCRIPT = REPO / "scripts" / "install-nostr-relay.sh"
INSTALL_TIMEOUT = 600
START_TIMEOUT = 60
TIMEOUT = 10


def install_relay() -> Path:
    """The relay's virtualenv, installed by the repo's script if needed (cached per user)."""
    return install_by_script(INSTALL_SCRIPT, "nostr-relay", INSTALL_TIMEOUT)


@dataclass
class Relay:
    """One running relay."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """End the relay's process group (uvicorn and its workers)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=10)
                return
            except subprocess.TimeoutExpired:
                continue


def start_relay(venv: Path, work: Path, name: str) -> Relay:
    """A relay on a free loopback port, its events in a SQLite file under ``work``."""
    (port,) = free_ports(1)
    work.mkdir(parents=True, exist_ok=True)
    config = work / f"{name}.yaml"
    config.write_text(
        textwrap.dedent(
            f"""
            DEBUG: false
            relay_name: crosspost test relay {name}
            storage:
              sqlalchemy.url: sqlite+aiosqlite:///{work / name}.sqlite3
              num_concurrent_reqs: 4
              num_concurrent_adds: 1
              validators:
                - nostr_relay.validators.is_not_too_large
                - nostr_relay.validators.is_signed
                - nostr_relay.validators.is_recent
            gunicorn:
              bind: 127.0.0.1:{port}
              loglevel: warning
            authentication:
              enabled: false
            max_event_size: 200000
            """
        ),
        encoding="utf-8",
    )
    log = work / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(venv / "bin" / "nostr-relay"), "-c", str(config), "serve", "--use-uvicorn"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=work,
            start_new_session=True,  # its own process group: stop() ends every child
        )
    relay = Relay(f"ws://127.0.0.1:{port}", port, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return relay
        except OSError:
            time.sleep(0.2)
    relay.stop()
    tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
    unavailable(f"nostr-relay {name} did not start within {START_TIMEOUT}s: {tail}")
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- members


class Member:
    """Another Nostr user: its own key, its own signing, plain websockets."""

    def __init__(self) -> None:
        self.key = PrivateKey(secrets.token_bytes(32))
        self.pubkey = self.key.public_key_xonly.format().hex()

    def event(
        self, kind: int, content: str, tags: list[list[str]], created: int | None = None
    ) -> dict[str, Any]:
        created = int(time.time()) if created is None else created
        serial = [0, self.pubkey, created, kind, tags, content]
        text = json.dumps(serial, separators=(",", ":"), ensure_ascii=False)
        event_id = hashlib.sha256(text.encode()).hexdigest()
        signature = self.key.sign_schnorr(bytes.fromhex(event_id)).hex()
        return {
            "id": event_id,
            "pubkey": self.pubkey,
            "created_at": created,
            "kind": kind,
            "tags": tags,
            "content": content,
            "sig": signature,
        }

    def send(
        self,
        relays: list[str],
        kind: int,
        content: str,
        tags: list[list[str]],
        created: int | None = None,
    ) -> str:
        """Sign and send one event to each of ``relays`` (created now, unless given); its id."""
        event = self.event(kind, content, tags, created)
        for url in relays:
            answer = exchange(url, ["EVENT", event])
            assert answer[0] == "OK" and answer[2] is True, answer
        return str(event["id"])


def exchange(url: str, message: list[Any]) -> list[Any]:
    """Send one message and return the first answer that is not a NOTICE."""
    with connect(url, open_timeout=TIMEOUT) as ws:
        ws.send(json.dumps(message))
        while True:
            answer = json.loads(ws.recv(timeout=TIMEOUT))
            if answer[0] != "NOTICE":
                return list(answer)


def query(url: str, *filters: dict[str, Any]) -> list[dict[str, Any]]:
    """Every event a relay holds for ``filters``, read up to EOSE."""
    found = []
    with connect(url, open_timeout=TIMEOUT) as ws:
        ws.send(json.dumps(["REQ", "t", *filters]))
        while True:
            answer = json.loads(ws.recv(timeout=TIMEOUT))
            if answer[0] == "EOSE":
                return found
            if answer[0] == "EVENT":
                found.append(answer[2])
