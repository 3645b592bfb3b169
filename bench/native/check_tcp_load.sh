#!/usr/bin/env bash
# Checks the native load client against fake servers (fake_server.py): it
# measures a good echo, and fails loudly, in bounded time, on a server that
# hangs, corrupts the echo or closes the connection.
#   bench/native/check_tcp_load.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
client=$(bench/native/build.sh)
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
bad=0

# expect MODE RC PATTERN: the client against a MODE server exits RC within 20 s
# and its line matches PATTERN.
expect() {
  local mode=$1 want_rc=$2 pattern=$3 rc=0 line
  : >"$work/port"
  python3 bench/native/fake_server.py "$mode" >"$work/port" &
  server_pid=$!
  for _ in $(seq 50); do grep -q '^port ' "$work/port" && break; sleep 0.1; done
  local port
  port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$work/port")
  [ -n "$port" ] || { echo "check_tcp_load: the $mode server printed no port" >&2; exit 1; }
  line=$(timeout 20 "$client" "$port" 2 64 0.5) || rc=$?
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  if [ "$rc" -ne "$want_rc" ] || ! grep -Eq "$pattern" <<<"$line"; then
    echo "FAIL $mode: exit $rc (want $want_rc), line '$line' (want /$pattern/)"
    bad=1
  else
    echo "ok   $mode: exit $rc, $line"
  fi
}

expect echo 0 '^[1-9][0-9]* [0-9.]+ [0-9]+ [0-9]+ 0 ?$'
expect silent 1 ' 2 .*timed out'
expect corrupt 1 ' 2 .*differs'
expect close 1 ' 2 .*(closed the connection|reset by peer)'
exit $bad
