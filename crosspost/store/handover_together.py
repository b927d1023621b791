"""A handover's statements as one, where the database runs writes in ``WITH`` (PostgreSQL).

:mod:`crosspost.store.handover` records a post, starts the account's next one and
reads the one after it in one transaction: on PostgreSQL that was seven round trips
to the server per post (the pool's ping, ``BEGIN``, three statements, ``COMMIT``, the
pool's reset), each a wake-up of the server and of this process. Composed as
data-modifying common table expressions, the same statements are one, run outside
``BEGIN``: a statement alone is a transaction, committed when it returns. The start,
the limits and the look are conditioned on the record: when our claim was lost,
nothing is written, as the transaction's rollback did. Every part sees the snapshot
of the statement's start; none reads a row another part writes (the record's row is
not due, the look leaves out the row started).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, Update, UpdateBase, exists, func, literal, select

__all__ = ["together"]


def together(
    record: Update,
    start: Update | None,
    look: Select[Any],
    limits: Callable[[Any], UpdateBase] | None,
) -> Select[Any]:
    """One statement doing ``record``; then, if it wrote its row, ``start`` and the upsert
    ``limits`` builds when given the condition its row is written on; its one row:
    ``recorded`` and ``started`` (rows written, 0 or 1) and the columns of the row
    ``look`` finds, NULL when none.

    ``look`` selects a table's columns, at most one row; ``record`` and ``start``
    update that table."""
    table = record.table
    recorded = record.returning(table.c.id).cte("recorded")
    was_recorded = exists(select(recorded.c.id))
    started_count: Any = literal(0)
    if start is not None:
        started = start.where(was_recorded).returning(table.c.id).cte("started")
        started_count = select(func.count()).select_from(started).scalar_subquery()
    found = look.where(was_recorded).with_only_columns(table.c.id).scalar_subquery()
    counts = select(func.count().label("recorded")).select_from(recorded).subquery("counts")
    query = select(counts.c.recorded, started_count.label("started"), *table.columns)
    query = query.select_from(counts.outerjoin(table, table.c.id == found))
    if limits is not None:
        query = query.add_cte(limits(was_recorded).cte("limits"))
    return query
