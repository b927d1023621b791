#!/bin/sh
# The last step of the README's test command (and of .ci/run): after the whole suite on
# python3, the core's unit tests and the connector contract suite on every other supported
# Python this machine has (OTHER_PYTHONS), each in its own venv (.venv-3.12, .venv-3.13)
# with the `test-core` extra only (tests that need the `test` extra's servers fail there).
#
#   sh scripts/test-other-pythons.sh                 # OTHER_PYTHON_TESTS
#   sh scripts/test-other-pythons.sh tests/test_x.py # these tests instead
#
# Without the real-server, PostgreSQL and `slow` tests: those start servers and
# subprocesses whose behaviour does not depend on the Python version, and running
# everything three times would take CI past its 15-minute budget. A Python that is not on
# this machine is named and skipped.
set -eu
cd "$(dirname "$0")/.."

OTHER_PYTHONS="3.12 3.13"
OTHER_PYTHON_TESTS="tests/contract tests/test_schedule.py tests/test_content.py tests/test_render.py
    tests/test_markdown.py tests/test_text.py tests/test_urls.py tests/test_store.py
    tests/test_plan.py tests/test_publisher.py tests/test_states.py tests/test_sync.py
    tests/test_daemon_planning.py"

# pythonX.Y on PATH if it runs (a pyenv shim without that version selected does not),
# else a pyenv-installed one; nothing when the machine has none.
find_python() {
    if command -v "python$1" >/dev/null 2>&1 && "python$1" -c "" >/dev/null 2>&1; then
        command -v "python$1"
        return
    fi
    root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-${HOME:-/nonexistent}/.pyenv}")"
    for candidate in "$root"/versions/"$1".*/bin/"python$1"; do
        if [ -x "$candidate" ]; then
            echo "$candidate"
        fi
    done | sort -V | tail -n 1
}

tested="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
for version in $OTHER_PYTHONS; do
    python="$(find_python "$version")"
    if [ -z "$python" ]; then
        echo "test-other-pythons: Python $version is not on this machine: skipped"
        continue
    fi
    venv=".venv-$version"
    echo "test-other-pythons: Python $version ($python)"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install -q -e ".[test-core]"
    # shellcheck disable=SC2086 # the list is split on purpose
    "$venv/bin/pytest" -q -n auto --dist loadfile -m "not realserver and not slow and not postgres" \
        ${*:-$OTHER_PYTHON_TESTS}
    tested="$tested $version"
done
echo "test-other-pythons: the tests passed on Python $tested"
