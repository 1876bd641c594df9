#!/usr/bin/env bash
# A Coffer cluster of separate processes on 127.0.0.1: N `coffer node`s and one `coffer gateway`.
#
#   deploy/local-cluster.sh up N --dir DIR [--s3-port 9000] [--rpc-port 9100] [--admin-port 9200]
#   deploy/local-cluster.sh kill-node I --dir DIR      # kill -9 node I
#   deploy/local-cluster.sh start-node I --dir DIR     # start node I again (same flags, same data)
#   deploy/local-cluster.sh upgrade NAME --dir DIR     # stop node NAME (or the gateway) with SIGTERM,
#                                                      # start it again as $COFFER_BIN (a rolling upgrade)
#   deploy/local-cluster.sh status --dir DIR           # processes, then `coffer admin cluster status`
#   deploy/local-cluster.sh down --dir DIR             # stop everything (state stays in DIR)
#
# Node I listens for RPC on 127.0.0.1:(rpc-port + I), serves health, metrics and the admin API
# on 127.0.0.1:(admin-port + I), and keeps its state in DIR/nodeI; node 1
# bootstraps the cluster and the others join through it. The gateway serves S3 on
# 127.0.0.1:s3-port. The binary is $COFFER_BIN, else the release build under
# $CARGO_TARGET_DIR (default ~/.cache/coffer-target), else `coffer` on the PATH.
# Credentials: $COFFER_ACCESS_KEY_ID / $COFFER_SECRET_ACCESS_KEY, else generated into DIR.
set -euo pipefail

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

cmd="${1:-}"; [[ -n "$cmd" ]] || usage; shift
arg=""
if [[ "$cmd" != status && "$cmd" != down ]]; then arg="${1:-}"; [[ -n "$arg" ]] || usage; shift; fi
DIR="" S3_PORT=9000 RPC_PORT=9100 ADMIN_PORT=9200
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    --s3-port) S3_PORT="$2"; shift 2 ;;
    --rpc-port) RPC_PORT="$2"; shift 2 ;;
    --admin-port) ADMIN_PORT="$2"; shift 2 ;;
    *) usage ;;
  esac
done
[[ -n "$DIR" ]] || usage

find_bin() {
  if [[ -n "${COFFER_BIN:-}" ]]; then echo "$COFFER_BIN"; return; fi
  local t="${CARGO_TARGET_DIR:-$HOME/.cache/coffer-target}/release/coffer"
  if [[ -x "$t" ]]; then echo "$t"; return; fi
  command -v coffer || { echo "local-cluster: no coffer binary (build with make build)" >&2; exit 1; }
}

# Whether the process of a pid file runs (a killed process not yet reaped counts as gone).
alive() {
  [[ -f "$1" ]] || return 1
  local st; st="$(ps -o stat= -p "$(cat "$1")" 2>/dev/null)" || return 1
  [[ -n "$st" && "$st" != Z* ]]
}

# launch NAME LOG -- ARGS...: start a process in the background, remembering its command line
# (for start-node) and pid.
launch() {
  local name="$1"; shift
  printf '%q ' "$@" > "$DIR/$name.cmd"
  printf '%q' "$bin" > "$DIR/$name.bin"
  setsid "$@" >> "$DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$DIR/$name.pid"
}

log_size() { stat -c %s "$DIR/$1.log" 2>/dev/null || echo 0; }

wait_for() {  # wait_for NAME PATTERN SECONDS [LOG OFFSET]: PATTERN in the log after OFFSET
  local name="$1" pattern="$2" secs="$3" from="${4:-0}" i
  for ((i = 0; i < secs * 10; i++)); do
    if tail -c "+$((from + 1))" "$DIR/$name.log" 2>/dev/null | grep -q "$pattern"; then return 0; fi
    if ! alive "$DIR/$name.pid"; then
      echo "local-cluster: $name exited; its log:" >&2; tail -20 "$DIR/$name.log" >&2; return 1
    fi
    sleep 0.1
  done
  echo "local-cluster: $name not ready after ${secs}s; its log:" >&2; tail -20 "$DIR/$name.log" >&2
  return 1
}

start_node() {  # start_node NAME (from its saved command line)
  local name="$1"
  alive "$DIR/$name.pid" && { echo "$name is already running" >&2; return 0; }
  [[ -f "$DIR/$name.cmd" ]] || { echo "local-cluster: no $name in $DIR" >&2; exit 1; }
  eval "setsid $(cat "$DIR/$name.cmd") >> \"$DIR/$name.log\" 2>&1 < /dev/null &"
  echo $! > "$DIR/$name.pid"
}

case "$cmd" in
  up)
    n="$arg"
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || usage
    bin="$(find_bin)"
    mkdir -p "$DIR"
    DIR="$(cd "$DIR" && pwd)"
    if [[ ! -f "$DIR/cluster.secret" ]]; then
      (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DIR/cluster.secret")
    fi
    if [[ -n "${COFFER_ACCESS_KEY_ID:-}" && -n "${COFFER_SECRET_ACCESS_KEY:-}" ]]; then
      ak="$COFFER_ACCESS_KEY_ID" sk="$COFFER_SECRET_ACCESS_KEY"
    elif [[ -f "$DIR/keys" ]]; then
      read -r ak sk < "$DIR/keys"
    else
      ak="CF$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
      sk="$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')"
      (umask 077; echo "$ak $sk" > "$DIR/keys")
    fi
    seed="127.0.0.1:$((RPC_PORT + 1))"
    all=""
    for ((i = 1; i <= n; i++)); do
      rpc="127.0.0.1:$((RPC_PORT + i))"
      all="${all:+$all,}$rpc"
      if alive "$DIR/node$i.pid"; then continue; fi
      join=(); [[ $i -gt 1 ]] && join=(--join "$seed")
      from="$(log_size "node$i")"
      launch "node$i" "$bin" node --node-id "$i" --data "$DIR/node$i" --rpc-address "$rpc" \
        --admin-address "127.0.0.1:$((ADMIN_PORT + i))" \
        --cluster-secret-file "$DIR/cluster.secret" "${join[@]}"
      echo "127.0.0.1:$((ADMIN_PORT + i))" > "$DIR/node$i.admin"
      wait_for "node$i" "Coffer node $i ready" 90 "$from"
    done
    if ! alive "$DIR/gateway.pid"; then
      from="$(log_size gateway)"
      launch gateway env COFFER_ACCESS_KEY_ID="$ak" COFFER_SECRET_ACCESS_KEY="$sk" \
        "$bin" gateway --cluster "$all" --cluster-secret-file "$DIR/cluster.secret" \
        --data "$DIR/gateway" --address "127.0.0.1:$S3_PORT"
      wait_for gateway "S3 gateway listening" 30 "$from"
    fi
    echo "S3_ENDPOINT=http://127.0.0.1:$S3_PORT"
    echo "AWS_ACCESS_KEY_ID=$ak"
    echo "AWS_SECRET_ACCESS_KEY=$sk"
    ;;
  kill-node)
    if alive "$DIR/node$arg.pid"; then
      kill -9 "$(cat "$DIR/node$arg.pid")"
      for _ in $(seq 50); do alive "$DIR/node$arg.pid" || break; sleep 0.1; done
      echo "node $arg killed"
    else echo "node $arg is not running"; fi
    ;;
  start-node)
    from="$(log_size "node$arg")"
    start_node "node$arg"
    wait_for "node$arg" "Coffer node $arg ready" 90 "$from"
    echo "node $arg started"
    ;;
  upgrade)
    if [[ "$arg" == gateway ]]; then name=gateway ready="S3 gateway listening"
    else name="node$arg" ready="Coffer node $arg ready"; fi
    [[ -f "$DIR/$name.cmd" && -f "$DIR/$name.bin" ]] || { echo "local-cluster: no $name in $DIR" >&2; exit 1; }
    if alive "$DIR/$name.pid"; then
      kill "$(cat "$DIR/$name.pid")"
      for _ in $(seq 300); do alive "$DIR/$name.pid" || break; sleep 0.1; done
      if alive "$DIR/$name.pid"; then echo "local-cluster: $name did not stop in 30 s" >&2; exit 1; fi
    fi
    old="$(cat "$DIR/$name.bin")" bin="$(find_bin)" new="$(printf '%q' "$(find_bin)")"
    cmdline="$(cat "$DIR/$name.cmd")"
    printf '%s' "${cmdline//"$old"/"$new"}" > "$DIR/$name.cmd"
    printf '%s' "$new" > "$DIR/$name.bin"
    from="$(log_size "$name")"
    start_node "$name"
    wait_for "$name" "$ready" 90 "$from"
    echo "$name runs $bin"
    ;;
  status)
    asked=""
    for f in "$DIR"/*.pid; do
      [[ -e "$f" ]] || continue
      name="$(basename "$f" .pid)"
      if alive "$f"; then echo "$name running (pid $(cat "$f"))"; else echo "$name stopped"; fi
      if [[ -z "$asked" && -f "$DIR/$name.admin" ]] && alive "$f"; then asked="$(cat "$DIR/$name.admin")"; fi
    done
    if [[ -n "$asked" ]]; then
      echo
      "$(find_bin)" admin --node "$asked" --cluster-secret-file "$DIR/cluster.secret" cluster status
    fi
    ;;
  down)
    for f in "$DIR"/*.pid; do
      [[ -e "$f" ]] || continue
      if alive "$f"; then kill "$(cat "$f")" 2>/dev/null || true; fi
    done
    for f in "$DIR"/*.pid; do
      [[ -e "$f" ]] || continue
      for _ in $(seq 50); do alive "$f" || break; sleep 0.1; done
      if alive "$f"; then kill -9 "$(cat "$f")" 2>/dev/null || true; fi
      rm -f "$f"
    done
    echo "stopped"
    ;;
  *) usage ;;
esac
