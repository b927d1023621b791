"""A long text is cut once per counting rules, not once per account (check at agency scale)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import crosspost.rendering.markup
import crosspost.rendering.thread_cuts
from benchmarks.scale import write_project
from crosspost.loading.project import load_project
from crosspost.planning.checking import check_project


def test_accounts_that_count_alike_share_one_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four Mastodon accounts (same URL width), three Bluesky ones, three folders; one
    # entry whose content is long enough to become a thread on both platforms.
    project = load_project(write_project(tmp_path, entries=1, items=1))
    real = crosspost.rendering.markup.split_marked
    cuts: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        cuts.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(crosspost.rendering.thread_cuts, "split_marked", counted)
    assert check_project(project, datetime(2026, 3, 1, tzinfo=UTC)) == []
    assert sorted(cuts) == [300, 500]  # one per counting rules: Bluesky's, Mastodon's
    keys = {project.connector(f"m{n}").counting_key for n in range(4)}  # type: ignore[attr-defined]
    assert len(keys) == 1
