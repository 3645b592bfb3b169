#!/usr/bin/env bash
# Runs a Windows exe under Wine in the build tree's own prefix.
# Used as CMAKE_CROSSCOMPILING_EMULATOR, by the test fixtures and by the demos.
#   IOCAF_WINEPREFIX  prefix directory (default: ./wineprefix of the caller's build tree)
set -euo pipefail
: "${IOCAF_WINEPREFIX:?IOCAF_WINEPREFIX must name the Wine prefix directory}"
export WINEPREFIX="$IOCAF_WINEPREFIX"
export WINEARCH=win64
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES="mscoree,mshtml="
case "${1:-}" in
  --start)   # create the prefix if needed and keep one wineserver alive for the run
    mkdir -p "$WINEPREFIX"
    if [ ! -d "$WINEPREFIX/drive_c" ]; then
      wineboot -i >/dev/null 2>&1 || { echo "wine-run: wineboot failed for $WINEPREFIX" >&2; exit 1; }
    fi
    [ -d "$WINEPREFIX/drive_c" ] || { echo "wine-run: could not create prefix $WINEPREFIX" >&2; exit 1; }
    # Exit status 2: a server already runs for this prefix, which is as good.
    wineserver -p </dev/null >/dev/null 2>&1 || [ $? -eq 2 ]
    # Start Wine's own services (services.exe, winedevice.exe, ...) now, with
    # their output detached: started later by a test, they would inherit its
    # stdout and ctest would wait for that pipe to close until the server stops.
    wineboot </dev/null >/dev/null 2>&1 || { echo "wine-run: wineboot failed for $WINEPREFIX" >&2; exit 1; }
    exit 0 ;;
  --stop)    # stop this prefix's wineserver only
    wineserver -k 2>/dev/null || true
    wineserver -w 2>/dev/null || true
    exit 0 ;;
esac
if [ "${IOCAF_WINE_DETACH_OUTPUT:-}" = 1 ]; then
  # Under ctest: a helper Wine starts for the program (a headless conhost.exe
  # when it has no console) may outlive it holding the program's stdout, and
  # ctest then waits for that pipe to close forever (seen twice: a suite hung
  # after iocaf_process_tests had exited, with only a conhost.exe left). The
  # program writes to files instead; they are copied out once it has ended.
  out=$(mktemp) err=$(mktemp)
  trap 'rm -f "$out" "$err"' EXIT
  rc=0
  wine "$@" >"$out" 2>"$err" || rc=$?
  cat "$out"
  cat "$err" >&2
  exit "$rc"
fi
exec wine "$@"
