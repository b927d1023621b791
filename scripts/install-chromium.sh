#!/bin/sh
# Install Debian's headless-capable Chromium for tests/test_report_html.py.
# Idempotent (does nothing when Chromium is there) and non-interactive.
# Without root and without password-less sudo it installs nothing: it says so and
# exits 0, and the browser tests skip with their reason (or fail when CI=true).
set -eu

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    echo "chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
        echo "chromium not installed (needs root or password-less sudo):" \
            "the browser tests will be skipped"
        exit 0
    fi
    SUDO="sudo -n"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
echo "installed: $("$CHROMIUM" --version)"
