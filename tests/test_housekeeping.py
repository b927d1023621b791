"""What a user expects of a package: licence, changelog, URLs, classifiers, completion."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]


def test_license_file_is_the_declared_licence() -> None:
    assert PROJECT["license"] == "MIT"
    assert (REPO / "LICENSE").read_text("utf-8").startswith("MIT License")


def test_changelog_and_project_urls() -> None:
    assert "## [Unreleased]" in (REPO / "CHANGELOG.md").read_text("utf-8")
    assert {"Homepage", "Changelog", "Issues"} <= set(PROJECT["urls"])
    assert all(isinstance(url, str) for url in PROJECT["urls"].values())
    assert "click>=8.2,<9" in PROJECT["dependencies"]  # not swallowed by another table


def test_classifiers_name_every_supported_python() -> None:
    minimum = PROJECT["requires-python"].removeprefix(">=")
    versions = {c.rsplit(" :: ", 1)[1] for c in PROJECT["classifiers"] if ":: 3." in c}
    assert min(versions, key=lambda v: int(v.split(".")[1])) == minimum
    assert {"3.11", "3.12", "3.13"} <= versions


def test_documented_completion_works() -> None:
    assert "_CROSSPOST_COMPLETE=bash_source crosspost" in (REPO / "README.md").read_text("utf-8")
    env = {**os.environ, "_CROSSPOST_COMPLETE": "bash_source"}
    done = subprocess.run(
        [sys.executable, "-c", "from crosspost.cli import main; main()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "_crosspost_completion()" in done.stdout
