"""The dispatch benchmark's threaded bare loop posts what it says (its rates are not tested)."""

from __future__ import annotations

from benchmarks.dispatch import _bare_threads
from tests.mockplatform import MockMastodon


def test_threaded_bare_loops_share_the_statuses_out() -> None:
    tokens = ["token-a", "token-b", "token-c"]
    with MockMastodon(tokens=tokens) as server:
        rate, cpu_each = _bare_threads(server.url, tokens, 9, 2)
        assert rate > 0 and cpu_each > 0
        statuses = server.statuses
    assert len(statuses) == 8  # 9 // 2 each
    assert len({status["account"]["id"] for status in statuses}) == 3  # a and c, and b
