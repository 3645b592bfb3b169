#!/usr/bin/env bash
# Configures and builds one preset ("windows" or "native") from this tree.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-windows}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j"$(nproc)"
