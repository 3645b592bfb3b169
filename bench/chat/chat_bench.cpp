// Chat latency: the chat room (demos/chat, the chat server's logic) on a
// named pipe and N chat clients, each an iocaf pipe connection with a
// handler that speaks the chat protocol (as chat_client does), all in one
// process. One line in flight at a time: a client (round robin) says a line
// carrying a sequence number; the time is taken from just before the say
// until the last of the other N-1 clients has decoded that line. Prints
// p50 / p99 / max and lines/s for N clients, then for 2 (one hop's worth).
//   chat_bench [--clients N] [--lines L]
#include "actors/core/program.hpp"
#include "actors/pipe/pipe_connect.hpp"
#include "actors/pipe/pipe_listener.hpp"
#include "demos/chat/chat_room.hpp"
#include "proto/chat.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace iocaf;
using proto::chat_kind;
using proto::chat_message;
using clock_type = std::chrono::steady_clock;

namespace {

using say_atom = caf::atom_constant<caf::atom("say")>;
using joined_atom = caf::atom_constant<caf::atom("joined")>;
using heard_atom = caf::atom_constant<caf::atom("heard")>;

chat_message chat(chat_kind kind, std::string nick = {}, std::string text = {}) {
  return chat_message{kind, std::move(nick), std::move(text), {}, 0, {}};
}

struct client_state {
  std::string nick;
  caf::actor bench;
  frame_connection_actor connection;
};

void send_chat(caf::stateful_actor<client_state>* self, const chat_message& m) {
  self->send(self->state.connection, frame_send{proto::encode_chat(m)});
}

// One chat client: hello + join on open; tells the bench when it is welcome
// and each line it hears (the sequence number is the text); says what the
// bench asks it to; answers pings.
caf::behavior chat_client(caf::stateful_actor<client_state>* self, std::string nick, caf::actor bench) {
  self->state.nick = std::move(nick);
  self->state.bench = std::move(bench);
  return {
    [self](frame_opened& o) {
      self->state.connection = o.connection;
      auto hello = chat(chat_kind::hello);
      hello.number = proto::chat_protocol_version;
      send_chat(self, hello);
      send_chat(self, chat(chat_kind::join, self->state.nick));
    },
    [self](frame_received& f) {
      auto parsed = proto::parse_chat(f.payload);
      if (!parsed.message) {
        self->send(self->state.bench, heard_atom::value, std::string("unparsable: ") + parsed.error, clock_type::now());
        return;
      }
      auto& m = *parsed.message;
      switch (m.kind) {
        case chat_kind::welcome: self->send(self->state.bench, joined_atom::value, self->state.nick); break;
        case chat_kind::said: self->send(self->state.bench, heard_atom::value, m.text, clock_type::now()); break;
        case chat_kind::ping: send_chat(self, chat(chat_kind::pong)); break;
        case chat_kind::error:
        case chat_kind::notice:
          self->send(self->state.bench, heard_atom::value, "server: " + m.text, clock_type::now());
          break;
        default: break;
      }
    },
    [self](say_atom, const std::string& text) { send_chat(self, chat(chat_kind::say, {}, text)); },
    [](frame_refused&) {},
    [self](frame_closed& c) { self->quit(c.reason); },
  };
}

struct figures {
  int clients = 0;
  std::vector<double> us; // per line: say -> last receiver decoded it
  double seconds = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * (v.size() - 1))];
}

// Runs one room with `clients` clients for `lines` lines; an error string on failure.
std::string run_room(caf::actor_system& sys, runtime& rt, int clients, int lines, figures& out) {
  static int rooms = 0;
  auto name = "iocaf-chat-bench-" + std::to_string(GetCurrentProcessId()) + "-" + std::to_string(++rooms);
  chat_room_options room_opts;
  room_opts.flood_lines = 1000000; // the benchmark says lines faster than people: no flood limit
  room_opts.history_lines = 0;
  auto room = spawn_chat_room(sys, room_opts);
  pipe_listener_options lo;
  lo.name = name;
  lo.instances = 8;
  auto listener = spawn_pipe_listener(sys, rt.core(), lo, room);
  if (!listener)
    return "cannot serve \\\\.\\pipe\\" + name + ": " + describe(listener.error());
  caf::scoped_actor self{sys};
  std::vector<caf::actor> members;
  std::string failure;
  for (int i = 0; i < clients && failure.empty(); ++i) {
    auto c = sys.spawn(chat_client, "bot" + std::to_string(i), caf::actor{self});
    pipe_connect_options co;
    co.name = name;
    if (auto conn = spawn_pipe_connect(sys, rt.core(), co, c); !conn)
      failure = "connect: " + describe(conn.error());
    members.push_back(c);
  }
  for (int joined = 0; joined < clients && failure.empty();)
    self->receive([&](joined_atom, const std::string&) { ++joined; },
                  [&](heard_atom, const std::string& what, clock_type::time_point) { failure = what; },
                  caf::after(std::chrono::seconds(30)) >> [&] {
                    failure = "only " + std::to_string(joined) + " of " + std::to_string(clients) + " clients joined in 30 s";
                  });
  auto start = clock_type::now();
  for (int line = 0; line < lines && failure.empty(); ++line) {
    auto text = "line " + std::to_string(line);
    auto t0 = clock_type::now();
    self->send(members[static_cast<std::size_t>(line % clients)], say_atom::value, text);
    clock_type::time_point last{};
    for (int heard = 0; heard < clients - 1 && failure.empty();)
      self->receive(
        [&](heard_atom, const std::string& what, clock_type::time_point at) {
          if (what != text) {
            failure = "a client heard '" + what + "' while waiting for '" + text + "'";
            return;
          }
          ++heard;
          last = std::max(last, at);
        },
        caf::after(std::chrono::seconds(10)) >> [&] {
          failure = text + ": only " + std::to_string(heard) + " of " + std::to_string(clients - 1)
                    + " clients heard it within 10 s";
        });
    if (failure.empty())
      out.us.push_back(std::chrono::duration<double, std::micro>(last - t0).count());
  }
  out.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  out.clients = clients;
  for (auto& m : members)
    self->send_exit(m, caf::exit_reason::user_shutdown);
  self->send(listener->actor, close_atom::value);
  self->send_exit(room, caf::exit_reason::user_shutdown);
  return failure;
}

} // namespace

int main(int argc, char** argv) {
  program_config cfg{"iocaf_chat_bench",
                     "Chat latency over named pipes: the chat room and N chat clients in one process; the time\n"
                     "from a line said to the last other client decoding it, one line in flight.",
                     false};
  cfg.log_level = "warn";
  int clients = 50, lines = 300;
  cfg.option(clients, "clients", "chat clients in the room, 2..500").option(lines, "lines", "lines said, 10..100000");
  if (auto rc = cfg.parse(argc, argv))
    return *rc;
  if (clients < 2 || clients > 500 || lines < 10 || lines > 100000)
    return cfg.usage_error("--clients must be 2..500 and --lines 10..100000");
  return run_program(cfg, [&](caf::actor_system& sys, runtime& rt) {
    std::vector<figures> rows;
    for (int n : {clients, 2}) {
      figures f;
      if (auto why = run_room(sys, rt, n, lines, f); !why.empty()) {
        std::fprintf(stderr, "chat_bench: %d clients: %s\n", n, why.c_str());
        return 1;
      }
      rows.push_back(std::move(f));
    }
    std::printf("chat over named pipes: the room and its clients in one process, one line in flight\n");
    std::printf("%7s %6s %9s %9s %9s %9s\n", "clients", "lines", "p50 us", "p99 us", "max us", "lines/s");
    for (auto& f : rows)
      std::printf("%7d %6zu %9.0f %9.0f %9.0f %9.0f\n", f.clients, f.us.size(), percentile(f.us, 0.5),
                  percentile(f.us, 0.99), percentile(f.us, 1.0), f.us.size() / f.seconds);
    return 0;
  });
}
