// chat_client --pipe NAME --nick NICK: joins the chat on \\.\pipe\NAME,
// sends each line of standard input and prints what it receives, each line
// with the local time in front. With --wait it waits for the server, and
// comes back (same nick, same room) when the server goes away.
#include "actors/pipe/pipe_connect.hpp"
#include "actors/core/program.hpp"
#include "chat_text.hpp"
#include "common.hpp"
#include "io/log.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <random>

using namespace iocaf;
using proto::chat_kind;
using proto::chat_message;

namespace {

const char* summary =
  "Joins the chat on \\\\.\\pipe\\NAME (--pipe) as NICK (--nick), in the server's default room, and\n"
  "sends each line of standard input. Lines starting with / are commands:\n"
  "  /join ROOM  go to ROOM (created on demand)    /part         back to the default room\n"
  "  /rooms      rooms and their member counts     /who          who is in your room\n"
  "  /msg NICK TEXT  to NICK only                  /me ACTION    an action (\"* nick waves\")\n"
  "  /away [REASON]  shown in /who                 /back         no longer away\n"
  "  /nick NEW   rename (or, if NICK was taken, join as NEW)      /quit  leave\n"
  "At end of input (or Ctrl+C) the client leaves once the server has taken everything it sent.\n"
  "At a console, the line being typed stays on the bottom row below incoming lines (Left,\n"
  "Right, Backspace, Delete, Up/Down for history, Ctrl+A/Ctrl+E, Esc; Ctrl+D on an empty\n"
  "line leaves). Text is UTF-8; a line holds at most 4096 bytes (1365 CJK characters).\n"
  "Prints one line per event, after the local time ([HH:MM:SS] ) unless --timestamps off:\n"
  "  <nick> text                  nick said text in your room\n"
  "  * nick waves                 an action (/me)\n"
  "  *nick* text / -> *nick* text a private message to you / the echo of yours\n"
  "  history HH:MM:SS <nick> text a line said before you came into the room\n"
  "  * welcome NICK / * you are in ROOM   you joined / entered a room\n"
  "  * nick joined / * nick left  others came into or left your room\n"
  "  * old is now new             a rename (yours too)\n"
  "  * nick is away: reason / * nick is back\n"
  "  * present: a b c / * rooms: general (2) rust (1)   answers to /who and /rooms\n"
  "  * notice: text               a notice from the server (flood limit, shutdown, ...)\n"
  "  ! text                       an error (e.g. your nick is taken)\n"
  "  * reconnecting in N ms / * reconnected as NICK in ROOM   with --wait\n"
  "Exit status: 0 after leaving cleanly (or when the server shut down with a notice and\n"
  "--wait is 0), 1 when the server cannot be reached or the connection is lost (after\n"
  "--wait), 2 for bad arguments.";

using line_atom = caf::atom_constant<caf::atom("line")>;
using eof_atom = caf::atom_constant<caf::atom("eof")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using bye_dead_atom = caf::atom_constant<caf::atom("byedead")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;

// Bound on the server acknowledging our leave by closing the connection.
constexpr auto leave_bound = std::chrono::seconds(10);

struct client_options {
  std::string pipe;
  std::string nick;
  bool timestamps = true;
  std::chrono::milliseconds timeout{5000};
  std::chrono::milliseconds wait{0};
  std::chrono::milliseconds retry_min{100};
  std::chrono::milliseconds retry_max{2000};
  framed_options connection; // --max-queued-bytes, --write-batch, --read-credit
};

struct client_state {
  client_options opts;
  std::shared_ptr<io_core> core;
  std::string nick;
  std::string room;               // the room we are in (to rejoin after a reconnect)
  caf::actor main;
  caf::actor connector;            // the current connect attempt (its failure is its frame_closed)
  frame_connection_actor connection;
  std::deque<std::string> early;  // typed frames to send once connected (and rejoined)
  bool welcomed = false;          // joined on this connection
  bool rejoining = false;         // reconnected; the room is not restored yet
  int attempt = 0;                // retries since the last connection
  std::chrono::steady_clock::time_point give_up;
  std::mt19937 rng{std::random_device{}()};
  bool leaving = false;           // leave sent (or about to be): the close is expected
  bool server_notice = false;     // the server announced it is going away
  bool done = false;
};

using self_ptr = caf::stateful_actor<client_state>*;

void show(self_ptr self, const std::string& line) {
  if (self->state.opts.timestamps)
    chat::print_line("[" + chat::clock_time(std::time(nullptr)) + "] " + line);
  else
    chat::print_line(line);
}

void finish(self_ptr self, int rc) {
  auto& st = self->state;
  if (st.done)
    return;
  st.done = true;
  // The status first: main reads it once run_until_stopped returns.
  self->send(st.main, done_atom::value, rc);
  request_stop();
  self->quit();
}

void send_now(self_ptr self, const chat_message& msg) {
  self->send(self->state.connection, frame_send{proto::encode_chat(msg)});
}

// Typed messages wait while there is no connection or the room is not back yet.
void send_typed(self_ptr self, const chat_message& msg) {
  auto& st = self->state;
  if (st.connection && !st.rejoining)
    send_now(self, msg);
  else
    st.early.push_back(proto::encode_chat(msg));
}

void flush_early(self_ptr self) {
  auto& st = self->state;
  for (auto& payload : st.early)
    self->send(st.connection, frame_send{std::move(payload)});
  st.early.clear();
}

void connect(self_ptr self) {
  pipe_connect_options opts;
  opts.name = self->state.opts.pipe;
  opts.timeout = self->state.opts.timeout;
  opts.connection = self->state.opts.connection;
  auto connector = spawn_pipe_connect(self->system(), self->state.core, opts, caf::actor{self});
  if (!connector) {
    // A bad name does not get better by waiting.
    std::fprintf(stderr, "chat_client: cannot connect to \\\\.\\pipe\\%s: %s\n", opts.name.c_str(),
                 describe(connector.error()).c_str());
    finish(self, 1);
    return;
  }
  self->state.connector = *connector;
}

// Retries after a capped exponential delay with jitter, within --wait; false
// if the wait is used up.
bool retry_later(self_ptr self) {
  auto& st = self->state;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(st.give_up - std::chrono::steady_clock::now());
  if (left.count() <= 0)
    return false;
  auto cap = st.opts.retry_max.count();
  long long delay = st.opts.retry_min.count();
  for (int i = 0; i < st.attempt && delay < cap; ++i)
    delay *= 2;
  delay = std::min<long long>(delay, cap);
  delay = std::uniform_int_distribution<long long>{delay / 2, delay}(st.rng);
  delay = std::min<long long>(delay, left.count());
  ++st.attempt;
  show(self, "* reconnecting in " + std::to_string(delay) + " ms (attempt " + std::to_string(st.attempt) + ")");
  self->delayed_send(self, std::chrono::milliseconds(delay), retry_atom::value);
  return true;
}

void leave(self_ptr self) {
  auto& st = self->state;
  if (st.leaving)
    return;
  st.leaving = true;
  if (!st.connection) { // nothing to leave
    finish(self, 0);
    return;
  }
  send_now(self, chat::message(chat_kind::leave));
  self->delayed_send(self, leave_bound, bye_dead_atom::value);
}

void on_line(self_ptr self, const std::string& line) {
  auto& st = self->state;
  if (st.leaving || line.empty())
    return;
  std::string error = chat::over_limit(line);
  if (!error.empty()) {
    show(self, "! " + error);
    return;
  }
  auto msg = chat::parse_typed(line, &error);
  if (!msg) {
    show(self, "! " + error);
  } else if (msg->kind == chat_kind::leave) {
    leave(self);
  } else if (msg->kind == chat_kind::nick && !st.welcomed && st.connection) {
    // Not joined yet (the nick was taken): join under the new nick.
    st.nick = msg->nick;
    send_now(self, chat::message(chat_kind::join, st.nick));
  } else {
    send_typed(self, *msg);
  }
}

void on_entered(self_ptr self, const std::string& room) {
  auto& st = self->state;
  if (st.rejoining && !st.room.empty() && room != st.room) {
    send_now(self, chat::message(chat_kind::enter, {}, st.room)); // back to where we were
    return;
  }
  st.room = room;
  if (st.rejoining) {
    st.rejoining = false;
    show(self, "* reconnected as " + st.nick + " in " + room);
    flush_early(self);
  }
}

void on_chat(self_ptr self, const chat_message& m) {
  auto& st = self->state;
  switch (m.kind) {
    case chat_kind::ping: send_now(self, chat::message(chat_kind::pong)); return;
    case chat_kind::welcome:
      st.welcomed = true;
      st.nick = m.nick;
      if (st.rejoining) // the rejoin is shown once the room is back
        return;
      break;
    case chat_kind::entered:
      on_entered(self, m.text);
      if (st.rejoining || st.room != m.text)
        return;
      break;
    case chat_kind::renamed:
      if (m.nick == st.nick)
        st.nick = m.text;
      break;
    case chat_kind::notice:
      if (m.text == "server is shutting down")
        st.server_notice = true;
      break;
    default: break;
  }
  show(self, chat::render(m));
  if (m.kind == chat_kind::error && !st.welcomed && m.text == "nick " + st.nick + " is taken")
    show(self, "* pick another nick with /nick NEW");
}

void on_lost(self_ptr self, const std::string& why) {
  auto& st = self->state;
  bool was_joined = st.welcomed;
  st.connection = nullptr;
  st.welcomed = false;
  st.rejoining = st.rejoining || was_joined;
  if (st.opts.wait.count() > 0 && !st.leaving) {
    if (st.attempt == 0) {
      st.give_up = std::chrono::steady_clock::now() + st.opts.wait;
      show(self, "* " + why + "; waiting up to " + std::to_string(st.opts.wait.count() / 1000) + " s for it");
    }
    if (retry_later(self))
      return;
  }
  if (st.server_notice && !st.leaving) {
    finish(self, 0);
    return;
  }
  std::fprintf(stderr, "chat_client: %s\n", why.c_str());
  finish(self, 1);
}

caf::behavior chat_client(self_ptr self, client_options opts, std::shared_ptr<io_core> core, caf::actor main) {
  auto& st = self->state;
  st.opts = opts;
  st.nick = opts.nick;
  st.core = std::move(core);
  st.main = std::move(main);
  st.give_up = std::chrono::steady_clock::now() + opts.wait;
  connect(self);
  if (st.done)
    return {};
  return {
    [self](frame_opened& msg) {
      auto& st = self->state;
      st.connection = msg.connection;
      st.attempt = 0;
      st.server_notice = false;
      send_now(self, [] {
        auto hello = chat::message(chat_kind::hello);
        hello.number = proto::chat_protocol_version;
        return hello;
      }());
      send_now(self, chat::message(chat_kind::join, st.nick));
      if (!st.rejoining)
        flush_early(self);
    },
    [self](frame_received& msg) {
      auto parsed = proto::parse_chat(msg.payload);
      if (!parsed.message)
        show(self, "! bad message from the server: " + parsed.error);
      else
        on_chat(self, *parsed.message);
    },
    [self](frame_closed& msg) {
      auto& st = self->state;
      if (msg.connection == st.connector) {
        on_lost(self, "cannot connect to \\\\.\\pipe\\" + st.opts.pipe + ": " + describe(msg.reason));
        return;
      }
      if (st.leaving && !msg.reason) {
        finish(self, 0);
        return;
      }
      on_lost(self, "connection to the server lost: "
                      + (msg.reason ? describe(msg.reason) : std::string("the server closed it")));
    },
    [self](frame_refused& msg) { show(self, "! not sent: " + describe(msg.reason)); },
    [self](retry_atom) {
      if (!self->state.leaving)
        connect(self);
    },
    [self](line_atom, std::string& line) { on_line(self, line); },
    [self](eof_atom) { leave(self); },
    [self](bye_dead_atom) {
      std::fprintf(stderr, "chat_client: the server did not close the connection within %lld s after leave\n",
                   static_cast<long long>(leave_bound.count()));
      if (self->state.connection)
        self->send_exit(self->state.connection, caf::exit_reason::user_shutdown);
      finish(self, 1);
    },
  };
}

// Typed lines to the client actor: from the console line editor at a
// console, else line by line from the pipe or file.
class typing {
public:
  explicit typing(const caf::actor& client) {
    auto on_line = [client](std::string line) { caf::anon_send(client, line_atom::value, std::move(line)); };
    auto on_eof = [client] { caf::anon_send(client, eof_atom::value); };
    std::string why;
    if (chat::console_ui::wanted()) {
      console_.emplace(chat::max_line_bytes, [] { chat::print_line("! " + chat::line_full()); });
      chat::active_console() = &*console_;
      if (!console_->start(on_line, on_eof, &why)) {
        chat::active_console() = nullptr;
        console_.reset();
        std::fprintf(stderr, "chat_client: no line editing at this console (%s)\n", why.c_str());
      }
    }
    if (!console_)
      lines_.start(on_line, on_eof);
  }
  // Bounded; no line is delivered afterwards.
  void stop() {
    if (console_)
      console_->stop();
    else
      lines_.stop();
  }

private:
  std::optional<chat::console_ui> console_;
  chat::stdin_lines lines_;
};

// Until the client is done: it leaves at end of input or /quit, ends when
// the server is lost, and leaves on Ctrl+C or console close. Its status.
int chat_until_done(program_config& cfg, const client_options& opts) {
  return run_program(cfg, [&](caf::actor_system& sys, runtime& rt) {
    caf::scoped_actor self{sys};
    auto client = sys.spawn(chat_client, opts, rt.core(), caf::actor{self});
    typing input{client};
    int rc = 1;
    stop_options stop;
    stop.watch_stdin = false; // the client reads it
    stop.log_level = spdlog::level::debug; // a clean end is the client's own business
    stop.before_shutdown = [&](stop_reason why) {
      if (why != stop_reason::requested) // not by the client itself: leave
        caf::anon_send(client, eof_atom::value);
      self->receive([&](done_atom, int code) { rc = code; },
                    caf::after(leave_bound + std::chrono::seconds(1)) >> [&] {
                      std::fprintf(stderr, "chat_client: did not end within %lld s\n",
                                   static_cast<long long>(leave_bound.count()) + 1);
                    });
      input.stop();
    };
    if (!run_until_stopped(rt, stop).clean())
      rc = 1;
    return rc;
  });
}

} // namespace

int main(int argc, char** argv) {
  program_config cfg{"chat_client", summary};
  client_options o;
  std::string timestamps = "on";
  std::int64_t timeout = 5000, wait = 0, retry_min = 100, retry_max = 2000;
  cfg.option(o.pipe, "pipe", "the server's pipe, \\\\.\\pipe\\NAME; required")
    .option(o.nick, "nick", "your nick: 1 to 32 bytes of UTF-8, no spaces; required")
    .option(timestamps, "timestamps", "on or off: the local time in front of every line")
    .option(wait, "wait",
            "seconds to wait for the server, at start and when it goes away (0: a lost server ends the client)")
    .option(retry_min, "retry-min", "first retry delay, ms; each next one doubles ...")
    .option(retry_max, "retry-max", "... up to this, ms; each delay is drawn from [d/2, d]")
    .option(timeout, "timeout", "bound on one connect while the server is busy, ms");
  if (auto rc = cfg.parse(argc, argv))
    return *rc;
  std::string why;
  if (o.pipe.empty())
    return cfg.usage_error("--pipe is required");
  if (o.nick.empty())
    return cfg.usage_error("--nick is required");
  if (!proto::valid_nick(o.nick, &why))
    return cfg.usage_error("bad value '" + o.nick + "' for --nick (" + why + ")");
  if (timestamps != "on" && timestamps != "off")
    return cfg.usage_error("bad value '" + timestamps + "' for --timestamps (expected: on or off)");
  why = chat::out_of_range({{"timeout", timeout, 1, 3600000},
                            {"wait", wait, 0, 86400},
                            {"retry-min", retry_min, 1, 3600000},
                            {"retry-max", retry_max, 1, 3600000}});
  if (!why.empty())
    return cfg.usage_error(why);
  if (retry_max < retry_min)
    return cfg.usage_error("--retry-max must not be below --retry-min");
  o.timestamps = timestamps == "on";
  o.timeout = std::chrono::milliseconds(timeout);
  o.wait = std::chrono::seconds(wait);
  o.retry_min = std::chrono::milliseconds(retry_min);
  o.retry_max = std::chrono::milliseconds(retry_max);
  cfg.apply(o.connection);
  return chat_until_done(cfg, o);
}
