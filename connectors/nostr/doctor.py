"""``diagnose()`` for Nostr: which relays answer, and what each one's NIP-11 document limits.

Read-only, per relay:

- A ``REQ`` for the key's own profile (kind 0, NIP-01) over the WebSocket: that the relay
  is up and answers; the newest profile's ``name`` names the account.
- ``GET`` of the relay's URL over http(s) with ``Accept: application/nostr+json``
  (NIP-11, https://github.com/nostr-protocol/nips/blob/master/11.md): ``limitation``
  with ``max_content_length``, ``auth_required``, ``payment_required`` and
  ``restricted_writes``.

Too few relays up to reach ``min_relays`` is a problem; a relay down beside enough others is
a note. A relay whose ``max_content_length`` is below the account's ``max_length`` is a
problem (long notes would be refused there).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from connectors.base import ConnectorError
from connectors.diagnosis import Diagnosis
from connectors.http import HttpClient, Kind
from connectors.nostr.events import Event
from connectors.nostr.keys import npub
from connectors.nostr.reading import NostrReading
from connectors.nostr.relay import RelayClient, RelayFailure

__all__ = ["NostrDoctor", "info_url"]

#: Kind 0: the account's profile (``content`` is JSON with ``name``).
PROFILE = 0


def info_url(relay: str) -> str:
    """The http(s) address a relay serves its NIP-11 document at."""
    return "https" + relay[len("wss") :] if relay.startswith("wss") else "http" + relay[2:]


def _limitation(document: object) -> Mapping[str, object]:
    limitation = document.get("limitation") if isinstance(document, dict) else None
    return limitation if isinstance(limitation, dict) else {}


class NostrDoctor(NostrReading):
    """``diagnose`` of :class:`connectors.nostr.NostrConnector`."""

    def diagnose(self) -> Diagnosis:
        """The relays that answer, the limits they publish, the account's profile name."""
        problems: list[str] = []
        notes: list[str] = []
        details: dict[str, str] = {}
        down: list[str] = []
        profiles: list[Event] = []
        for client in self.pool.clients:
            try:
                profiles += self._profile(client)
            except RelayFailure as failure:
                down.append(failure.verdict.message)
                continue
            found, said, limits = self._relay_info(client.url)
            problems += found
            notes += said
            details[client.url] = limits
        up = len(self.pool.clients) - len(down)
        if down and up < self.settings.min_relays:
            problems.append(
                f"only {up} of {len(self.pool.clients)} relays answer, fewer than min_relays "
                f"{self.settings.min_relays}; down: {', '.join(down)}"
            )
        elif down:
            notes.append(f"relays down: {', '.join(down)}")
        return Diagnosis(
            identity=self._identity(profiles),
            problems=tuple(problems),
            notes=tuple(notes),
            details=details,
        )

    def _profile(self, client: RelayClient) -> list[Event]:
        return client.query([{"kinds": [PROFILE], "authors": [self.keys.pubkey], "limit": 1}])

    def _identity(self, profiles: list[Event]) -> str:
        key = npub(self.keys.pubkey)
        newest = max(profiles, key=lambda event: event["created_at"], default=None)
        try:
            profile = json.loads(newest["content"]) if newest else None
        except ValueError:
            profile = None
        name = profile.get("name") if isinstance(profile, dict) else None
        return f"{name} ({key})" if isinstance(name, str) and name else key

    def _relay_info(self, relay: str) -> tuple[list[str], list[str], str]:
        """Problems, notes and a one-line summary from the relay's NIP-11 document."""
        http = HttpClient(self.name, self.account, timeout=(self.settings.timeout,) * 2)
        try:
            response = http.request(
                "GET", info_url(relay), kind=Kind.READ, headers={"Accept": "application/nostr+json"}
            )
            document = response.json()
        except (ConnectorError, ValueError) as error:  # publishing does not need it: a note
            return [], [f"{relay} has no readable NIP-11 document ({error})"], "limits unknown"
        limits = _limitation(document)
        problems, notes = [], []
        longest = limits.get("max_content_length")
        if isinstance(longest, int) and longest < self.settings.max_length:
            problems.append(
                f"{relay} takes content of at most {longest} characters, but max_length is "
                f"{self.settings.max_length}: lower max_length or drop the relay"
            )
        if limits.get("payment_required") is True:
            notes.append(f"{relay} requires payment: writes are refused unless this key paid")
        if limits.get("auth_required") is True:
            notes.append(f"{relay} requires NIP-42 AUTH (crosspost answers it with the key)")
        if limits.get("restricted_writes") is True:
            notes.append(f"{relay} restricts writes: it may refuse this key's events")
        software = document.get("software") if isinstance(document, dict) else None
        summary = f"max content {longest}" if isinstance(longest, int) else "no content limit"
        return problems, notes, f"{summary}; {software}" if isinstance(software, str) else summary
