#!/usr/bin/env bash
# Quick start 1: set up, build, run a demo under Wine.
#   IOCAF_DEMO=chat (default): a chat server and three scripted clients over a named pipe
#   IOCAF_DEMO=hello: one actor receiving one named-pipe read through the IO broker
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh windows
case "${IOCAF_DEMO:-chat}" in
  chat) exec bash scripts/chat-demo.sh ;;
  hello)
    export IOCAF_WINEPREFIX="$PWD/build/windows/wineprefix"
    scripts/wine-run.sh --start
    trap 'scripts/wine-run.sh --stop' EXIT
    scripts/wine-run.sh build/windows/demos/hello/iocaf_hello.exe ;;
  *) echo "demo.sh: unknown demo '${IOCAF_DEMO}' (chat, hello)" >&2; exit 2 ;;
esac
