"""The code style and type checks of STYLE.md, run as part of the suite so CI enforces them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SOURCES = ["crosspost", "connectors", "tests", "benchmarks"]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", *SOURCES),
        ("ruff", "format", "--check", *SOURCES),
    ],
    ids=["ruff-check", "ruff-format"],
)
def test_ruff(command: tuple[str, ...]) -> None:
    result = _run(str(BIN / command[0]), *command[1:])
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_packages() -> None:
    result = _run(str(BIN / "mypy"))  # packages and strictness come from pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- connectors/

CONNECTORS = ROOT / "connectors"
#: ``Any`` per 1,000 lines, at most (STYLE.md: typed payload models, not dict[str, Any]).
ANY_PER_1000 = 8
MODULE_LINES = 400


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _anys(path: Path) -> int:
    return len(re.findall(r"\bAny\b", path.read_text(encoding="utf-8")))


def _packages() -> dict[str, list[Path]]:
    """The modules of connectors/ by package; the top-level modules count as one."""
    packages: dict[str, list[Path]] = {}
    for path in sorted(CONNECTORS.rglob("*.py")):
        parts = path.relative_to(CONNECTORS).parts
        name = parts[0] if len(parts) > 1 else "connectors"
        packages.setdefault(name, []).append(path)
    return packages


def _density(paths: list[Path]) -> tuple[int, int]:
    return sum(_anys(path) for path in paths), sum(_lines(path) for path in paths)


@pytest.mark.parametrize("package", sorted(_packages()))
def test_each_connector_package_names_any_rarely(package: str) -> None:
    anys, lines = _density(_packages()[package])
    assert anys * 1000 < ANY_PER_1000 * lines, (
        f"{package}: {anys} Any in {lines} lines; read JSON into payload models"
    )


def test_connectors_name_any_rarely_as_a_whole() -> None:
    anys, lines = _density([path for paths in _packages().values() for path in paths])
    assert anys * 1000 < ANY_PER_1000 * lines, f"{anys} Any in {lines} lines of connectors/"


def test_every_connector_module_is_short() -> None:
    long = {
        str(path.relative_to(ROOT)): _lines(path)
        for paths in _packages().values()
        for path in paths
        if _lines(path) >= MODULE_LINES
    }
    assert not long, f"modules of {MODULE_LINES} lines or more: {long}"
