#!/usr/bin/env bash
# scripts/e2e/start-code-server.sh [options] [WORKSPACE]
#   Starts code-server on a free 127.0.0.1 port with isolated HOME/XDG/TMPDIR,
#   user-data and extensions dirs under STATE_DIR, waits until it answers HTTP,
#   then prints KEY=VALUE lines on stdout (URL, PORT, PGID, PGID_FILE, STATE_DIR, LOG).
#
# Options:
#   --cache-dir DIR   where install-code-server.sh put code-server
#                     (default <repo>/.vscode-test/code-server; or set CODE_SERVER_BIN)
#   --state-dir DIR   scratch dir for this instance, kept after --stop (logs!)
#                     (default: mktemp -d under $TMPDIR, deleted by --stop)
#   --port N          port (default: a free one)
#   --extension DIR   symlink an unpacked extension folder into the extensions dir (repeatable)
#   --vsix FILE       code-server --install-extension FILE into the extensions dir (repeatable)
#   --timeout SEC     how long to wait for HTTP (default 60)
#
# start-code-server.sh --stop STATE_DIR
#   Kills the process group recorded in STATE_DIR/code-server.pgid (and only it);
#   deletes STATE_DIR if this script created it.
#   By hand: kill -TERM -- -"$(cat STATE_DIR/code-server.pgid)"
set -euo pipefail
die() { echo "start-code-server: ERROR: $*" >&2; exit 1; }

if [ "${1:-}" = "--stop" ]; then
  f="${2:?usage: $0 --stop STATE_DIR}/code-server.pgid"
  [ -f "$f" ] || die "no $f"
  pg="$(cat "$f")"
  # The group is ours if some live member still runs with this STATE_DIR in its environment or
  # command line (the leader itself may already be a zombie, whose cmdline is empty).
  sd="$(cd "$2" 2>/dev/null && pwd || echo "$2")"; ours=0
  for p in $(ps -o pid= -g "$pg" 2>/dev/null); do
    if tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qF "$sd" \
      || tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF "$sd"; then ours=1; break; fi
  done
  [ "$ours" = 1 ] || { ps -o pid= -g "$pg" >/dev/null 2>&1 || { rm -f "$f"; echo "process group $pg already gone" >&2; exit 0; }
    die "process group $pg does not belong to $2: not killing it"; }
  kill -TERM -- "-$pg" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 -- "-$pg" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pg" 2>/dev/null || true
  rm -f "$f"
  if [ -f "$2/.remove-on-stop" ]; then rm -rf "$2"; fi
  echo "stopped process group $pg" >&2; exit 0
fi

CACHE_DIR="$(cd "$(dirname "$0")/../.." && pwd)/.vscode-test/code-server"; STATE_DIR=""; PORT=""; TIMEOUT=60; EXTS=(); VSIXS=(); WORKSPACE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cache-dir) CACHE_DIR="$2"; shift 2 ;;
    --state-dir) STATE_DIR="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --extension) EXTS+=("$2"); shift 2 ;;
    --vsix) VSIXS+=("$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"); shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) WORKSPACE="$1"; shift ;;
  esac
done

BIN="${CODE_SERVER_BIN:-$CACHE_DIR/node_modules/.bin/code-server}"
[ -x "$BIN" ] || die "code-server not found at $BIN (run install-code-server.sh first)"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
if [ -z "$STATE_DIR" ]; then  # auto-created: --stop deletes it again
  STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/code-server-XXXXXX")"; touch "$STATE_DIR/.remove-on-stop"
fi
mkdir -p "$STATE_DIR"; STATE_DIR="$(cd "$STATE_DIR" && pwd)"
[ -z "$PORT" ] && PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"

H="$STATE_DIR/home"; UD="$STATE_DIR/user-data"; ED="$STATE_DIR/extensions"
mkdir -p "$H" "$STATE_DIR/tmp" "$UD/User" "$ED"
# Quiet, deterministic workbench. (code-server keeps User settings on the server side.)
# gpuAcceleration off: the terminal renders as DOM text that browser tests can read; bash has
# VS Code's shell integration, which lets extension-host tests see commands and their output.
[ -f "$UD/User/settings.json" ] || cat > "$UD/User/settings.json" <<'JSON'
{
  "workbench.colorTheme": "Default Light Modern",
  "workbench.iconTheme": "vs-seti",
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "chat.commandCenter.enabled": false,
  "git.enabled": false,
  "editor.codeLens": true,
  "terminal.integrated.gpuAcceleration": "off",
  "terminal.integrated.defaultProfile.linux": "bash",
  "workbench.panel.defaultLocation": "bottom"
}
JSON
for e in "${EXTS[@]}"; do
  [ -f "$e/package.json" ] || die "--extension $e: no package.json"
  # shellcheck disable=SC2016  # a JS template literal, not shell
  id="$(node -p 'const p=require(process.argv[1]); `${p.publisher}.${p.name}-${p.version}`' "$(cd "$e" && pwd)/package.json")"
  ln -sfn "$(cd "$e" && pwd)" "$ED/$id"
done

# Same isolated environment for --install-extension and for the server itself.
CS_ENV=(HOME="$H" XDG_CONFIG_HOME="$H/.config" XDG_DATA_HOME="$H/.local/share"
        XDG_CACHE_HOME="$H/.cache" XDG_RUNTIME_DIR="$STATE_DIR/tmp" TMPDIR="$STATE_DIR/tmp"
        EXTENSIONS_GALLERY='{}')
for v in "${VSIXS[@]}"; do
  env "${CS_ENV[@]}" "$BIN" --user-data-dir "$UD" --extensions-dir "$ED" --install-extension "$v" >&2 \
    || die "--install-extension $v failed"
done

ARGS=(--auth none --bind-addr "127.0.0.1:$PORT" --config "$STATE_DIR/config.yaml"
      --user-data-dir "$UD" --extensions-dir "$ED"
      --disable-telemetry --disable-update-check --disable-workspace-trust
      --disable-getting-started-override --ignore-last-opened)
[ -n "$WORKSPACE" ] && ARGS+=("$(cd "$WORKSPACE" && pwd)")
: > "$STATE_DIR/config.yaml"

LOG="$STATE_DIR/code-server.log"
# setsid: code-server and every child (extension host, pty host, debuggees) share
# one new process group, so one `kill -- -PGID` removes exactly what we started.
# (env and setsid exec in place, so $! is code-server's pid and its group id.)
env "${CS_ENV[@]}" setsid "$BIN" "${ARGS[@]}" >"$LOG" 2>&1 </dev/null &
PID=$!
pgid_of() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f3; }
for _ in $(seq 1 100); do [ "$(pgid_of "$PID")" = "$PID" ] && break; sleep 0.02; done
[ "$(pgid_of "$PID")" = "$PID" ] || { kill "$PID" 2>/dev/null; die "setsid did not make code-server ($PID) a group leader"; }
PGID="$PID"
echo "$PGID" > "$STATE_DIR/code-server.pgid"

URL="http://127.0.0.1:$PORT/"
deadline=$(( $(date +%s) + TIMEOUT ))
healthy() {  # node, not curl: one less package on a fresh machine
  node -e 'require("http").get(process.argv[1], (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1))' "${URL}healthz"
}
until healthy; do
  if ! kill -0 "$PID" 2>/dev/null; then tail -20 "$LOG" >&2; die "code-server exited (log: $LOG)"; fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    tail -20 "$LOG" >&2; kill -TERM -- "-$PGID" 2>/dev/null || true
    die "no HTTP answer on $URL within ${TIMEOUT}s (log: $LOG)"
  fi
  sleep 0.2
done

echo "URL=$URL"
echo "PORT=$PORT"
echo "PGID=$PGID"
echo "PGID_FILE=$STATE_DIR/code-server.pgid"
echo "STATE_DIR=$STATE_DIR"
echo "LOG=$LOG"
echo "start-code-server: up at $URL; stop with: $0 --stop $STATE_DIR  (or kill -TERM -- -$PGID)" >&2
