"""Optional abilities are protocols, checked with isinstance; capabilities come per account."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from connectors.base import (
    Capability,
    Commentable,
    Connector,
    FollowerList,
    Inbox,
    InboxStream,
    Reconcilable,
    Replier,
)
from connectors.discord import DiscordConnector
from connectors.progress import Resumable
from connectors.telegram import TelegramConnector
from crosspost.loading import registry
from tests.contract.harness import ContractCase
from tests.contract.test_contract import CASES

ROOT = Path(__file__).resolve().parents[2]
ABILITIES = {
    Capability.INBOX: Inbox,
    Capability.INBOX_STREAM: InboxStream,
    Capability.FOLLOWER_LIST: FollowerList,
    Capability.RECONCILE: Reconcilable,
    Capability.REPLY: Replier,
    Capability.RESUMABLE: Resumable,
    Capability.FIRST_COMMENT: Commentable,
}
#: Connectors that send no HTTP (files, SMTP, websockets), so have no contract case: their settings.
LOCAL = {
    "feed": {"path": "feed.xml"},
    "folder": {"path": "out"},
    "email": {"host": "smtp.example.org", "from_address": "a@example.org", "recipients": "l.txt"},
    "nostr": {"secret_key": "1" * 64, "relays": ["wss://relay.example.org"]},
}


def _local(name: str) -> Connector:
    cls = registry.load(name)
    return cls(name, cls.Settings.model_validate(LOCAL[name]))  # type: ignore[call-arg]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_declared_ability_is_its_protocol(case: ContractCase) -> None:
    connector = case.connector()
    for capability, protocol in ABILITIES.items():
        if capability in connector.capabilities:
            assert isinstance(connector, protocol), (case.name, capability)


@pytest.mark.parametrize("name", sorted(LOCAL))
def test_a_local_connector_declares_its_abilities_too(name: str) -> None:
    connector = _local(name)
    assert isinstance(connector, Connector)
    for capability, protocol in ABILITIES.items():
        if capability in connector.capabilities:
            assert isinstance(connector, protocol), (name, capability)


def test_every_installed_connector_is_checked() -> None:
    assert set(registry.available()) == {case.name for case in CASES} | set(LOCAL)


def test_a_discord_webhook_account_has_no_key_from_its_class_method() -> None:
    hook = "https://discord.com/api/webhooks/123456789012345678/" + "t" * 68
    settings = DiscordConnector.Settings(webhook_url=hook)
    assert Capability.IDEMPOTENCY_KEY not in DiscordConnector.capabilities_for(settings)
    connector = DiscordConnector("hook", settings)
    assert connector.capabilities == DiscordConnector.capabilities_for(settings)
    assert Capability.IDEMPOTENCY_KEY in DiscordConnector.capabilities  # the manifest stays


def test_a_telegram_account_without_inbox_has_none() -> None:
    token = "123456:" + "A" * 35
    settings = TelegramConnector.Settings(bot_token=token, chat_id="@crosspost_test", inbox=False)
    assert Capability.INBOX not in TelegramConnector.capabilities_for(settings)
    assert Capability.INBOX in TelegramConnector.capabilities


def test_no_getattr_or_ignore_around_optional_abilities() -> None:
    pattern = re.compile(
        r"getattr\([^)]*(idempotency_window|find_recent|fetch_inbox|followers)"
        r"|(fetch_inbox|followers|find_recent)\(.*type: ignore"
        r'|vars\(self\)\["capabilities"\]'
    )
    for path in [
        *ROOT.joinpath("crosspost").rglob("*.py"),
        *ROOT.joinpath("connectors").rglob("*.py"),
    ]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            assert not pattern.search(line), f"{path.name}:{number}: {line.strip()}"


def test_the_too_long_message_is_written_once() -> None:
    sources = [p.read_text(encoding="utf-8") for p in ROOT.joinpath("connectors").rglob("*.py")]
    assert sum(source.count('f"part {number} "') for source in sources) == 1
    # the Connector protocol declares check, BaseConnector defines it; the hooks do the rest
    assert sum(source.count("def check(") for source in sources) == 2
