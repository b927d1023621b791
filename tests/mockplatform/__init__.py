"""A local Mastodon mock server for fault tests and benchmarks.

``from tests.mockplatform import mock_mastodon`` in a conftest makes the fixture
available; ``README.md`` here describes the control API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.mockplatform.faults import MAX_SLOW_SECONDS, Fault, FaultRule
    from tests.mockplatform.fixtures import mock_mastodon
    from tests.mockplatform.server import DEFAULT_TOKEN, MockMastodon
    from tests.mockplatform.state import RecordedRequest

__all__ = [
    "DEFAULT_TOKEN",
    "MAX_SLOW_SECONDS",
    "Fault",
    "FaultRule",
    "MockMastodon",
    "RecordedRequest",
    "mock_mastodon",
]

# Imported on first use, so ``python -m tests.mockplatform.server`` does not load
# the server module twice (runpy warns when the package already imported it).
_HOMES = {
    "DEFAULT_TOKEN": "server",
    "MAX_SLOW_SECONDS": "faults",
    "Fault": "faults",
    "FaultRule": "faults",
    "MockMastodon": "server",
    "RecordedRequest": "state",
    "mock_mastodon": "fixtures",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
