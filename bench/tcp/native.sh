#!/usr/bin/env bash
# TCP echo with a native Linux load client: each server (iocaf, a raw IOCP
# loop, Asio) runs alone under Wine in its own process (iocaf_tcp_serve.exe);
# the client (bench/native/tcp_load.cpp, built by bench/native/build.sh with the system g++) runs
# outside Wine, so only the server pays Wine's costs. All three servers run at
# once; each cell measures them one after another in a rotating order (the
# first measured in a process was slower under Wine; see tcp_bench.cpp).
#   bench/tcp/native.sh [BUILD_DIR] [--seconds S] [--workers-too]   (default build/windows, 2 s per cell)
# --workers-too: also iocaf-w, iocaf with the actors a completion wakes on CAF's workers.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build/windows
seconds=2
workers_too=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --workers-too) workers_too=1; shift ;;
    -*) echo "native.sh: unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
  esac
done
serve="$build/bench/tcp/iocaf_tcp_serve.exe"
[ -f "$serve" ] || { echo "native.sh: $serve missing: build the target iocaf_tcp_serve first" >&2; exit 1; }
client=$(bench/native/build.sh)
export IOCAF_WINEPREFIX=${IOCAF_WINEPREFIX:-$PWD/$build/wineprefix}

# Whether this prefix's wineserver runs: it works in /tmp/...wine.../server-DEV-INODE
# of the prefix directory.
prefix_server_running() {
  [ -d "$IOCAF_WINEPREFIX" ] || return 1
  local id p
  id=$(printf 'server-%x-%x' $(stat -L -c '%d %i' "$IOCAF_WINEPREFIX"))
  for p in /proc/[0-9]*; do
    [[ "$(cat "$p/comm" 2>/dev/null)" == wineserver* ]] && [[ "$(readlink "$p/cwd" 2>/dev/null)" == */"$id" ]] &&
      return 0
  done
  return 1
}
# A wineserver this script started is stopped at the end (with Wine's
# services), so a run leaves no Wine process behind; one that ran already
# (ctest, another run) is left alone.
prefix_server_running && own_wineserver=0 || own_wineserver=1
scripts/wine-run.sh --start

work=$(mktemp -d)
servers=(iocaf iocp asio)
[ "$workers_too" = 1 ] && servers=(iocaf iocaf-w iocp asio)
declare -A port pid fd
cleanup() {
  for s in "${servers[@]}"; do
    [ -n "${fd[$s]:-}" ] && eval "exec ${fd[$s]}>&-" 2>/dev/null || true
  done
  for s in "${servers[@]}"; do
    [ -n "${pid[$s]:-}" ] && kill "${pid[$s]}" 2>/dev/null || true
  done
  [ "$own_wineserver" = 1 ] && scripts/wine-run.sh --stop
  rm -rf "$work"
}
trap cleanup EXIT

for s in "${servers[@]}"; do
  mkfifo "$work/in-$s"
  scripts/wine-run.sh "$serve" --server "$s" <"$work/in-$s" >"$work/out-$s" 2>"$work/err-$s" &
  pid[$s]=$!
  exec {f}>"$work/in-$s" # holds the server's stdin open; closing it stops the server
  fd[$s]=$f
done
for s in "${servers[@]}"; do
  for _ in $(seq 300); do
    grep -q '^port ' "$work/out-$s" && break
    kill -0 "${pid[$s]}" 2>/dev/null || { echo "native.sh: $s server exited: $(cat "$work/err-$s")" >&2; exit 1; }
    sleep 0.1
  done
  port[$s]=$(sed -n 's/^port \([0-9]*\).*/\1/p' "$work/out-$s" | head -1)
  [ -n "${port[$s]}" ] || { echo "native.sh: $s server printed no port in 30 s" >&2; exit 1; }
done

failed=0
for s in "${servers[@]}"; do # warm-up
  "$client" "${port[$s]}" 4 64 0.2 >/dev/null || failed=1
  "$client" "${port[$s]}" 1 64 0.2 >/dev/null || failed=1
done
rotation=0
for size in 64 16384; do
  for conns in 1 16 64; do
    for i in "${!servers[@]}"; do
      s=${servers[$(( (i + rotation) % ${#servers[@]} ))]}
      rc=0
      line=$("$client" "${port[$s]}" "$conns" "$size" "$seconds") || rc=$?
      # messages seconds p50 p99 failed [error]; anything else (a crash) is a failed cell of 0.
      if ! [[ "$line" =~ ^[0-9]+\ [0-9.]+\ [0-9]+\ [0-9]+\ [0-9]+ ]]; then
        line="0 $seconds 0 0 $conns client exit $rc: $line"
        rc=1
      fi
      if [ "$rc" -ne 0 ]; then
        failed=1
        echo "native.sh: $s $size B x $conns: $line" >&2
      fi
      echo "$s $size $conns $line" >>"$work/cells"
    done
    rotation=$((rotation + 1))
  done
done

for s in "${servers[@]}"; do
  eval "exec ${fd[$s]}>&-"
  fd[$s]=
done
for s in "${servers[@]}"; do
  for _ in $(seq 300); do kill -0 "${pid[$s]}" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "${pid[$s]}" 2>/dev/null; then
    echo "native.sh: $s server still running 30 s after its stdin closed" >&2
    failed=1
  elif ! wait "${pid[$s]}"; then
    echo "native.sh: $s server failed: $(cat "$work/err-$s")" >&2
    failed=1
  fi
  pid[$s]=
done

echo "TCP echo, $seconds s per cell, loopback, native Linux client, each server alone under Wine (order rotating per cell)"
awk -v servers="${servers[*]}" '
  { key = $2 " " $3; rate[$1 " " key] = ($5 > 0 ? $4 / $5 : 0); row[NR] = $0 }
  END {
    printf "%-7s %7s %5s %10s %9s %9s %9s %10s\n", "server", "size", "conns", "msg/s", "MB/s", "p50 us", "p99 us", "vs iocaf"
    n = split(servers, order, " ")
    for (o = 1; o <= n; o++)
      for (r = 1; r <= NR; r++) {
        split(row[r], f, " ")
        if (f[1] != order[o]) continue
        m = (f[5] > 0 ? f[4] / f[5] : 0); base = rate["iocaf " f[2] " " f[3]]
        printf "%-7s %7d %5d %10.0f %9.2f %9.0f %9.0f %9.2fx\n", f[1], f[2], f[3], m, m * f[2] / 1e6, f[6], f[7], (base > 0 ? m / base : 0)
        if (f[2] == 64 && f[3] == 1) p50[f[1]] = f[6]
      }
    # The latency check of tcp_bench: one connection against the raw loop, flagged past 3x.
    if (p50["iocp"] > 0) {
      ratio = p50["iocaf"] / p50["iocp"]
      printf "latency check, 1 connection, 64 B: iocaf p50 %.0f us, raw loop %.0f us: %.2fx%s\n", p50["iocaf"], p50["iocp"], ratio, (ratio > 3 ? "  FLAG: over 3x the raw loop" : "")
    }
  }' "$work/cells"
exit $failed
