"""Cold start of the ``crosspost`` command: ``--help``, ``check`` and ``status`` of the example.

``python -m benchmarks.coldstart [N]`` runs each command N times (default 7) in a fresh
process, in a temporary copy of the repository's example, and prints the median and the
fastest wall time of each, and the median CPU seconds (user + sys, which other load on
the machine barely changes). Targets on the 2-core development machine: ``--help`` and
``check`` under 0.3 s, ``status`` under 0.5 s. A fixed reference, ``python -c "import
pydantic, sqlalchemy"``, is timed in the same run: on a loaded machine compare each
command with it.

The project's modules are compiled to bytecode first, as an installed copy is (pip
compiles a wheel when it installs it): with ``PYTHONDONTWRITEBYTECODE`` set, as on the
development machine, a checkout would otherwise compile its ~50 modules from source
on every start, about a tenth of ``check``.

``crosspost publish`` of one post is timed the same way, as a whole process posting to
the mock Mastodon (tests/mockplatform) with a store already made: next to a bare
process that imports ``requests`` and posts the same status (``BARE_POST``).

``python -m benchmarks.coldstart --instructions`` counts instead the instructions
each command executes, under valgrind's callgrind (about a minute per command): the
same on an idle and on a loaded machine, so two versions can be compared exactly.
"""

from __future__ import annotations

import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.figures import Figure, Target

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"--help": 0.3, "check": 0.3, "status": 0.5}


def _command() -> list[str]:
    script = Path(sys.executable).parent / "crosspost"
    return [str(script)] if script.exists() else [sys.executable, "-m", "crosspost"]


def _example(folder: Path) -> None:
    shutil.copy(REPO / "schedule.yaml", folder / "schedule.yaml")
    shutil.copytree(REPO / "content", folder / "content")
    shutil.copytree(REPO / "templates", folder / "templates")


REFERENCE = [sys.executable, "-c", "import pydantic, sqlalchemy"]
#: What any tool must do to post once from a fresh process: the baseline of ``publish``.
BARE_POST = (
    "import sys, requests; requests.post(sys.argv[1] + '/api/v1/statuses', "
    "data={'status': 'A post of the cold-start benchmark'}, "
    "headers={'Authorization': 'Bearer ' + sys.argv[2]}, timeout=10).raise_for_status()"
)
_TOKEN = "coldstart-token"


def _compiled() -> None:
    """Bytecode for the project's packages, as pip writes it for an installed copy."""
    for package in ("crosspost", "connectors"):
        compileall.compile_dir(REPO / package, quiet=1)


def _env() -> dict[str, str]:
    """The environment of the timed commands, with this checkout's packages first.

    The commands run in a temporary folder: a relative ``PYTHONPATH`` (``.``) would name
    that folder, and the installed (editable) copy of another checkout would be timed.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")}
    paths = [path for path in env.get("PYTHONPATH", "").split(os.pathsep) if path]
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *(str(Path(p).resolve()) for p in paths)])
    return env


def _timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + sys) of one run of ``args``."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _pid, _status, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def measure(runs: int) -> dict[str, list[tuple[float, float]]]:
    """Wall and CPU times of each command and of the reference, ``runs`` times each."""
    env = _env()
    _compiled()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _example(folder)
        command = _command()
        _timed([*command, "status"], folder, env)  # creates and migrates the database
        found: dict[str, list[tuple[float, float]]] = {name: [] for name in [*TARGETS, "ref"]}
        for _ in range(runs):  # interleaved, so a burst of load hits every command alike
            for name in TARGETS:
                found[name].append(_timed([*command, name], folder, env))
            found["ref"].append(_timed(REFERENCE, folder, env))
        return found


def instructions(args: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Instructions one run of ``args`` executes (valgrind --tool=callgrind)."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind: {done.stderr[-500:]}")
    return int(found.group(1))


def main_instructions() -> None:
    """Print the instructions of each command and of the reference, once each."""
    if shutil.which("valgrind") is None:
        print("cold start: valgrind is not installed; counting instructions needs it")
        return
    env = _env()
    _compiled()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _example(folder)
        command = [sys.executable, "-m", "crosspost"]
        _timed([*command, "status"], folder, env)  # creates and migrates the database
        reference = instructions(REFERENCE, folder, env)
        print(f"cold start, instructions (callgrind); reference {reference / 1e9:.2f} G")
        for name in TARGETS:
            count = instructions([*command, name], folder, env)
            print(f"  crosspost {name:<8} {count / 1e9:.2f} G = {count / reference:.2f}x")


def _publish_project(folder: Path, url: str, posts: int) -> None:
    content = "\n".join(
        f"  - {{id: c{n}, body: 'A post of the cold-start benchmark, {n}'}}" for n in range(posts)
    )
    account = f"  m: {{connector: mastodon, instance: '{url}', access_token: '${{COLD_TOKEN}}'}}"
    (folder / "schedule.yaml").write_text(
        f"timezone: UTC\naccounts:\n{account}\ncontent:\n{content}\nposts: []\n",
        encoding="utf-8",
    )


def measure_publish(runs: int) -> dict[str, list[tuple[float, float]]]:
    """Wall and CPU times of ``crosspost publish`` of one post and of ``BARE_POST``."""
    from tests.mockplatform import MockMastodon

    env = {**_env(), "COLD_TOKEN": _TOKEN}
    _compiled()
    with tempfile.TemporaryDirectory() as tmp, MockMastodon(tokens=[_TOKEN]) as server:
        folder = Path(tmp)
        _publish_project(folder, server.url, runs + 1)
        publish = [*_command(), "publish", "--to", "m"]
        _timed([*publish, f"c{runs}"], folder, env)  # creates and migrates the database
        found: dict[str, list[tuple[float, float]]] = {"publish": [], "bare": []}
        for n in range(runs):
            found["publish"].append(_timed([*publish, f"c{n}"], folder, env))
            bare = [sys.executable, "-c", BARE_POST, server.url, _TOKEN]
            found["bare"].append(_timed(bare, folder, env))
        sent = sum(1 for r in server.requests if r.path == "/api/v1/statuses" and r.status == 200)
    if sent != 2 * runs + 1:
        raise SystemExit(f"cold start of publish: {sent} posts sent, {2 * runs + 1} expected")
    return found


def publish_figure(runs: int) -> Figure:
    """Print and return ``crosspost publish`` of one post against ``BARE_POST``."""
    found = measure_publish(runs)
    wall = statistics.median(w for w, _cpu in found["publish"])
    bare = statistics.median(w for w, _cpu in found["bare"])
    cpu = statistics.median(c for _wall, c in found["publish"])
    bare_cpu = statistics.median(c for _wall, c in found["bare"])
    print(
        f"  crosspost publish (one post to the mock) median {wall:.3f} s, {cpu:.3f} CPU-s; "
        f"a bare requests.post process {bare:.3f} s, {bare_cpu:.3f} CPU-s "
        f"({wall / bare:.2f}x)"
    )
    return Figure("`crosspost publish` of one post, whole process (median wall; baseline: "
                  "a process that imports requests and posts)", wall, "s", bare)  # fmt: skip


def main(runs: int = 7) -> list[Figure]:
    """Print the cold-start figures, each command run ``runs`` times."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cold start, median of {runs} runs (load average {load:.1f}):")
    found = measure(runs)
    references = found.pop("ref")
    reference = statistics.median(cpu for _wall, cpu in references)
    reference_wall = statistics.median(wall for wall, _cpu in references)
    figures = []
    print(f"  reference: import pydantic, sqlalchemy: {reference:.3f} CPU-s")
    for name, times in found.items():
        walls = [wall for wall, _cpu in times]
        median, best = statistics.median(walls), min(walls)
        cpu = statistics.median(c for _wall, c in times)
        verdict = "ok" if median <= TARGETS[name] else f"over the {TARGETS[name]} s target"
        print(
            f"  crosspost {name:<8} median {median:.3f} s, fastest {best:.3f} s  ({verdict}); "
            f"{cpu:.3f} CPU-s = {cpu / reference:.2f}x the reference"
        )
        figures.append(
            Figure(f"cold start `crosspost {name}` (median wall; baseline: import pydantic, "
                   "sqlalchemy)", median, "s", reference_wall, Target("<", TARGETS[name]))
        )  # fmt: skip
    return [*figures, publish_figure(runs)]


if __name__ == "__main__":
    if sys.argv[1:] == ["--instructions"]:
        main_instructions()
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
