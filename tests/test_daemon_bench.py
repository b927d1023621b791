"""The daemon benchmark measures idle once the daemon's start-up work is over."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest

from benchmarks import bench


class _Platform:
    """A stand-in for the mock platform: requests arrive for a while, then stop."""

    def __init__(self, arriving: int) -> None:
        self.requests: list[Any] = []
        self._arriving = arriving

    def serve(self) -> None:
        for _ in range(self._arriving):
            self.requests.append(object())
            time.sleep(0.02)


def test_idle_starts_after_the_first_collection_and_its_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bench, "FIRST_COLLECTION_AFTER", timedelta(seconds=0.2))
    platform = _Platform(arriving=10)
    start = time.perf_counter()
    threading.Timer(0.1, platform.serve).start()
    settled = bench._settled(platform, start, bound=10.0, quiet=0.1)  # type: ignore[arg-type]
    assert len(platform.requests) == 10  # every request of the start was waited for
    assert 0.3 <= settled < 5.0


def test_a_daemon_that_never_goes_quiet_is_given_up_on_at_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bench, "FIRST_COLLECTION_AFTER", timedelta())
    platform = _Platform(arriving=0)
    platform.requests.append(object())
    steady = threading.Event()

    def busy() -> None:
        while not steady.is_set():
            platform.requests.append(object())
            time.sleep(0.01)

    threading.Thread(target=busy, daemon=True).start()
    try:
        assert bench._settled(platform, time.perf_counter(), bound=0.5, quiet=0.05) < 2.0  # type: ignore[arg-type]
    finally:
        steady.set()
