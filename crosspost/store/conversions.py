"""Conversions imported from an analytics export: ``crosspost conversions import``
writes them, ``crosspost report`` reads them by UTM campaign.

Every function takes a :class:`~crosspost.store.Store` and returns plain values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col
from sqlmodel import select as select_model

from crosspost.history import chunked
from crosspost.report_rows import ConversionRow
from crosspost.store import Store
from crosspost.store.db import dialect_module
from crosspost.store.models import Conversion
from crosspost.store.sessions import session_on

__all__ = ["conversions_for", "upsert_conversions"]


def conversions_for(store: Store, campaigns: Iterable[str]) -> list[ConversionRow]:
    """Every imported conversion row whose campaign is one of ``campaigns`` (any day)."""
    wanted = sorted(set(campaigns))
    found: list[ConversionRow] = []
    with session_on(store.engine) as session:
        for chunk in chunked(wanted):
            query = select_model(Conversion).where(col(Conversion.campaign).in_(chunk))
            found += [
                ConversionRow(
                    c.campaign, c.content, c.source, c.day, c.conversions, c.clicks, c.value
                )
                for c in session.exec(query).all()
            ]
    return found


def upsert_conversions(
    store: Store, rows: Sequence[ConversionRow], source_file: str, now: datetime
) -> tuple[int, int]:
    """Insert or replace conversion rows on their (campaign, content, source, day) key.

    All rows are written in one transaction, so either every row lands or none.

    Args:
        store: The store.
        rows: Rows to write; a later row with the same key wins.
        source_file: Name of the imported file, kept for provenance.
        now: The import time.

    Returns:
        ``(inserted, updated)`` counts.
    """
    unique = {(r.campaign, r.content, r.source, r.day): r for r in rows}
    table = Conversion.__table__  # type: ignore[attr-defined]
    dialect: Any = dialect_module(store.engine.dialect.name)
    with session_on(store.engine) as session:
        existing = _existing_keys(session, list(unique))
        for chunk in chunked(list(unique.values())):
            values = [{**r.__dict__, "imported_at": now, "source_file": source_file} for r in chunk]
            statement = dialect.insert(table).values(values)
            statement = statement.on_conflict_do_update(
                index_elements=["campaign", "content", "source", "day"],
                set_={
                    name: statement.excluded[name]
                    for name in ("conversions", "clicks", "value", "imported_at", "source_file")
                },
            )
            session.execute(statement)
        session.commit()
    return len(unique) - len(existing), len(existing)


def _existing_keys(
    session: Session, keys: list[tuple[str, str, str, str]]
) -> set[tuple[str, str, str, str]]:
    found: set[tuple[str, str, str, str]] = set()
    for chunk in chunked(sorted({k[0] for k in keys})):
        query = select_model(
            Conversion.campaign, Conversion.content, Conversion.source, Conversion.day
        )
        for row in session.exec(query.where(col(Conversion.campaign).in_(chunk))).all():
            found.add((row[0], row[1], row[2], row[3]))
    return found & set(keys)
