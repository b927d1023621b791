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


def test_ci_runs_the_readme_test_command_on_every_classified_python() -> None:
    readme = (REPO / "README.md").read_text("utf-8")
    script = (REPO / "scripts" / "test-other-pythons.sh").read_text("utf-8")
    ci = (REPO / ".ci" / "run").read_text("utf-8").rstrip().splitlines()[-1]
    assert f"```sh\n{ci}\n```" in readme and ".venv/bin/pytest" in ci
    assert ci.endswith("sh scripts/test-other-pythons.sh")
    assert (
        subprocess.run(["sh", "-n", str(REPO / "scripts" / "test-other-pythons.sh")]).returncode
        == 0
    )
    classified = {c.rsplit(" :: ", 1)[1] for c in PROJECT["classifiers"] if ":: 3." in c}
    others = next(line for line in script.splitlines() if line.startswith("OTHER_PYTHONS="))
    assert set(others.split("=")[1].strip('"').split()) == classified - {"3.11"}


def test_the_test_script_finds_a_pyenv_python_and_names_a_missing_one(tmp_path: Path) -> None:
    """Without the real installs: find_python alone, against a fake pyenv tree."""
    fake = tmp_path / "pyenv" / "versions" / "3.12.4" / "bin"
    fake.mkdir(parents=True)
    (fake / "python3.12").write_text("#!/bin/sh\nexit 0\n")
    (fake / "python3.12").chmod(0o755)
    script = (REPO / "scripts" / "test-other-pythons.sh").read_text("utf-8")
    function = script[script.index("find_python() {") : script.index("\n}\n") + 3]
    probe = f'{function}\necho "12=$(find_python 3.12)"\necho "13=$(find_python 3.13)"\n'
    env = {"PATH": "/usr/bin:/bin", "PYENV_ROOT": str(tmp_path / "pyenv"), "HOME": str(tmp_path)}
    done = subprocess.run(["sh", "-c", probe], env=env, capture_output=True, text=True)
    assert done.stdout.splitlines() == [f"12={fake / 'python3.12'}", "13="]
