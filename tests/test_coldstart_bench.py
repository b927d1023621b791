"""The cold start of ``publish`` times processes that really post (its times are not tested)."""

from __future__ import annotations

from benchmarks.coldstart import measure_publish


def test_each_publish_and_bare_process_posts_once() -> None:
    found = measure_publish(1)  # raises unless 3 statuses arrived: the first, one each
    assert [len(times) for times in found.values()] == [1, 1]
    assert all(wall > 0 and cpu > 0 for times in found.values() for wall, cpu in times)
