#!/usr/bin/env bash
# Runs a Windows exe under Wine in the build tree's own prefix.
# Used as CMAKE_CROSSCOMPILING_EMULATOR, by the test fixtures and by the demos.
#   IOCAF_WINEPREFIX  prefix directory (default: ./wineprefix of the caller's build tree)
#   IOCAF_WINE_OUTPUT=detached  the program's output goes through a file (ctest: see below)
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
if [ "${IOCAF_WINE_OUTPUT:-}" = detached ]; then
  # ctest sets this. A headless conhost.exe that Wine starts for a program's
  # console children inherits the program's stdout and may outlive it, and
  # then ctest waits for its pipe until the test's timeout (seen in CI:
  # iocaf_process_tests took 461 s instead of ~22, ended by killing conhost).
  # So the program writes to a file, which is streamed to our stdout as it
  # grows and until the program ends; nothing of Wine's holds ctest's pipe.
  out=$(mktemp "${TMPDIR:-/tmp}/wine-run.XXXXXX")
  wine "$@" >"$out" 2>&1 &
  pid=$!
  tail -n +1 -s 0.1 -f --pid="$pid" "$out"
  rc=0
  wait "$pid" || rc=$?
  rm -f "$out"
  exit "$rc"
fi
exec wine "$@"
