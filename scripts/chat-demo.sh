#!/usr/bin/env bash
# The scripted chat demo: a chat server and three clients (alice, bob, carol)
# talk over a named pipe under Wine: history for a newcomer, a taken nick,
# rooms, a private message, an action; prints the transcript. Exit status 0 when
# every step happened and every program exited 0, non-zero otherwise.
#
# Every step waits (bounded) for the line that proves the previous one
# happened, so the transcript is the same on every run.
#   IOCAF_BUILD_DIR   build tree with the Windows exes (default: build/windows)
#   IOCAF_WINEPREFIX  Wine prefix (default: <build tree>/wineprefix)
#   CHAT_DEMO_TIMEOUT seconds each step may take (default: 30)
#   CHAT_DEMO_LOG_LEVEL log level of the programs (default: warn)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${IOCAF_BUILD_DIR:-build/windows}
export IOCAF_WINEPREFIX=${IOCAF_WINEPREFIX:-$PWD/$build/wineprefix}
step_timeout=${CHAT_DEMO_TIMEOUT:-30}
log_level=${CHAT_DEMO_LOG_LEVEL:-warn}
server_exe=$build/demos/chat/chat_server.exe
client_exe=$build/demos/chat/chat_client.exe
for exe in "$server_exe" "$client_exe"; do
  [ -f "$exe" ] || { echo "chat-demo: $exe not found; build first (scripts/build.sh windows)" >&2; exit 1; }
done

work=$(mktemp -d)
pipe="iocaf-chat-demo-$$"
declare -A pid=()   # program -> pid of its wine process (ours only)
started_wine=0

cleanup() {
  local rc=$?
  for fd in 3 4 5 6; do eval "exec $fd>&-" 2>/dev/null || true; done
  for name in "${!pid[@]}"; do
    if kill -0 "${pid[$name]}" 2>/dev/null; then
      echo "chat-demo: stopping $name (still running)" >&2
      kill "${pid[$name]}" 2>/dev/null || true
    fi
  done
  [ "$started_wine" = 1 ] && scripts/wine-run.sh --stop
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

fail() {
  echo "chat-demo: FAILED: $*" >&2
  for f in "$work"/*.out "$work"/*.err; do
    [ -s "$f" ] && { echo "--- $(basename "$f")" >&2; cat "$f" >&2; }
  done
  exit 1
}

# screen NAME: what program NAME printed, without the clients' "[HH:MM:SS] "
# in front (Windows ends lines with CR LF).
screen() {
  tr -d '\r' <"$work/$1.out" | sed -E 's/^\[[0-9]{2}:[0-9]{2}:[0-9]{2}\] //'
}

# printed NAME LINE [-E]: program NAME printed exactly LINE (-E: LINE is a regular expression).
printed() {
  [ -f "$work/$1.out" ] || return 1
  if [ "${3:-}" = -E ]; then screen "$1" | grep -qxE -- "$2"; else screen "$1" | grep -qxF -- "$2"; fi
}

# wait_line NAME LINE [-E]: waits until program NAME printed exactly LINE.
wait_line() {
  local name=$1 line=$2 deadline=$((SECONDS + step_timeout))
  until printed "$name" "$line" ${3:-}; do
    kill -0 "${pid[$name]}" 2>/dev/null || { printed "$name" "$line" ${3:-} && return 0; fail "$name exited before printing '$line'"; }
    [ "$SECONDS" -lt "$deadline" ] || fail "$name did not print '$line' within ${step_timeout} s"
    sleep 0.05
  done
}

# wait_exit NAME: waits until program NAME exited, and checks its status is 0.
wait_exit() {
  local name=$1 deadline=$((SECONDS + step_timeout)) rc=0
  while kill -0 "${pid[$name]}" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$name did not exit within ${step_timeout} s"
    sleep 0.05
  done
  wait "${pid[$name]}" || rc=$?
  unset "pid[$name]"
  [ "$rc" -eq 0 ] || fail "$name exited with status $rc"
  echo "          ($name exited 0)"
}

# start NAME FD PROGRAM ARGS...: runs a program with its stdin fed through FD.
start() {
  local name=$1 fd=$2
  shift 2
  mkfifo "$work/$name.in"
  # The child gets none of our fifo write ends, or it would hold the others' input open.
  scripts/wine-run.sh "$@" <"$work/$name.in" >"$work/$name.out" 2>"$work/$name.err" 3>&- 4>&- 5>&- 6>&- &
  pid[$name]=$!
  eval "exec $fd>\"\$work/\$name.in\""
}

# type NAME FD LINE: the user NAME types LINE.
type_line() {
  local name=$1 fd=$2 line=$3
  printf '%-8s> %s\n' "$name" "$line"
  printf '%s\n' "$line" >&"$fd"
}

# shows NAME LINE: NAME's screen shows LINE (waits for it).
shows() {
  wait_line "$1" "$2"
  printf '%-8s| %s\n' "$1" "$2"
}

# shows_match NAME REGEX: NAME's screen shows a line matching REGEX (waits for it).
shows_match() {
  wait_line "$1" "$2" -E
  printf '%-8s| %s\n' "$1" "$(screen "$1" | grep -xE -- "$2" | head -1)"
}

scripts/wine-run.sh --start
started_wine=1

echo "== chat demo on \\\\.\\pipe\\$pipe  ('name> ' is typed input, 'name| ' is what name's screen shows)"
start server 3 "$server_exe" --pipe "$pipe" --log-level "$log_level"
shows server "listening \\\\.\\pipe\\$pipe"

start alice 4 "$client_exe" --pipe "$pipe" --nick alice --log-level "$log_level"
shows alice "* welcome alice"
shows alice "* you are in general"
type_line alice 4 "hello, everyone"
start bob 5 "$client_exe" --pipe "$pipe" --nick bob --log-level "$log_level"
shows bob "* welcome bob"
shows_match bob "history [0-9]{2}:[0-9]{2}:[0-9]{2} <alice> hello, everyone"
shows alice "* bob joined"
start carol 6 "$client_exe" --pipe "$pipe" --nick carol --log-level "$log_level"
shows carol "* welcome carol"
shows alice "* carol joined"
shows bob "* carol joined"

type_line bob 5 "hi alice, hi carol"
shows alice "<bob> hi alice, hi carol"
shows carol "<bob> hi alice, hi carol"

type_line carol 6 "/nick bob"
shows carol "! nick bob is taken"
type_line carol 6 "/nick caroline"
shows carol "* carol is now caroline"
shows alice "* carol is now caroline"
shows bob "* carol is now caroline"
# From here on carol's screen is shown under her new nick.
ln -s carol.out "$work/caroline.out"
pid[caroline]=${pid[carol]}; unset "pid[carol]"
type_line bob 5 "/who"
shows bob "* present: alice bob caroline"

type_line alice 4 "/join rust"
shows alice "* you are in rust"
shows bob "* alice left"
type_line caroline 6 "/join rust"
shows alice "* caroline joined"
type_line caroline 6 "anyone into rust?"
shows alice "<caroline> anyone into rust?"
type_line alice 4 "/me waves"
shows caroline "* alice waves"
type_line bob 5 "/rooms"
shows bob "* rooms: general (1) rust (2)"
type_line alice 4 "/msg bob psst, bob: this is just for you"
shows bob "*alice* psst, bob: this is just for you"
shows alice "-> *bob* psst, bob: this is just for you"

type_line caroline 6 "gotta go, bye"
echo "caroline> (end of input)"
exec 6>&-
shows alice "<caroline> gotta go, bye"
shows alice "* caroline left"
wait_exit caroline
! screen carol | grep -q psst || fail "caroline saw bob's private message"
echo "          (caroline never saw the private message)"

type_line bob 5 "/quit"
# bob's input ends with /quit too: under Wine a process that exits while a
# thread is still blocked reading its stdin may be reported as killed (137).
exec 5>&-
wait_exit bob

echo "server  > (end of input: shut down)"
exec 3>&-
shows alice "* notice: server is shutting down"
# alice's input ends as well, for the same reason as bob's (see above).
exec 4>&-
wait_exit alice
wait_exit server

for name in server alice bob carol; do
  if [ -s "$work/$name.err" ]; then
    echo "chat-demo: $name wrote to stderr:" >&2
    cat "$work/$name.err" >&2
  fi
done
echo "== chat demo passed"
