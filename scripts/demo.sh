#!/usr/bin/env bash
# Quick start 1: set up, build, run a demo under Wine.
#   IOCAF_DEMO=chat (default): a chat server and three scripted clients over a named pipe
#   IOCAF_DEMO=hello: one actor receiving one named-pipe read through the IO broker
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Only what the demo runs: the tests are scripts/test.sh's to build.
case "${IOCAF_DEMO:-chat}" in
  chat)
    bash scripts/build.sh windows chat_server chat_client
    exec bash scripts/chat-demo.sh ;;
  hello)
    bash scripts/build.sh windows iocaf_hello
    export IOCAF_WINEPREFIX="$PWD/build/windows/wineprefix"
    scripts/wine-run.sh --start
    trap 'scripts/wine-run.sh --stop' EXIT
    scripts/wine-run.sh build/windows/demos/hello/iocaf_hello.exe ;;
  *) echo "demo.sh: unknown demo '${IOCAF_DEMO}' (chat, hello)" >&2; exit 2 ;;
esac
