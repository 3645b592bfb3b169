#!/usr/bin/env bash
# Quick start 2: set up, build and run every test. Exits non-zero on any failure.
#   Windows build under Wine (ctest), native proto/ tests under ASan+UBSan,
#   and the libFuzzer targets for a bounded time (IOCAF_FUZZ_SECONDS, default 30 each).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/setup.sh

echo "== Windows build, tests under Wine"
bash scripts/build.sh windows
ctest --preset windows -j1

echo "== native proto/ build, tests under ASan+UBSan"
bash scripts/build.sh native
ctest --preset native

echo "== fuzzing proto/"
bash scripts/fuzz.sh build/native "${IOCAF_FUZZ_SECONDS:-30}"

echo "== all tests passed in $(( $(date +%s) - start )) s"
