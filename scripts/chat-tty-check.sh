#!/usr/bin/env bash
# Checks the chat client at a real terminal under Wine: a client runs in a
# tmux pane (Wine's console bridged to the terminal), keys are typed into it
# with `tmux send-keys` while another client, fed from a pipe, sends lines.
# Every incoming line must appear above the line being typed, and the typed
# line must stay intact on the bottom row; the edited line and a UTF-8 line
# must reach the other client byte-exact; history recalls sent lines.
#
#   scripts/chat-tty-check.sh [BUILD_DIR]     (default: build)
#
# Needs tmux and wine (a terminal of its own: tmux provides it, so no real
# terminal is needed). Prints the captured screen; exits 0 if every check
# held, 1 if one failed (typed input overwritten, a line lost), 2 if tmux or
# the programs are missing. Every wait is bounded (WAIT_S seconds) and polls
# the screen or the other client's output for what it waits for.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd) || exit 2
bin=$build/demos/chat
wait_s=${WAIT_S:-30}
command -v tmux >/dev/null || { echo "chat-tty-check: tmux is not installed" >&2; exit 2; }
for exe in chat_server chat_client; do
  [ -f "$bin/$exe.exe" ] || { echo "chat-tty-check: $bin/$exe.exe is not built" >&2; exit 2; }
done
export IOCAF_WINEPREFIX=${IOCAF_WINEPREFIX:-$build/wineprefix}
"$here/wine-run.sh" --start || exit 2

tmp=$(mktemp -d)
session=iocaf-tty-$$
pipe=iocaf-tty-$$
screen_file=$tmp/screen.txt
server_pid='' talker_pid=''
cleanup() {
  exec 3>&- 4>&- 2>/dev/null
  tmux kill-session -t "$session" 2>/dev/null
  # The server and the talker end at the end of their input (closed above).
  for pid in $talker_pid $server_pid; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill "$pid" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

screen() { tmux capture-pane -p -t "$session" > "$screen_file" 2>/dev/null; cat "$screen_file"; }
# The last non-empty row: where the line being typed is.
input_row() { screen | sed -e 's/[[:space:]]*$//' | grep -v '^$' | tail -n 1; }
fail() {
  echo "chat-tty-check: FAILED: $*" >&2
  echo "--- screen:" >&2; screen >&2
  echo "--- talker's output:" >&2; cat "$tmp/talker.out" >&2
  exit 1
}
# until DESCRIPTION COMMAND...: polls COMMAND every 0.1 s, up to wait_s.
until_ok() {
  local what=$1; shift
  for _ in $(seq $((wait_s * 10))); do "$@" && return 0; sleep 0.1; done
  fail "timed out waiting for $what"
}
on_screen() { screen | grep -qxF -- "$1"; }
row_is() { [ "$(input_row)" = "$1" ]; }
talker_got() { grep -qxF -- "$1" "$tmp/talker.out"; }
keys() { tmux send-keys -t "$session" "$@"; }
text() { tmux send-keys -t "$session" -l -- "$1"; }

mkfifo "$tmp/server.in" "$tmp/talker.in"
"$here/wine-run.sh" "$bin/chat_server.exe" --pipe "$pipe" --log-level warn < "$tmp/server.in" > "$tmp/server.out" 2>&1 &
server_pid=$!
exec 3> "$tmp/server.in"
until_ok "the server" grep -q '^listening' "$tmp/server.out"

tmux new-session -d -s "$session" -x 100 -y 30 \
  "IOCAF_WINEPREFIX='$IOCAF_WINEPREFIX' '$here/wine-run.sh' '$bin/chat_client.exe' --pipe $pipe --nick typer --timestamps off; echo \"typer exited \$?\"; sleep 600"
until_ok "typer's welcome" on_screen "* welcome typer"
until_ok "typer's prompt" row_is ">"

"$here/wine-run.sh" "$bin/chat_client.exe" --pipe "$pipe" --nick talker --timestamps off < "$tmp/talker.in" > "$tmp/talker.out" 2>&1 &
talker_pid=$!
exec 4> "$tmp/talker.in"
until_ok "talker joining" on_screen "* talker joined"

cafe=$(printf 'caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd')          # café 你好
zoe=$(printf 'Zo\xc3\xab \xe7\x8e\x8b\xe8\x8a\xb3 na\xc3\xafve')  # Zoë 王芳 naïve

# Half a line typed; lines arrive; the typed part stays on the bottom row.
text "hello wor"
until_ok "the typed text" row_is "> hello wor"
for i in 1 2 3 4 5; do
  echo "incoming $i: $cafe" >&4
  until_ok "incoming line $i" on_screen "<talker> incoming $i: $cafe"
  # Polled: a capture may fall between printing a line and redrawing the
  # prompt; typed input that was overwritten never comes back, so it still fails.
  until_ok "typed input intact after incoming line $i" row_is "> hello wor"
done

# Editing: left twice, insert, backspace, to the end (Ctrl+E), finish, send.
keys Left Left; text "-"
until_ok "the insert" row_is "> hello w-or"
keys BSpace C-e; text "ld"
until_ok "the edited line" row_is "> hello world"
keys Enter
until_ok "the sent line at the talker" talker_got "<typer> hello world"
until_ok "the sent line kept above" on_screen "> hello world"
until_ok "an empty prompt" row_is ">"

# UTF-8 typed at the console reaches the other client byte-exact.
text "$zoe"; keys Enter
until_ok "the UTF-8 line at the talker" talker_got "<typer> $zoe"

# History: up twice to the first line, down twice to the empty line.
keys Up
until_ok "history 1" row_is "> $zoe"
keys Up
until_ok "history 2" row_is "> hello world"
keys Down Down
until_ok "back to the draft" row_is ">"

# Typing while lines arrive in a burst.
text "still typing"
for i in 6 7 8 9 10; do echo "burst $i" >&4; done
until_ok "the burst" on_screen "<talker> burst 10"
until_ok "typed input intact after the burst" row_is "> still typing"

echo "--- captured screen (tmux capture-pane -p):"
screen | sed -e 's/[[:space:]]*$//' | grep -v '^$'
exec 4>&-
until_ok "talker leaving" on_screen "* talker left"
keys C-u C-d
until_ok "typer leaving (exit status 0)" on_screen "typer exited 0"
echo "chat-tty-check: ok (typed input intact through 10 incoming lines, editing, history, UTF-8)"
