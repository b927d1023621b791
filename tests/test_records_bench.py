"""The records benchmark measures real records: every row ends published, in both ways."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from benchmarks.records import _bare_records, _store_records, bench_records


def _published(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        query = "SELECT count(*) FROM publication WHERE status = 'published' AND claimed_by IS NULL"
        return int(connection.execute(query).fetchone()[0])


def test_store_and_bare_record_every_claimed_row(tmp_path: Path) -> None:
    _store_records(tmp_path / "store.db", 30)()
    _bare_records(tmp_path / "bare.db", 30, per_row=True)()
    _bare_records(tmp_path / "together.db", 30, per_row=False)()
    assert _published(tmp_path / "store.db") == 30
    assert _published(tmp_path / "bare.db") == 30
    assert _published(tmp_path / "together.db") == 30


def test_the_figure_is_the_stores_rate_next_to_bare_sqlite(tmp_path: Path) -> None:
    (figure,) = bench_records(tmp_path, 20)
    assert figure.unit == "/s" and figure.value > 0
    assert figure.baseline is not None and figure.baseline > 0
