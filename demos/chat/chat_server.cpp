// chat_server --pipe NAME: a chat server (rooms, history, private messages,
// flood limit, heartbeat; see docs/chat.md) on \\.\pipe\NAME.
//
// Prints "listening \\.\pipe\NAME" once clients can connect, serves until
// Ctrl+C or until its standard input reaches end-of-file, then tells every
// client "server is shutting down", closes the connections after flushing
// them, runs iocaf's bounded shutdown and exits 0.
#include "demos/chat/chat_room.hpp"
#include "actors/core/program.hpp"
#include "actors/pipe/pipe_listener.hpp"
#include "common.hpp"
#include "io/log.hpp"
#include "proto/chat.hpp"

#include <cstdint>

using namespace iocaf;

namespace {

struct server_options {
  std::string pipe;
  std::int64_t instances = 4;
  std::string room = "general";
  std::int64_t history = 20;
  std::int64_t max_rooms = 256;
  std::int64_t flood_lines = 10;
  std::int64_t flood_window = 2000;
  std::int64_t ping_interval = 10000;
  std::int64_t ping_timeout = 30000;
};

void add_options(program_config& cfg, server_options& o) {
  cfg.option(o.pipe, "pipe", "serves \\\\.\\pipe\\NAME; required")
    .option(o.instances, "instances", "pipe instances kept waiting for clients, 1..64")
    .option(o.room, "room", "the default room, where clients start")
    .option(o.history, "history", "lines of history a newcomer to a room sees, 0..10000 (0: none)")
    .option(o.max_rooms, "max-rooms", "rooms that may exist at once, 1..100000")
    .option(o.flood_lines, "flood-lines", "lines (said, /me, /msg) a client may send per flood window")
    .option(o.flood_window, "flood-window", "the flood window in milliseconds")
    .option(o.ping_interval, "ping-interval", "a ping to every client this often, ms (0: no heartbeat)")
    .option(o.ping_timeout, "ping-timeout", "a client not heard from this long (ms) is dropped");
}

// The usage error's text for bad values; empty if all are good.
std::string check(const server_options& o, chat_room_options* room) {
  constexpr std::int64_t day_ms = 24LL * 3600 * 1000;
  if (o.pipe.empty())
    return "--pipe is required";
  auto why = chat::out_of_range({{"instances", o.instances, 1, 64},
                                 {"history", o.history, 0, 10000},
                                 {"max-rooms", o.max_rooms, 1, 100000},
                                 {"flood-lines", o.flood_lines, 1, 1000000},
                                 {"flood-window", o.flood_window, 1, day_ms},
                                 {"ping-interval", o.ping_interval, 0, day_ms},
                                 {"ping-timeout", o.ping_timeout, 1, day_ms}});
  if (!why.empty())
    return why;
  if (!proto::valid_nick(o.room, &why)) // rooms follow the nick rules
    return "bad value '" + o.room + "' for --room (" + why + ")";
  room->default_room = o.room;
  room->history_lines = static_cast<std::size_t>(o.history);
  room->max_rooms = static_cast<std::size_t>(o.max_rooms);
  room->flood_lines = static_cast<std::size_t>(o.flood_lines);
  room->flood_window = std::chrono::milliseconds(o.flood_window);
  room->ping_interval = std::chrono::milliseconds(o.ping_interval);
  room->ping_timeout = std::chrono::milliseconds(o.ping_timeout);
  return {};
}

// Stop accepting, tell every client the server is going and close the
// connections once flushed. False if some did not close in time.
bool say_goodbye(caf::actor_system& sys, const caf::actor& listener, const caf::actor& room) {
  auto log = logger("chat_server");
  bool ok = true;
  caf::scoped_actor self{sys};
  self->send(listener, close_atom::value);
  self->request(room, std::chrono::seconds(10), stop_atom::value)
    .receive(
      [&](std::uint64_t still_open) {
        if (still_open > 0) {
          log->error("{} connections did not close in time", still_open);
          ok = false;
        }
      },
      [&](caf::error& err) {
        log->error("the chat room did not stop: {}", describe(err));
        ok = false;
      });
  self->send_exit(room, caf::exit_reason::user_shutdown);
  return ok;
}

int serve(program_config& cfg, const server_options& o, const chat_room_options& room_opts) {
  return run_program(cfg, [&](caf::actor_system& sys, runtime& rt) {
    auto room = spawn_chat_room(sys, room_opts);
    pipe_listener_options opts;
    opts.name = o.pipe;
    opts.instances = static_cast<std::size_t>(o.instances);
    cfg.apply(opts.connection);
    // A chat client that stops reading is dropped rather than buffered without end.
    opts.connection.when_full = when_full_policy::disconnect;
    auto listener = spawn_pipe_listener(sys, rt.core(), opts, room);
    if (!listener) {
      std::fprintf(stderr, "chat_server: cannot serve \\\\.\\pipe\\%s: %s\n", o.pipe.c_str(),
                   describe(listener.error()).c_str());
      caf::anon_send_exit(room, caf::exit_reason::user_shutdown);
      return 1;
    }
    chat::print_line("listening \\\\.\\pipe\\" + o.pipe);
    bool goodbye_ok = true;
    stop_options stop;
    stop.before_shutdown = [&](stop_reason) { goodbye_ok = say_goodbye(sys, listener->actor, room); };
    return run_until_stopped(rt, stop).clean() && goodbye_ok ? 0 : 1;
  });
}

} // namespace

int main(int argc, char** argv) {
  program_config cfg{"chat_server",
                     "Serves a chat (protocol version 2, docs/chat.md) on \\\\.\\pipe\\NAME until Ctrl+C or end of\n"
                     "standard input. Prints \"listening \\\\.\\pipe\\NAME\" when ready. Exit status: 0 after a clean\n"
                     "shutdown, 1 on a runtime failure, 2 for bad arguments."};
  server_options o;
  add_options(cfg, o);
  if (auto rc = cfg.parse(argc, argv))
    return *rc;
  chat_room_options room_opts;
  auto why = check(o, &room_opts);
  if (!why.empty())
    return cfg.usage_error(why);
  return serve(cfg, o, room_opts);
}
