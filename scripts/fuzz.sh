#!/usr/bin/env bash
# Runs the proto/ libFuzzer targets for a while each. Builds nothing: build
# them first in a native clang build configured with -DIOCAF_FUZZ=ON.
#
#   scripts/fuzz.sh BUILD_DIR [SECONDS_PER_TARGET=30]
#
# Each target runs on a copy of its seed corpus (proto/fuzz/corpus/<name>) in
# a temporary directory, so the repository is never modified. Crash inputs
# and the logs of failed runs are kept in BUILD_DIR/fuzz-artifacts/<name>/.
# Prints one summary line per target; exits non-zero if any target found a
# crash (or a leak, timeout or out-of-memory), or could not be run.
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR [SECONDS_PER_TARGET]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
BUILD_DIR=$(cd "$1" && pwd) || usage
SECONDS_PER_TARGET=${2:-30}
[[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]] || usage
REPO=$(cd "$(dirname "$0")/.." && pwd)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/iocaf-fuzz.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

status=0
for name in frame chat; do
  exe="$BUILD_DIR/proto/iocaf_fuzz_$name"
  if [ ! -x "$exe" ]; then
    echo "$name: MISSING $exe (configure with -DIOCAF_FUZZ=ON and build it)"
    status=1
    continue
  fi
  corpus="$TMP/$name/corpus"
  artifacts="$BUILD_DIR/fuzz-artifacts/$name"
  log="$TMP/$name/log"
  mkdir -p "$corpus" "$artifacts"
  cp "$REPO/proto/fuzz/corpus/$name/"* "$corpus/"
  seeds=$(ls "$corpus" | wc -l)

  rc=0
  "$exe" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || rc=$?

  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  files=$(ls "$corpus" | wc -l)
  if [ "$rc" -eq 0 ]; then
    echo "$name: ok, ${runs:-?} runs in ${SECONDS_PER_TARGET} s, corpus $seeds -> $files inputs"
  else
    cp "$log" "$artifacts/log"
    found=$(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant violated|.*deadly signal|.*out-of-memory|.*timeout)' "$log" || true)
    echo "$name: FAILED (exit $rc) after ${runs:-?} runs: ${found:-see log}; artifacts and log in $artifacts"
    status=1
  fi
done
exit $status
