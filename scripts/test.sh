#!/usr/bin/env bash
# Quick start 2: set up, build and run every test. Exits non-zero on any failure.
#   Windows build under Wine (ctest), native proto/ tests under ASan+UBSan,
#   and the libFuzzer targets for a bounded time (IOCAF_FUZZ_SECONDS, default 30 each).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
# Disk is a limit on CI machines (a build once stopped at "No space left on
# device"): say what there was and, at the end, what the builds took.
echo "== free disk here: $(df -h --output=avail . | tail -1 | tr -d ' ')"
bash scripts/setup.sh

echo "== Windows build, tests under Wine"
bash scripts/build.sh windows
ctest --preset windows -j1

echo "== the installed package: tests/consumer built from it with find_package(iocaf), run under Wine"
pkg=$(mktemp -d)
trap 'rm -rf "$pkg"' EXIT
cmake --install build/windows --prefix "$pkg/prefix" >/dev/null
cmake -S tests/consumer -B "$pkg/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_TOOLCHAIN_FILE="$pkg/prefix/lib/cmake/iocaf/mingw-w64.cmake" -Diocaf_DIR="$pkg/prefix/lib/cmake/iocaf" >/dev/null
cmake --build "$pkg/build" -j"$(nproc)"
(
  export IOCAF_WINEPREFIX="$PWD/build/windows/wineprefix"
  scripts/wine-run.sh --start
  trap 'scripts/wine-run.sh --stop' EXIT
  scripts/wine-run.sh "$pkg/build/pipe_echo.exe" | tee "$pkg/out.txt"
  grep -q '^echoed: hello from a consumer of the iocaf package' "$pkg/out.txt" || { echo "consumer: no echo" >&2; exit 1; }
)

echo "== native proto/ build, tests under ASan+UBSan"
bash scripts/build.sh native
ctest --preset native

echo "== fuzzing proto/"
bash scripts/fuzz.sh build/native "${IOCAF_FUZZ_SECONDS:-30}"

echo "== disk used by the builds: $(du -sh build | cut -f1)"
echo "== all tests passed in $(( $(date +%s) - start )) s"
