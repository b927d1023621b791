"""Nostr ``diagnose()``: relays up and down over real WebSockets (the fake relay), and the
limits of each relay's NIP-11 document (mocked over HTTP, shaped as NIP-11 shows)."""

from __future__ import annotations

import json

import responses

from connectors.nostr.doctor import info_url
from connectors.nostr.events import sign_event
from connectors.nostr.keys import Keys, npub
from tests.connectors.fake_relay import holding, running
from tests.connectors.test_nostr import SECRET, nostr
from tests.realserver.conftest import free_ports

KEYS = Keys(SECRET)
PROFILE = sign_event(KEYS, 1_790_000_000, 0, [], json.dumps({"name": "rivertown"}))
NIP11 = {
    "name": "relay.example",
    "supported_nips": [1, 11, 42],
    "software": "git+https://github.com/hoytech/strfry.git",
    "version": "1.0.4",
    "limitation": {
        "max_message_length": 131072,
        "max_content_length": 8196,
        "auth_required": False,
        "payment_required": False,
        "restricted_writes": False,
    },
}


def test_a_relay_that_answers_names_the_profile_and_its_limits() -> None:
    with running(holding([dict(PROFILE)])) as relay, responses.RequestsMock() as rsps:
        info = rsps.get(info_url(relay.url), json=NIP11)
        diagnosis = nostr(relay.url).diagnose()
        accept = info.calls[0].request.headers["Accept"]
    assert accept == "application/nostr+json"
    assert diagnosis.ok, diagnosis.problems
    assert diagnosis.identity == f"rivertown ({npub(KEYS.pubkey)})"
    assert diagnosis.details[relay.url].startswith("max content 8196")


def test_a_relay_down_is_a_note_beside_enough_others_and_a_problem_without() -> None:
    (port,) = free_ports(1)
    dead = f"ws://127.0.0.1:{port}"
    with running(holding([])) as relay, responses.RequestsMock() as rsps:
        rsps.get(info_url(relay.url), json=NIP11)
        enough = nostr(relay.url, dead).diagnose()
        rsps.get(info_url(relay.url), json=NIP11)
        too_few = nostr(relay.url, dead, min_relays=2).diagnose()
    assert enough.ok and any(dead in note for note in enough.notes)
    assert enough.identity == npub(KEYS.pubkey)  # no profile published
    assert not too_few.ok and dead in too_few.problems[0]


def test_limits_below_the_accounts_and_paid_relays_are_reported() -> None:
    strict = {**NIP11, "limitation": {"max_content_length": 280, "payment_required": True}}
    with running(holding([])) as relay, responses.RequestsMock() as rsps:
        rsps.get(info_url(relay.url), json=strict)
        diagnosis = nostr(relay.url).diagnose()
    assert "at most 280 characters" in diagnosis.problems[0]
    assert any("requires payment" in note for note in diagnosis.notes)


def test_a_relay_without_a_nip11_document_is_only_a_note() -> None:
    with running(holding([])) as relay, responses.RequestsMock() as rsps:
        rsps.get(info_url(relay.url), body="<html>not found</html>", status=404)
        diagnosis = nostr(relay.url).diagnose()
    assert diagnosis.ok and "no readable NIP-11 document" in diagnosis.notes[0]


def test_the_document_is_at_the_relays_http_address() -> None:
    assert info_url("wss://relay.example/path") == "https://relay.example/path"
    assert info_url("ws://127.0.0.1:7777") == "http://127.0.0.1:7777"
