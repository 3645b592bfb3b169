#!/usr/bin/env bash
# Configures and builds one preset ("windows" or "native") from this tree:
# every target, or only the targets named after the preset.
#   scripts/build.sh windows                        everything
#   scripts/build.sh windows chat_server chat_client  what the chat demo needs
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-windows}
shift $(( $# > 0 ? 1 : 0 ))
cmake --preset "$preset" >/dev/null
if [ $# -gt 0 ]; then
  cmake --build --preset "$preset" -j"$(nproc)" --target "$@"
else
  cmake --build --preset "$preset" -j"$(nproc)"
fi
