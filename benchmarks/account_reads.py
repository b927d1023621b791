"""An account's reads on SQLite, with ``ix_publication_account_due`` and without it.

``python -m benchmarks.account_reads`` (about two minutes, most of it writing) writes two
stores, each twice (the indexes of migration r022, and those before it:
``ix_publication_account`` on the account alone), and prints the CPU milliseconds of

* ``next due``: a worker's look for its account's oldest due row
  (:func:`crosspost.store.handover.upcoming`), at 1,000 accounts with 20 rows due and
  200 published each;
* ``round claim``: the daemon's claim of every account's oldest due row with none in
  flight (:func:`crosspost.store.dispatching.claim_next`), at 200 accounts with 5 rows
  due and 2,000 published each.

Sizes: ``CROSSPOST_BENCH_ACCOUNT_READS=accounts,due,published`` sets the first store.
"""

from __future__ import annotations

import itertools
import os
import resource
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from crosspost.store import Store
from crosspost.store.dispatching import claim_next
from crosspost.store.handover import upcoming
from crosspost.store.planned import PlannedRow

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
BEFORE_R022 = (
    "CREATE INDEX ix_publication_account ON publication (account)",
    "DROP INDEX ix_publication_account_due",
)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _store(accounts: int, due: int, published: int, *, before_r022: bool) -> Store:
    """``accounts`` accounts with ``due`` rows due now and ``published`` sent before."""
    store = Store(f"sqlite:///{tempfile.mkdtemp()}/reads.db")
    rows = [
        PlannedRow(f"e{k}", "o", f"a{n}", "c", NOW - timedelta(seconds=k), NOW + timedelta(days=1))
        for n in range(accounts)
        for k in range(due + published)
    ]
    store.add_planned(rows, NOW - timedelta(days=1))
    sent = (
        f"UPDATE publication SET status = 'published' WHERE CAST(substr(entry, 2) AS INT) >= {due}"
    )
    with store.engine.begin() as connection:
        for statement in (sent, *(BEFORE_R022 if before_r022 else ())):
            connection.execute(text(statement))
    return store


def _per_call(work: Callable[[], object], calls: int) -> float:
    start = _cpu()
    for _ in range(calls):
        work()
    return (_cpu() - start) / calls * 1000


def next_due(accounts: int, due: int, published: int, *, before_r022: bool) -> float:
    """CPU ms of one account's look for its next due row."""
    store = _store(accounts, due, published, before_r022=before_r022)
    names = itertools.cycle([f"a{n % accounts}" for n in range(0, 10 * accounts, 7)])
    with store.engine.connect() as connection:
        return _per_call(lambda: upcoming(store, next(names), NOW, connection=connection), 500)


def round_claim(accounts: int, due: int, published: int, *, before_r022: bool) -> float:
    """CPU ms of one round's claim over every account (on a fresh store each time)."""
    store = _store(accounts, due, published, before_r022=before_r022)
    lease = timedelta(minutes=5)
    return _per_call(lambda: claim_next(store.engine, NOW, "bench", lease, (), None, None), 1)


def main() -> None:
    sizes = os.environ.get("CROSSPOST_BENCH_ACCOUNT_READS", "1000,20,200")
    accounts, due, published = (int(n) for n in sizes.split(","))
    cases = (
        ("next due", next_due, (accounts, due, published)),
        ("round claim", round_claim, (200, 5, 2000)),
    )
    for name, measure, size in cases:
        before = measure(*size, before_r022=True)
        after = measure(*size, before_r022=False)
        print(
            f"{name:<12} {size[0]:,} accounts x {size[1]} due + {size[2]:,} published: "
            f"{before:.3f} ms before r022, {after:.3f} ms with it ({before / after:.1f}x)"
        )


if __name__ == "__main__":
    main()
