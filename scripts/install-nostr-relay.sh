#!/bin/sh
# Install nostr-relay (a Nostr relay written in Python, from PyPI) for the real-server
# tests of the Nostr connector (tests/realserver/test_nostr.py, the `realserver` marker).
#
# It goes into a virtualenv of its own, in a per-user cache keyed by version, because its
# dependencies (aiohttp, uvicorn, gunicorn, SQLAlchemy's asyncio extra…) are no business
# of crosspost's own environment:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/crosspost/nostr-relay-<VERSION>
# Idempotent, no root needed; only PyPI is used. Every package is pinned to the versions
# the tests were written against, so a new release of one cannot change the relay.
# The last line printed is the virtualenv's directory (for tests/realserver/nostr.py).
set -eu

VERSION=1.14
PYTHON="${PYTHON:-python3}"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "install-nostr-relay: $PYTHON not found; nothing installed" >&2
    exit 0
fi

CACHE="${XDG_CACHE_HOME:-${HOME:?neither XDG_CACHE_HOME nor HOME is set}/.cache}/crosspost"
VENV="$CACHE/nostr-relay-$VERSION"
if [ -x "$VENV/bin/nostr-relay" ] && [ -f "$VENV/.complete" ]; then
    echo "$VENV"
    exit 0
fi
mkdir -p "$CACHE"

# Built where it stays (a virtualenv records its own path); the marker file is written
# last, so an interrupted install is never taken for a finished one, and is redone.
rm -rf "$VENV"
constraints="$CACHE/nostr-relay-$VERSION.constraints.$$"
trap 'rm -f "$constraints"' EXIT
echo "installing nostr-relay==$VERSION into $VENV" >&2
cat > "$constraints" <<'EOF'
nostr-relay==1.14
aionostr==0.20.0
aiohttp==3.14.5
aiosqlite==0.22.1
alembic==1.20.1
coincurve==21.0.0
falcon==4.4.0
gunicorn==27.0.1
pydantic==2.14.4
python-rapidjson==1.25
PyYAML==6.0.4
setproctitle==1.3.8
SQLAlchemy==2.1.9
uvicorn==0.55.0
websockets==17.4
EOF
if ! "$PYTHON" -m venv "$VENV" >&2 \
    || ! "$VENV/bin/pip" install -q --disable-pip-version-check -c "$constraints" \
        "nostr-relay==$VERSION" "uvicorn[standard]" >&2; then
    rm -rf "$VENV"
    echo "install-nostr-relay: pip could not install nostr-relay==$VERSION (its error is above); nothing installed" >&2
    exit 0
fi
touch "$VENV/.complete"
echo "$VENV"
