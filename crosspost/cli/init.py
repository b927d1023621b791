"""``crosspost init [DIR]``: a new project from the skeleton shipped inside the package.

The skeleton is package data (``crosspost/skeleton/``), read with
:mod:`importlib.resources`, so ``init`` works from an installed wheel, not only in a
checkout. Dot-files are stored without their dot (``gitignore`` → ``.gitignore``)
so that no packaging tool mistakes them for its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

import click

__all__ = ["ExistingFiles", "init", "skeleton_files", "write_skeleton"]

#: Names in the package → names in the project.
_RENAMED = {"gitignore": ".gitignore", "env.example": ".env.example"}


class ExistingFiles(click.ClickException):
    """``init`` would overwrite files; nothing was written."""

    exit_code = 2


def skeleton_files() -> Iterator[tuple[PurePosixPath, bytes]]:
    """Every file of the skeleton: its path in the new project and its content."""
    yield from _walk(files("crosspost") / "skeleton", PurePosixPath())


def _walk(folder: Traversable, prefix: PurePosixPath) -> Iterator[tuple[PurePosixPath, bytes]]:
    for item in sorted(folder.iterdir(), key=lambda t: t.name):
        if item.name == "__pycache__":
            continue
        if item.is_dir():
            yield from _walk(item, prefix / item.name)
        else:
            yield prefix / _RENAMED.get(item.name, item.name), item.read_bytes()


def write_skeleton(target: Path, force: bool = False) -> list[Path]:
    """Write the skeleton into ``target``; the files written.

    Raises:
        ExistingFiles: some file exists already and ``force`` is false (nothing written).
    """
    planned = [(target / relative, data) for relative, data in skeleton_files()]
    existing = [path for path, _ in planned if path.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise ExistingFiles(f"would overwrite {names} (use --force to replace them)")
    for path, data in planned:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return [path for path, _ in planned]


@click.command(epilog="Example: crosspost init my-posts && cd my-posts && crosspost check")
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace files that exist already.")
def init(directory: Path, force: bool) -> None:
    """Start a project in DIRECTORY (default: here): a commented schedule.yaml, content/,
    templates/, .env.example and .gitignore.

    Refuses to overwrite existing files unless --force. Exits 0 when written, 2 when
    a file is in the way.
    """
    written = write_skeleton(directory, force)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: cd {directory} && crosspost check && crosspost plan")
