"""Run ``crosspost`` or the bare baseline in this process, counting what issue 17 named.

``python -m benchmarks.check_counts OUT.json crosspost -s schedule.yaml check`` runs the
command as the ``crosspost`` script would; ``… OUT.json bare check schedule.yaml`` runs
the bare baseline (benchmarks/bare.py). At exit, ``OUT.json`` gets how many times the
schedule was parsed (``crosspost.loading.yamlfile.load_yaml``, which only the schedule
goes through; for the bare script, each YAML document it loads) and the full garbage
collections (generation
2) with the seconds they took. Issue 17 found the schedule parsed twice and 24 full
collections taking 28 s in ``check`` at 50,000 entries. The counting costs nothing
measurable, so the process's CPU time is still the command's.
"""

from __future__ import annotations

import atexit
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["Counts", "main"]


class Counts:
    """Schedule parses and full collections seen in this process."""

    def __init__(self) -> None:
        self.parses = 0
        self.full_collections = 0
        self.collection_seconds = 0.0
        self._started = 0.0

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.full_collections += 1
            self.collection_seconds += time.perf_counter() - self._started

    def as_json(self) -> dict[str, float]:
        return {
            "parses": self.parses,
            "full_collections": self.full_collections,
            "collection_seconds": round(self.collection_seconds, 3),
        }


def _count_parses(counts: Counts) -> None:
    """Wrap ``load_yaml`` before any module imports it by name."""
    from crosspost.loading import yamlfile

    real = yamlfile.load_yaml

    def counted(*args: Any, **kwargs: Any) -> Any:
        counts.parses += 1
        return real(*args, **kwargs)

    yamlfile.load_yaml = counted


def _count_bare_parses(bare: Any, counts: Counts) -> None:
    """Count each YAML document the bare script loads (it loads the schedule once)."""

    class CountingYAML(bare.YAML):  # type: ignore[misc]
        def load(self, stream: Any) -> Any:
            counts.parses += 1
            return super().load(stream)

    bare.YAML = CountingYAML


def main(argv: list[str]) -> None:
    """``OUT.json crosspost ARGS…`` or ``OUT.json bare COMMAND SCHEDULE``."""
    out, program, args = Path(argv[0]), argv[1], argv[2:]
    counts = Counts()
    gc.callbacks.append(counts.on_gc)
    atexit.register(lambda: out.write_text(json.dumps(counts.as_json()), encoding="utf-8"))
    if program == "bare":
        from benchmarks import bare

        _count_bare_parses(bare, counts)
        bare.run(args[0], Path(args[1]))
        return
    _count_parses(counts)
    from crosspost.cli import main as crosspost

    sys.argv = ["crosspost", *args]
    crosspost()


if __name__ == "__main__":
    main(sys.argv[1:])
