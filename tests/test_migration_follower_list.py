"""Migration r004: accounts whose followers were listed before it keep counting joins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from connectors.base import FollowerRef
from crosspost.history import MIGRATIONS
from crosspost.store import Store
from crosspost.store.collect_audience import apply_followers
from crosspost.store.db import make_engine

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _upgrade(url: str, revision: str) -> None:
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def _snapshot(account: str, followers: int, at: datetime) -> str:
    return (
        "INSERT INTO account_snapshot (account, collected_at, followers)"
        f" VALUES ('{account}', '{at:%Y-%m-%d %H:%M:%S}', {followers})"
    )


def test_accounts_listed_before_the_migration_are_not_seeded_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _upgrade(url, "r002")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO follower (account, follower_id, handle, first_seen_at)"
                " VALUES ('kept', 'f1', '@ann', '2026-02-01 00:00:00')"
            )
        )
        for statement in (
            _snapshot("emptied", 1, T0 - timedelta(days=2)),
            _snapshot("emptied", 0, T0 - timedelta(days=1)),
            _snapshot("grown", 0, T0 - timedelta(days=2)),
            _snapshot("grown", 5, T0 - timedelta(days=1)),
        ):
            connection.execute(text(statement))
    engine.dispose()
    store = Store(url)  # upgrades to the newest revision
    try:
        newcomer = [FollowerRef("f2", "@bob")]
        assert apply_followers(store, "kept", [FollowerRef("f1"), *newcomer], T0).joins
        assert apply_followers(store, "emptied", newcomer, T0).joins == newcomer
        assert apply_followers(store, "grown", newcomer, T0).seeded
        assert apply_followers(store, "never", newcomer, T0).seeded
    finally:
        store.close()
