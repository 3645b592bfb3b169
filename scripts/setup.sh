#!/usr/bin/env bash
# Installs everything iocaf needs on Debian 12 (run as root) and builds
# libcaf_core 0.17.6 for MinGW-w64 into a cache outside the repo.
# Idempotent: on a machine that already has everything it takes seconds.
set -euo pipefail

CAF_VERSION=0.17.6
CAF_SHA256=e2bf5bd243f08bb7d8adde197cfe3e6d71314ed3378fe0692f8932f4c3b3928c
CACHE_ROOT=${IOCAF_CACHE:-/var/cache/iocaf}
# The cache key names our patch level: bump it when the patch below changes.
CAF_PREFIX="$CACHE_ROOT/caf-$CAF_VERSION-mingw64-p1"
REPO=$(cd "$(dirname "$0")/.." && pwd)

PACKAGES=(cmake ninja-build g++-mingw-w64-x86-64-posix mingw-w64-tools wine wine64
          libspdlog-dev libfmt-dev googletest libasio-dev libcaf-dev
          clang libclang-rt-14-dev dpkg-dev ca-certificates
          tmux) # tmux: the console chat client is checked in a real terminal (chat_tty_check)

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs Debian packages)"

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

# MinGW must use the posix thread model (std::thread, std::mutex for CAF).
update-alternatives --set x86_64-w64-mingw32-g++ /usr/bin/x86_64-w64-mingw32-g++-posix >/dev/null
update-alternatives --set x86_64-w64-mingw32-gcc /usr/bin/x86_64-w64-mingw32-gcc-posix >/dev/null

if [ -f "$CAF_PREFIX/.complete" ]; then
  log "CAF $CAF_VERSION for MinGW cached in $CAF_PREFIX"
  exit 0
fi

# Source entries: a deb-src twin of the system's own Debian sources file.
SRC_LIST=/etc/apt/sources.list.d/iocaf-deb-src.sources
if ! apt-cache showsrc actor-framework >/dev/null 2>&1 || ! apt-cache showsrc actor-framework | grep -q "^Version: $CAF_VERSION"; then
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$SRC_LIST"
  elif [ -f /etc/apt/sources.list ]; then
    grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > /etc/apt/sources.list.d/iocaf-deb-src.list
  else
    die "no Debian sources file found to derive deb-src entries from"
  fi
  apt-get update -qq
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball="actor-framework_$CAF_VERSION.orig.tar.gz"
log "fetching Debian source package actor-framework $CAF_VERSION"
# The Debian packaging tarball may 404 on this mirror, making apt exit
# non-zero; the orig tarball is what we need, and its checksum decides.
(cd "$work" && apt-get source --download-only "actor-framework=$CAF_VERSION"* >"$work/apt-source.log" 2>&1) || \
  (cd "$work" && apt-get source --download-only actor-framework >>"$work/apt-source.log" 2>&1) || true
[ -f "$work/$tarball" ] || { cat "$work/apt-source.log" >&2; die "$tarball was not downloaded"; }
echo "$CAF_SHA256  $work/$tarball" | sha256sum -c --quiet - || die "$tarball checksum mismatch"

log "building libcaf_core $CAF_VERSION for MinGW-w64 (about 2 minutes)"
tar -xzf "$work/$tarball" -C "$work"
src=$(find "$work" -maxdepth 1 -type d -name 'actor-framework*' | head -n1)
[ -n "$src" ] || die "unpacked CAF source not found"
# Patch: CAF's thread_local intrusive_ptr (the current logger) is destroyed
# after MinGW's emutls already freed its storage when a thread exits: a
# use-after-free in ref_counted::deref that crashed test programs under Wine
# whenever a detached actor's thread ended. CAF already avoids thread_local
# for the same GCC bug (gcc.gnu.org PR 67135) on macOS; do so on MinGW too.
grep -q '#  ifdef __APPLE__' "$src/libcaf_core/caf/config.hpp" || die "CAF config.hpp not as expected for the patch"
sed -i 's/^#  ifdef __APPLE__$/#  if defined(__APPLE__) || defined(__MINGW32__)/' "$src/libcaf_core/caf/config.hpp"
cmake -S "$src" -B "$work/build" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE="$REPO/cmake/mingw-w64.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$CAF_PREFIX" \
  -DCAF_NO_IO=yes -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_OPENSSL=yes \
  -DCAF_NO_OPENCL=yes -DCAF_NO_PYTHON=yes -DCAF_NO_TOOLS=yes -DCAF_NO_BENCHMARKS=yes \
  -DCAF_BUILD_STATIC_ONLY=yes -DCAF_NO_AUTO_LIBCPP=yes >"$work/cmake.log" 2>&1 || { tail -40 "$work/cmake.log" >&2; die "CAF configure failed"; }
cmake --build "$work/build" -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; die "CAF build failed"; }
rm -rf "$CAF_PREFIX"
cmake --install "$work/build" >/dev/null
touch "$CAF_PREFIX/.complete"
log "CAF cached in $CAF_PREFIX"
