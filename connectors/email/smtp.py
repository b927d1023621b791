"""One SMTP session (stdlib ``smtplib``), and what each of its answers means.

- RFC 5321 (SMTP; §3.8: a connection closed before the end of the data cancels
  the transaction, §4.2: reply codes), RFC 3207 (STARTTLS), RFC 4954 (AUTH),
  RFC 8314 (implicit TLS on 465)

A message leaves in one transaction: ``MAIL FROM``, ``RCPT TO``, ``DATA``, the
message, and the final ``.`` line, after which the server accepts (250) or
refuses it. Only that last line can deliver anything, so the session calls back
just before sending it (the connector marks the recipient as started there), and
tells what happened in the terms of :class:`connectors.http.Outcome`:

=========================================  =================  ======================
what happened                              Outcome            the step becomes
=========================================  =================  ======================
connect, TLS, a lost connection before     ``NOT_SENT``       not tried: sent again
the final line
a 4xx reply ("not now", RFC 5321 §4.2.1)   ``RATE_LIMITED``   deferred: sent again
a 5xx reply to RCPT, DATA or the message   ``REJECTED``       refused (a bounce)
no answer to the final line (timeout,      ``ANSWER_LOST``    uncertain: never sent
connection lost)                                              again
AUTH refused, no STARTTLS or AUTH offered  ``AUTH``           –: the account is held
=========================================  =================  ======================
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from connectors.http import Outcome, Verdict

__all__ = ["Relay", "SmtpFailure", "Transaction"]

_LEADING_DOT = re.compile(rb"(?m)^\.")
#: How much of a server's reply is worth keeping in a message.
_REPLY_SHOWN = 200

Factory = Callable[..., smtplib.SMTP]


class SmtpFailure(Exception):
    """What went wrong in the session; ``closed`` when the connection is unusable now."""

    def __init__(self, verdict: Verdict, *, closed: bool = False) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict
        self.closed = closed


@dataclass(frozen=True)
class Transaction:
    """One message to one recipient; ``commit`` is called just before the final line.

    ``commit`` returns False when the message must not go after all (the worker lost
    its claim on the publication): the connection is then dropped before the final line.
    """

    sender: str
    recipient: str
    data: bytes
    commit: Callable[[], bool]


def _reply(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(said.split())}"[:_REPLY_SHOWN]


def _answered(code: int, text: bytes | str, what: str) -> SmtpFailure:
    """A failure from a reply code: 4xx "not now", 5xx "no"; 421 closes the connection."""
    outcome = Outcome.RATE_LIMITED if 400 <= code < 500 else Outcome.REJECTED
    return SmtpFailure(Verdict(outcome, f"{what}: {_reply(code, text)}", code), closed=code == 421)


class Relay:
    """A session with the account's SMTP server: open, send messages, close.

    Args:
        host, port, security: where and how to connect (``starttls``, ``ssl``, ``none``).
        credentials: (username, password) to log in with, or None.
        timeout: seconds for each step.
        ca_file: CA bundle to trust instead of the system's.
        factory: builds the ``smtplib`` object (tests pass a fake).
    """

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        *,
        credentials: tuple[str, str] | None,
        timeout: float,
        ca_file: Path | None = None,
        factory: Factory | None = None,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.credentials = credentials
        self.timeout = timeout
        self.ca_file = ca_file
        self.factory = factory
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> Relay:
        self.open()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    def _connect(self) -> smtplib.SMTP:
        if self.factory is not None:
            return self.factory(self.host, self.port, timeout=self.timeout)
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def open(self) -> None:
        """Connect, secure and log in.

        Raises:
            SmtpFailure: ``NOT_SENT`` (could not connect), ``AUTH`` (login refused,
                no STARTTLS or AUTH offered, the server refuses us), ``RATE_LIMITED`` (4xx).
        """
        where = f"{self.host}:{self.port}"
        try:
            self.connection = connection = self._connect()
            connection.ehlo_or_helo_if_needed()
            if self.security == "starttls":
                if not connection.has_extn("starttls"):
                    raise _auth(f"{where} offers no STARTTLS; the password is never sent in clear")
                connection.starttls(context=self._tls())
                connection.ehlo()
            if self.credentials is not None:
                if not connection.has_extn("auth"):
                    raise _auth(f"{where} offers no AUTH: it does not take a username here")
                connection.login(*self.credentials)
        except smtplib.SMTPAuthenticationError as error:
            self.close()
            said = _reply(error.smtp_code, error.smtp_error)
            raise _auth(f"{where} refused the login: {said}") from None
        except smtplib.SMTPResponseException as error:
            self.close()
            failure = _answered(error.smtp_code, error.smtp_error, f"{where} said")
            if failure.verdict.outcome is Outcome.REJECTED:  # 5xx before any message: us
                raise _auth(failure.verdict.message) from None
            raise failure from None
        except SmtpFailure:
            self.close()
            raise
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            message = f"cannot connect to {where}: {error or type(error).__name__}"
            raise SmtpFailure(Verdict(Outcome.NOT_SENT, message), closed=True) from None

    def send(self, transaction: Transaction) -> str:
        """Send one message; the server's acceptance (``250 …``) on success.

        Raises:
            SmtpFailure: see the table of the module; ``closed`` when the session is over.
        """
        connection = self.connection
        assert connection is not None, "open() first"
        committed = False
        try:
            code, text = connection.mail(transaction.sender)
            if code != 250:
                raise self._refused(code, text, "the server refused the sender")
            code, text = connection.rcpt(transaction.recipient)
            if code not in (250, 251):
                raise self._refused(code, text, "the server refused the recipient")
            connection.putcmd("data")
            code, text = connection.getreply()
            if code != 354:
                raise self._refused(code, text, "the server refused the message")
            connection.send(_stuffed(transaction.data))
            if not transaction.commit():
                self._drop()  # before the final line: the server drops the message
                raise SmtpFailure(Verdict(Outcome.NOT_SENT, "stopped before sending"), closed=True)
            committed = True
            connection.send(b".\r\n")
            code, text = connection.getreply()
        except (OSError, smtplib.SMTPException) as error:
            # no QUIT: it could be read as message text, or wait on a stalled server
            self._drop()
            outcome = Outcome.ANSWER_LOST if committed else Outcome.NOT_SENT
            said = f"the connection to {self.host} failed: {error or type(error).__name__}"
            raise SmtpFailure(Verdict(outcome, said), closed=True) from None
        if code != 250:
            raise self._refused(code, text, "the server refused the message")
        return _reply(code, text)

    def _refused(self, code: int, text: bytes, what: str) -> SmtpFailure:
        failure = _answered(code, text, what)
        if failure.closed:
            self.close()
        else:
            self._reset()
        return failure

    def _reset(self) -> None:
        """End the refused transaction so that the next one starts clean."""
        if self.connection is None:
            return
        try:
            self.connection.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        """Close the connection without a word."""
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()

    def close(self) -> None:
        """Say QUIT if the server still listens, and drop the connection."""
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()


def _auth(message: str) -> SmtpFailure:
    return SmtpFailure(Verdict(Outcome.AUTH, message), closed=True)


def _stuffed(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF ends, a leading dot doubled (RFC 5321 §4.5.2)."""
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    data = _LEADING_DOT.sub(b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"
