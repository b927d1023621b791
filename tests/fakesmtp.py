"""A scripted stand-in for ``smtplib.SMTP``, for the e-mail connector's edge cases.

Replies follow RFC 5321: ``rcpt`` answers per address, the final ``.`` line
answers per recipient (or raises, as a lost connection or a timeout would).
A message counts as delivered only when its final line was answered 250.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

Reply = tuple[int, bytes]


@dataclass
class FakeServer:
    """What the fake server does, and what it saw."""

    extensions: set[str] = field(default_factory=lambda: {"starttls", "auth"})
    credentials: tuple[str, str] | None = None
    connect_error: BaseException | None = None
    mail_reply: Reply = (250, b"2.1.0 Ok")
    rcpt_replies: dict[str, Reply | BaseException] = field(default_factory=dict)
    #: The answer to the final line, per recipient: a reply or an exception to raise.
    final: dict[str, Reply | BaseException] = field(default_factory=dict)
    #: Called with the recipient just before the final line is answered.
    on_final: Callable[[str], None] | None = None
    delivered: list[tuple[str, str, bytes]] = field(default_factory=list)
    connections: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)
    tls: bool = False
    commands: list[str] = field(default_factory=list)

    def factory(self, host: str, port: int, timeout: float = 0) -> FakeSmtp:
        """What the connector's ``smtp_factory`` calls instead of ``smtplib.SMTP``."""
        if self.connect_error is not None:
            raise self.connect_error
        self.connections += 1
        return FakeSmtp(self)

    def messages(self) -> list[EmailMessage]:
        """Every delivered message, parsed."""
        return [
            message_from_bytes(data, policy=policy.default)  # type: ignore[misc]
            for _sender, _rcpt, data in self.delivered
        ]

    def recipients(self) -> list[str]:
        """The envelope recipient of every delivered message, in order."""
        return [rcpt for _sender, rcpt, _data in self.delivered]


class FakeSmtp:
    """One connection to a :class:`FakeServer`."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.sender = ""
        self.recipient = ""
        self.data = b""
        self.state = "idle"

    def ehlo_or_helo_if_needed(self) -> None:
        self.server.commands.append("EHLO")

    def ehlo(self) -> None:
        self.server.commands.append("EHLO")

    def has_extn(self, name: str) -> bool:
        return name in self.server.extensions

    def starttls(self, context: Any = None) -> None:
        self.server.commands.append("STARTTLS")
        self.server.tls = True

    def login(self, user: str, password: str) -> None:
        self.server.commands.append("AUTH")
        self.server.logins.append((user, password))
        if (user, password) != self.server.credentials:
            raise smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication credentials invalid")

    def mail(self, sender: str) -> Reply:
        self.server.commands.append("MAIL")
        self.sender = sender
        return self.server.mail_reply

    def rcpt(self, recipient: str) -> Reply:
        self.server.commands.append("RCPT")
        self.recipient = recipient
        reply = self.server.rcpt_replies.get(recipient, (250, b"2.1.5 Ok"))
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def putcmd(self, command: str) -> None:
        self.server.commands.append(command.upper())
        self.state = "data"
        self.data = b""

    def send(self, data: bytes) -> None:
        if data == b".\r\n":
            self.state = "final"
        else:
            self.data += data

    def getreply(self) -> Reply:
        if self.state == "data":
            self.state = "message"
            return (354, b"End data with <CR><LF>.<CR><LF>")
        assert self.state == "final", self.state
        self.state = "idle"
        if self.server.on_final is not None:
            self.server.on_final(self.recipient)
        answer = self.server.final.get(self.recipient, (250, b"2.0.0 Ok: queued as 4F2A1"))
        if isinstance(answer, BaseException):
            raise answer
        if answer[0] == 250:
            unstuffed = self.data.replace(b"\r\n..", b"\r\n.")
            self.server.delivered.append((self.sender, self.recipient, unstuffed))
        return answer

    def rset(self) -> Reply:
        self.server.commands.append("RSET")
        return (250, b"2.0.0 Ok")

    def quit(self) -> Reply:
        self.server.commands.append("QUIT")
        return (221, b"2.0.0 Bye")

    def close(self) -> None:
        self.server.commands.append("close")
