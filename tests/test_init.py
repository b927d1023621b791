"""``crosspost init``: a new project from the package's skeleton, also from an installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner

from crosspost.cli import cli

REPO = Path(__file__).resolve().parent.parent


def _init(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["init", *args])
    return result.exit_code, result.output


def test_init_writes_a_commented_project(tmp_path: Path) -> None:
    code, output = _init(str(tmp_path / "new"))
    assert code == 0, output
    project = tmp_path / "new"
    schedule = (project / "schedule.yaml").read_text(encoding="utf-8")
    assert schedule.startswith("# crosspost schedule")
    assert (project / "content" / "hello.md").is_file()
    assert (project / "templates" / "default.j2").is_file()
    assert "MASTODON_TOKEN" in (project / ".env.example").read_text(encoding="utf-8")
    ignored = (project / ".gitignore").read_text(encoding="utf-8").split()
    assert {"crosspost.db", ".crosspost/", ".env"} <= set(ignored)
    assert "next: cd" in output


def test_init_then_check_is_clean(tmp_path: Path) -> None:
    _init(str(tmp_path))
    result = CliRunner().invoke(cli, ["-s", str(tmp_path / "schedule.yaml"), "check"])
    assert result.exit_code == 0, result.output
    assert "ok: 1 entry, 2 accounts" in result.output


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "schedule.yaml").write_text("mine\n", encoding="utf-8")
    code, output = _init(str(tmp_path))
    assert code == 2
    assert "would overwrite" in output and "--force" in output
    assert (tmp_path / "schedule.yaml").read_text(encoding="utf-8") == "mine\n"
    assert not (tmp_path / "content").exists()  # nothing written at all


def test_init_force_replaces(tmp_path: Path) -> None:
    (tmp_path / "schedule.yaml").write_text("mine\n", encoding="utf-8")
    code, output = _init(str(tmp_path), "--force")
    assert code == 0, output
    assert "mine" not in (tmp_path / "schedule.yaml").read_text(encoding="utf-8")


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "crosspost", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "crosspost" in done.stdout


def _venv_with_wheel(tmp_path: Path) -> Path:
    """A new venv with only the built wheel installed; its dependencies come from ours.

    Our site-packages is added by a ``.pth`` line, which puts it on ``sys.path`` without
    reading the ``.pth`` files inside it, so the editable checkout stays invisible.
    """
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*build, "-w", str(wheels), str(REPO)], check=True, timeout=300)
    (wheel,) = wheels.glob("crosspost-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps"]
    subprocess.run([*install, str(wheel)], check=True, timeout=300)
    return venv


@pytest.mark.slow
def test_init_check_and_daemon_from_an_installed_wheel(tmp_path: Path) -> None:
    venv = _venv_with_wheel(tmp_path)
    work = tmp_path / "outside"
    work.mkdir()
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    script = "crosspost init x && cd x && crosspost check && crosspost daemon --once"
    script += " && python -c 'import crosspost; print(crosspost.__file__)'"
    done = subprocess.run(
        ["/bin/sh", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok: 1 entry," in done.stdout
    assert "published" in done.stdout
    assert str(venv) in done.stdout.splitlines()[-1]  # the wheel's copy, not the checkout
    assert (work / "x" / "public" / "feed.xml").is_file()
