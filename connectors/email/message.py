"""One newsletter message for one recipient: multipart text + HTML, list headers, Message-ID.

- RFC 5322 (message format), RFC 2045–2046 (MIME, ``multipart/alternative``)
- RFC 2369 (``List-Unsubscribe``), RFC 8058 (``List-Unsubscribe-Post`` one-click)
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import quote

from connectors.email.addresses import Recipient

__all__ = ["Attachment", "Letter", "Unsubscribe", "message_id", "render_message"]

#: Encoded bodies wrap at 76 (RFC 2045), headers fold at 78 (RFC 5322).
_POLICY = policy.SMTP


@dataclass(frozen=True)
class Attachment:
    """A file sent along (the content's media)."""

    filename: str
    data: bytes
    maintype: str
    subtype: str


@dataclass(frozen=True)
class Unsubscribe:
    """How a recipient leaves the list; ``{email}`` in either becomes their address."""

    url: str | None = None
    mailto: str | None = None
    text: str = "Unsubscribe"

    def url_for(self, address: str) -> str | None:
        """The one-click URL for ``address``."""
        return self.url.replace("{email}", quote(address, safe="@")) if self.url else None

    def mailto_for(self, address: str) -> str | None:
        """The ``mailto:`` URI for ``address``."""
        if not self.mailto:
            return None
        value = self.mailto.replace("{email}", quote(address, safe="@"))
        return "mailto:" + value.replace(" ", "%20")

    def header(self, address: str) -> bytes:
        """``List-Unsubscribe`` (and ``-Post`` with an https URL) as raw header lines.

        Written by hand: the e-mail package folds a long URL into encoded words,
        which no mail client reads as a URL. Folding between the two URIs is allowed.
        """
        uris = [uri for uri in (self.url_for(address), self.mailto_for(address)) if uri]
        if not uris:
            return b""
        lines = "List-Unsubscribe: " + ",\r\n ".join(f"<{uri}>" for uri in uris) + "\r\n"
        if self.url:
            lines += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        return lines.encode("ascii")


@dataclass(frozen=True)
class Letter:
    """What every recipient of one publication gets, before it is addressed to them."""

    key: str
    subject: str
    html: str
    text: str
    from_address: str
    from_name: str
    reply_to: str | None
    date: datetime
    unsubscribe: Unsubscribe
    language: str | None = None
    attachments: tuple[Attachment, ...] = ()

    @property
    def domain(self) -> str:
        """The sender's domain: the right-hand side of every Message-ID."""
        return self.from_address.rpartition("@")[2].lower()


def message_id(key: str, recipient: Recipient, domain: str) -> str:
    """The same ``<…@domain>`` every time this publication goes to this recipient.

    A resend is recognisable by it (clients and Gmail treat it as the same message),
    and the address itself is not in it: it is hashed with the key.
    """
    digest = hashlib.sha256(f"{key}\x1f{recipient.key}".encode()).hexdigest()[:16]
    return f"<{key}.{digest}@{domain}>"


def render_message(letter: Letter, recipient: Recipient) -> bytes:
    """The whole message for ``recipient``, CRLF line ends, 7-bit clean."""
    message = EmailMessage(policy=_POLICY)
    message["Subject"] = letter.subject
    message["From"] = Address(letter.from_name, addr_spec=letter.from_address)
    message["To"] = Address(recipient.name, addr_spec=recipient.address)
    if letter.reply_to:
        message["Reply-To"] = Address(addr_spec=letter.reply_to)
    message["Date"] = format_datetime(letter.date)
    if letter.language:
        message["Content-Language"] = letter.language
    unsubscribe_url = letter.unsubscribe.url_for(recipient.address)
    text, body = letter.text, letter.html
    if unsubscribe_url:
        text += f"\n\n-- \n{letter.unsubscribe.text}: {unsubscribe_url}"
        words = html.escape(letter.unsubscribe.text)
        link = f'<a href="{html.escape(unsubscribe_url)}">{words}</a>'
        body += f"\n<hr>\n<p>{link}</p>"
    # quoted-printable: readable, and no 8BITMIME needed from the server
    message.set_content(text + "\n", subtype="plain", charset="utf-8", cte="quoted-printable")
    document = _document(letter.subject, body, letter.language)
    message.add_alternative(document, subtype="html", charset="utf-8", cte="quoted-printable")
    for item in letter.attachments:
        message.add_attachment(
            item.data, maintype=item.maintype, subtype=item.subtype, filename=item.filename
        )
    # unfolded, as most senders write it (the package folds it onto a line of its own)
    identity = f"Message-ID: {message_id(letter.key, recipient, letter.domain)}\r\n".encode()
    return identity + letter.unsubscribe.header(recipient.address) + message.as_bytes()


def _document(subject: str, body: str, language: str | None) -> str:
    lang = f' lang="{html.escape(language)}"' if language else ""
    return (
        f'<!DOCTYPE html>\n<html{lang}>\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(subject)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
