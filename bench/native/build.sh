#!/usr/bin/env bash
# Builds the native Linux load client with the system g++ (not MinGW, not the
# sanitizer preset: a load client must not pay for checks) into
# build/bench-native/tcp_load when missing or older than its source; prints its path.
set -euo pipefail
cd "$(dirname "$0")/../.."
client=build/bench-native/tcp_load
if [ ! -x "$client" ] || [ bench/native/tcp_load.cpp -nt "$client" ]; then
  mkdir -p build/bench-native
  g++ -O2 -std=c++17 -pthread -Wall -Wextra -o "$client" bench/native/tcp_load.cpp
fi
echo "$client"
