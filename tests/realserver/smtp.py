"""A real SMTP server (aiosmtpd, RFC 5321 in pure Python) on 127.0.0.1 for the e-mail tests.

It records every message it accepted, can ask for a login, speak STARTTLS or
implicit TLS with a certificate made on the spot (``openssl``), refuse given
recipients, and stall at the n-th ``RCPT`` or ``DATA`` until told to go on, so
that a test can kill the sender in the middle of a newsletter.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import ssl
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.realserver.conftest import free_ports, unavailable

#: Bounds: a stall ends by itself after this long, so a broken test cannot hang.
STALL_LIMIT = 120.0


@dataclass
class Received:
    """One accepted message: the envelope and the parsed content."""

    sender: str
    recipients: list[str]
    data: bytes
    tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        """The content, parsed with the modern policy."""
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Handler:
    """What the server does with each command, and what it saw."""

    refuse: dict[str, str] = field(default_factory=dict)
    #: ("rcpt" | "data", n): stall at the n-th such command of the server's life.
    stall_at: tuple[str, int] | None = None
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    received: list[Received] = field(default_factory=list)
    seen: Counter[str] = field(default_factory=Counter)

    async def _maybe_stall(self, command: str) -> None:
        self.seen[command] += 1
        if self.stall_at != (command, self.seen[command]):
            return
        self.stalled.set()
        waited = 0.0
        while not self.release.is_set() and waited < STALL_LIMIT:
            await asyncio.sleep(0.05)
            waited += 0.05

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        await self._maybe_stall("rcpt")
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        self.received.append(
            Received(
                str(envelope.mail_from),
                list(envelope.rcpt_tos),
                bytes(envelope.original_content or b""),
                session.ssl is not None  # STARTTLS, or TLS from the first byte:
                or server.transport.get_extra_info("ssl_object") is not None,
                login,
            )
        )
        # the whole message is here: a stall now leaves the sender without an answer
        await self._maybe_stall("data")
        return "250 2.0.0 OK: queued"

    def per_recipient(self) -> Counter[str]:
        """How many accepted messages each recipient got."""
        return Counter(rcpt for received in self.received for rcpt in received.recipients)


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"news", b"pw-123")
    return AuthResult(success=ok, handled=False, auth_data=data.login if ok else None)


@dataclass
class SmtpServer:
    """A running server: where it listens and its handler."""

    port: int
    handler: Handler
    cert: Path | None


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, made with ``openssl``."""
    if shutil.which("openssl") is None:
        unavailable("no openssl command to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


@contextmanager
def running(
    handler: Handler, tls: str = "none", folder: Path | None = None
) -> Iterator[SmtpServer]:
    """Serve on a free loopback port with login required; ``tls``: none, starttls or ssl."""
    context, cert = None, None
    if tls != "none":
        assert folder is not None
        cert, key = make_certificate(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
    (port,) = free_ports(1)
    # its warnings (a login without TLS, on loopback) would land in the CLI's output
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_required=True,
        auth_require_tls=tls == "starttls",  # aiosmtpd does not see implicit TLS as TLS
        tls_context=context if tls == "starttls" else None,
        require_starttls=tls == "starttls",
        ssl_context=context if tls == "ssl" else None,
    )
    controller.start()
    try:
        yield SmtpServer(port, handler, cert)
    finally:
        handler.release.set()
        controller.stop()
