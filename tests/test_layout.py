"""The core's folder shows the flow from schedule to report, and imports respect it."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "crosspost"
#: The packages in the order a post goes through them; `cli` sits on top of all of them.
FLOW = ("loading", "rendering", "planning", "publishing", "collecting", "reporting", "cli")
#: Used by every layer, so they stay at the top level (``history`` reads the store's
#: history with ``sqlite3``, without the ORM that importing ``store`` brings, and
#: ``history_rows`` are the rows it reads; ``report_rows`` are the rows the report
#: reads, from the store or from ``sqlite3``).
SHARED = {
    "errors",
    "logs",
    "status",
    "history",
    "history_rows",
    "report_rows",
    "__init__",
    "__main__",
}


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "crosspost" and len(parts) > 1 else None


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _edges() -> dict[str, set[str]]:
    """package → the crosspost packages its modules import."""
    edges: dict[str, set[str]] = {}
    for path in CORE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        package = path.relative_to(CORE).parts[0].removesuffix(".py")
        targets = {_package(module) for module in _imports(path)} - {None, package}
        edges.setdefault(package, set()).update(t for t in targets if t is not None)
    return edges


def test_every_core_module_lives_in_a_package_of_the_flow() -> None:
    top_level = {path.stem for path in CORE.glob("*.py")}
    packages = {path.name for path in CORE.iterdir() if (path / "__init__.py").exists()}
    assert top_level <= SHARED, top_level - SHARED
    assert packages == {*FLOW, "store"}


def test_nothing_imports_the_commands() -> None:
    importers = {package for package, targets in _edges().items() if "cli" in targets}
    assert importers <= {"__main__"}, importers


def test_the_store_imports_no_layer_above_it() -> None:
    assert _edges()["store"] <= SHARED, _edges()["store"]


def test_only_the_commands_read_reports() -> None:
    importers = {package for package, targets in _edges().items() if "reporting" in targets}
    assert importers <= {"cli"}, importers


def test_collecting_and_reporting_never_publish() -> None:
    edges = _edges()
    assert "publishing" not in edges["collecting"] | edges["reporting"]


#: The import points kept on purpose (besides the packages' ``__init__``): the connector
#: contract (docs/writing-a-connector.md) and the tables (Alembic and the schema test).
FACADES = {"connectors/base.py", "connectors/http.py", "crosspost/store/models.py"}
#: Single names the docs tell connector authors to import from a second place.
DOCUMENTED = {("connectors/records.py", "KeepsRecords")}


def _reexported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    exported: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__":
            exported = set(ast.literal_eval(node.value))
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    return exported & imported


def test_each_name_is_exported_by_the_module_that_defines_it() -> None:
    """One obvious place to import each thing from: no module passes on another's names."""
    root = CORE.parent
    found = {
        (str(path.relative_to(root)), name)
        for folder in (CORE, root / "connectors")
        for path in folder.rglob("*.py")
        if path.name != "__init__.py" and str(path.relative_to(root)) not in FACADES
        for name in _reexported(path)
    }
    assert found <= DOCUMENTED, sorted(found - DOCUMENTED)
