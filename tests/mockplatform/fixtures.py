"""The ``mock_mastodon`` pytest fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mockplatform.server import MockMastodon

__all__ = ["mock_mastodon"]


@pytest.fixture
def mock_mastodon() -> Iterator[MockMastodon]:
    """A running :class:`MockMastodon` on 127.0.0.1 (free port), stopped at teardown."""
    with MockMastodon() as server:
        yield server
