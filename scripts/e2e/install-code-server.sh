#!/usr/bin/env bash
# scripts/e2e/install-code-server.sh [CACHE_DIR]
#
# Installs code-server (real VS Code web workbench + real extension host) into
# CACHE_DIR (default <repo>/.vscode-test/code-server, git-ignored) using only the npm
# registry and Debian packages, plus the Debian Chromium the browser tests drive.
# Idempotent: a second run with a working install is a no-op (~0.3 s).
# Adapted from the verified offline recipe (code-server 4.100.3 = VS Code 1.100.3).
#
# Env: CODE_SERVER_VERSION (default 4.100.3 = VS Code 1.100.3, the last release
#      that runs on Node 20), SKIP_APT=1 to never call apt-get.
# Prints the path of the code-server binary on stdout on success.
set -euo pipefail

CS_VERSION="${CODE_SERVER_VERSION:-4.100.3}"
# @vscode/ripgrep's postinstall downloads rg from GitHub (fails offline). We seed
# its download cache with a tarball made from Debian's /usr/bin/rg instead.
# These two constants match code-server 4.100.3 (lib/vscode/npm-shrinkwrap.json).
RG_PKG_VERSION="1.15.11"
RG_ASSET="ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
APT_PKGS=(libkrb5-dev ripgrep chromium python3 make g++)

log() { echo "install-code-server: $*" >&2; }
die() { echo "install-code-server: ERROR: $*" >&2; exit 1; }

REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE_DIR="${1:-$REPO_ROOT/.vscode-test/code-server}"
mkdir -p "$CACHE_DIR" || die "cannot create $CACHE_DIR"
CACHE_DIR="$(cd "$CACHE_DIR" && pwd)"
if [ -f "$CACHE_DIR/package.json" ] && ! grep -q '"code-server-cache"' "$CACHE_DIR/package.json"; then
  die "$CACHE_DIR has a package.json that is not ours: give a dedicated cache dir"
fi
PKG_DIR="$CACHE_DIR/node_modules/code-server"
BIN="$CACHE_DIR/node_modules/.bin/code-server"
STAMP="$CACHE_DIR/.installed-$CS_VERSION"

# One install at a time per cache dir (parallel CI jobs, two terminals).
exec 9>"$CACHE_DIR/.lock"
flock 9 || die "cannot lock $CACHE_DIR/.lock"

# `code-server --version` writes ~/.config/code-server/config.yaml: keep it out of $HOME.
cs_version() {
  local h; h="$(mktemp -d)"
  HOME="$h" XDG_CONFIG_HOME="$h/config" XDG_DATA_HOME="$h/data" "$BIN" --version 2>/dev/null | grep -E '^[0-9]+\.[0-9]+\.[0-9]+ ' | head -1
  rm -rf "$h"
}

# --- 0. Debian prerequisites (only the missing ones, only as root) ----------
# Checked on every run: the browser tests need chromium even when code-server is cached.
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "${SKIP_APT:-0}" = "1" ]; then
    log "SKIP_APT=1 but these Debian packages are missing: ${missing[*]} (continuing)"
  elif [ "$(id -u)" = "0" ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    APT_LOG="$CACHE_DIR/apt-install.log"
    { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >"$APT_LOG" 2>&1 \
      || { tail -20 "$APT_LOG" >&2; die "apt-get install ${missing[*]} failed; full log: $APT_LOG"; }
    log "installed ${missing[*]} (log: $APT_LOG)"
  else
    die "missing Debian packages: ${missing[*]}
  run as root:  apt-get update && apt-get install -y ${missing[*]}"
  fi
fi

# --- 1. code-server already installed? --------------------------------------
if [ -f "$STAMP" ] && [ -x "$BIN" ] \
   && [ -e "$PKG_DIR/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ] \
   && [ -n "$(cs_version)" ]; then
  log "code-server $CS_VERSION already installed in $CACHE_DIR"
  echo "$BIN"; exit 0
fi

# --- 2. Node 20 -------------------------------------------------------------
command -v node >/dev/null || die "node not found (code-server $CS_VERSION needs Node 20)"
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$CS_VERSION" = "4.100.3" ] && [ "$NODE_MAJOR" != "20" ]; then
  die "code-server $CS_VERSION needs Node 20, found $(node -v). (Node 22 needs code-server >= 4.103.2, and new RG_* constants here.)"
fi
[ "$(uname -m)" = "x86_64" ] || die "only x86_64 is handled by this script (ripgrep asset name)"

RG="$(command -v rg || true)"
[ -n "$RG" ] || die "ripgrep (rg) not found; install Debian package 'ripgrep'"

# --- 3. seed @vscode/ripgrep's download cache --------------------------------
WORK_TMP="$CACHE_DIR/.tmp"
rm -rf "$WORK_TMP"; mkdir -p "$WORK_TMP/vscode-ripgrep-cache-$RG_PKG_VERSION" "$WORK_TMP/rgsrc"
cp "$RG" "$WORK_TMP/rgsrc/rg"
tar czf "$WORK_TMP/vscode-ripgrep-cache-$RG_PKG_VERSION/$RG_ASSET" -C "$WORK_TMP/rgsrc" rg

# --- 4. npm install (runs code-server's own postinstall) ---------------------
# No stamp = never installed, other version, or an interrupted install: start clean.
rm -rf "$CACHE_DIR/node_modules" "$CACHE_DIR/package-lock.json" "$CACHE_DIR"/.installed-*
echo '{ "name": "code-server-cache", "private": true }' > "$CACHE_DIR/package.json"
log "npm install code-server@$CS_VERSION into $CACHE_DIR (about 1-3 min, builds native modules)"
NPM_LOG="$CACHE_DIR/npm-install.log"
# npm_config_yes=true: node-pty's install script runs `npx node-gyp`; with
# yes=false in ~/.npmrc (as on these machines) npx would refuse to fetch it.
# npm_config_dangerously_allow_all_scripts=true: npm 11.19 only warns about
# dependency install scripts missing from "allowScripts"; npm documents that it
# blocks them, and code-server needs them (native modules, its own postinstall,
# which runs nested `npm install`s that inherit this env setting).
if ! ( cd "$CACHE_DIR" && TMPDIR="$WORK_TMP" npm_config_yes=true \
       npm_config_dangerously_allow_all_scripts=true \
       npm install --save-exact --unsafe-perm --no-audit --no-fund --foreground-scripts \
       "code-server@$CS_VERSION" ) >"$NPM_LOG" 2>&1; then
  tail -40 "$NPM_LOG" >&2
  die "npm install failed; full log: $NPM_LOG"
fi

# --- 5. verify -----------------------------------------------------------------
[ -x "$PKG_DIR/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ] || die "ripgrep not in place (see $NPM_LOG)"
[ -e "$PKG_DIR/lib/vscode/node_modules.asar" ] || die "code-server postinstall did not finish (see $NPM_LOG)"
[ -d "$PKG_DIR/lib/vscode/extensions/ms-vscode.js-debug" ] || die "bundled js-debug missing"
VER="$(cs_version)"; [ -n "$VER" ] || die "$BIN --version failed"
log "installed: $VER"
rm -rf "$WORK_TMP"
touch "$STAMP"
echo "$BIN"
