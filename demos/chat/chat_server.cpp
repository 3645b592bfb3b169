// chat_server --pipe NAME: a chat server (rooms, history, private messages,
// flood limit, heartbeat; see docs/chat.md) on \\.\pipe\NAME.
//
// Prints "listening \\.\pipe\NAME" once clients can connect, serves until
// Ctrl+C or until its standard input reaches end-of-file, then tells every
// client "server is shutting down", closes the connections after flushing
// them, runs iocaf's bounded shutdown and exits 0.
#include "demos/chat/chat_room.hpp"
#include "actors/pipe/pipe_listener.hpp"
#include "actors/core/runtime.hpp"
#include "common.hpp"
#include "io/log.hpp"
#include "proto/chat.hpp"

#include <condition_variable>
#include <cstdlib>

using namespace iocaf;

namespace {

const char* usage =
  "usage: chat_server --pipe NAME [options]\n"
  "  Serves a chat (protocol version 2) on \\\\.\\pipe\\NAME until Ctrl+C or end of standard input.\n"
  "  --pipe NAME           pipe name (required)\n"
  "  --instances N         pipe instances kept waiting for clients (default 4)\n"
  "  --room NAME           the default room, where clients start (default general)\n"
  "  --history N           lines of history a newcomer to a room sees (default 20, 0: none)\n"
  "  --max-rooms N         rooms that may exist at once (default 256)\n"
  "  --flood-lines N       lines (said, /me, /msg) a client may send per flood window (default 10)\n"
  "  --flood-window MS     the flood window in milliseconds (default 2000)\n"
  "  --ping-interval MS    a ping to every client this often (default 10000, 0: no heartbeat)\n"
  "  --ping-timeout MS     a client not heard from this long is dropped (default 30000)\n"
  "  --log-level LEVEL     trace, debug, info, warn, error or off (default: $IOCAF_LOG or info)\n"
  "  Prints \"listening \\\\.\\pipe\\NAME\" when ready. Exit status: 0 after a clean shutdown,\n"
  "  1 on a runtime failure, 2 for bad arguments.\n";

// Set by Ctrl+C (console control thread) or by the stdin reader's EOF.
std::mutex stop_mtx;
std::condition_variable stop_cv;
bool stop_requested = false;
std::string stop_cause;

void request_stop(const char* cause) {
  std::lock_guard<std::mutex> guard{stop_mtx};
  if (!stop_requested) {
    stop_requested = true;
    stop_cause = cause;
  }
  stop_cv.notify_all();
}

BOOL WINAPI on_console_ctrl(DWORD type) {
  if (type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT || type == CTRL_CLOSE_EVENT) {
    request_stop("console control event");
    return TRUE;
  }
  return FALSE;
}

int bad_usage(const std::string& why) {
  std::fprintf(stderr, "chat_server: %s\n%s", why.c_str(), usage);
  return 2;
}

int run(const std::string& name, std::size_t instances, const chat_room_options& room_opts) {
  auto log = logger("chat_server");
  caf::actor_system_config cfg;
  configure(cfg);
  caf::actor_system sys{cfg};
  runtime rt{sys};

  auto room = spawn_chat_room(sys, room_opts);
  pipe_server_options opts;
  opts.name = name;
  opts.instances = instances;
  // A chat client that stops reading is dropped rather than buffered without end.
  opts.connection.when_full = when_full_policy::disconnect;
  auto listener = spawn_pipe_server(sys, rt.core(), opts, room);
  if (!listener) {
    std::fprintf(stderr, "chat_server: cannot serve \\\\.\\pipe\\%s: %s\n", name.c_str(),
                 describe(listener.error()).c_str());
    caf::anon_send_exit(room, caf::exit_reason::user_shutdown);
    return 1;
  }
  if (!SetConsoleCtrlHandler(on_console_ctrl, TRUE))
    log->warn("SetConsoleCtrlHandler failed ({}); stop with end of input", GetLastError());
  chat::stdin_lines input;
  input.start([](std::string) {}, [] { request_stop("end of standard input"); });
  chat::print_line("listening \\\\.\\pipe\\" + name);

  {
    std::unique_lock<std::mutex> lock{stop_mtx};
    stop_cv.wait(lock, [] { return stop_requested; });
  }
  input.stop();
  log->info("stopping ({})", stop_cause);

  // Stop accepting, say goodbye to the clients, then the runtime's bounded shutdown.
  int rc = 0;
  caf::scoped_actor self{sys};
  self->send(*listener, close_atom::value);
  self->request(room, std::chrono::seconds(10), stop_atom::value)
    .receive(
      [&](std::uint64_t still_open) {
        if (still_open > 0) {
          log->error("{} connections did not close in time", still_open);
          rc = 1;
        }
      },
      [&](caf::error& err) {
        log->error("the chat room did not stop: {}", describe(err));
        rc = 1;
      });
  self->send_exit(room, caf::exit_reason::user_shutdown);
  auto report = rt.shutdown();
  auto stats = rt.core()->stats();
  log->info("shutdown in {} ms: {} io actors stopped, {} killed, {} leaked, {} unexpected packets",
            report.took.count(), report.actors_stopped, report.actors_killed, report.leaked, stats.unexpected);
  if (report.leaked > 0 || report.actors_killed > 0 || stats.unexpected > 0)
    rc = 1;
  // Every io actor finished its cancel protocol and nothing is in flight: the
  // program is done. End here, without the actor system's destructor, which
  // under Wine now and then never returns (CAF waits for its logger's
  // destructor with only the main thread left); the stdin reader may also
  // still be blocked in a read.
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(rc);
}

} // namespace

int main() {
  chat::flags f;
  std::string why;
  if (!f.parse(chat::arguments("chat_server"),
               {"--pipe", "--instances", "--log-level", "--room", "--history", "--max-rooms", "--flood-lines",
                "--flood-window", "--ping-interval", "--ping-timeout"},
               &why))
    return bad_usage(why);
  if (f.help) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (!f.has("pipe") || f.get("pipe").empty())
    return bad_usage("--pipe NAME is required");
  if (f.has("log-level") && !set_log_level(f.get("log-level")))
    return bad_usage("unknown log level '" + f.get("log-level") + "'");
  chat_room_options o;
  long long instances, history, max_rooms, flood_lines, flood_window, ping_interval, ping_timeout;
  constexpr long long day_ms = 24LL * 3600 * 1000;
  if (!f.number("instances", 1, 64, 4, &instances, &why) || !f.number("history", 0, 10000, 20, &history, &why)
      || !f.number("max-rooms", 1, 100000, 256, &max_rooms, &why)
      || !f.number("flood-lines", 1, 1000000, 10, &flood_lines, &why)
      || !f.number("flood-window", 1, day_ms, 2000, &flood_window, &why)
      || !f.number("ping-interval", 0, day_ms, 10000, &ping_interval, &why)
      || !f.number("ping-timeout", 1, day_ms, 30000, &ping_timeout, &why))
    return bad_usage(why);
  if (f.has("room")) {
    if (!proto::valid_nick(f.get("room"), &why)) // rooms follow the nick rules
      return bad_usage("invalid room: " + why);
    o.default_room = f.get("room");
  }
  o.history_lines = static_cast<std::size_t>(history);
  o.max_rooms = static_cast<std::size_t>(max_rooms);
  o.flood_lines = static_cast<std::size_t>(flood_lines);
  o.flood_window = std::chrono::milliseconds(flood_window);
  o.ping_interval = std::chrono::milliseconds(ping_interval);
  o.ping_timeout = std::chrono::milliseconds(ping_timeout);
  int rc = run(f.get("pipe"), static_cast<std::size_t>(instances), o);
  std::fflush(stdout);
  std::fflush(stderr);
  // The stdin reader may still be blocked in a read: end without joining it.
  std::_Exit(rc);
}
