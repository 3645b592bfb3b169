#!/usr/bin/env bash
# Quick start 1: set up, build, run the main demo under Wine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh windows
export IOCAF_WINEPREFIX="$PWD/build/windows/wineprefix"
scripts/wine-run.sh --start
trap 'scripts/wine-run.sh --stop' EXIT
demo=${IOCAF_DEMO:-hello}
case "$demo" in
  hello) scripts/wine-run.sh build/windows/demos/hello/iocaf_hello.exe ;;
  *) echo "demo.sh: unknown demo '$demo'" >&2; exit 2 ;;
esac
