// chat_client --pipe NAME --nick NICK: joins the chat room on \\.\pipe\NAME,
// sends each line of standard input and prints what it receives.
#include "actors/pipe/pipe_connect.hpp"
#include "actors/core/runtime.hpp"
#include "common.hpp"
#include "io/log.hpp"
#include "proto/chat.hpp"

#include <cstdlib>
#include <deque>

using namespace iocaf;
using proto::chat_kind;
using proto::chat_message;

namespace {

const char* usage =
  "usage: chat_client --pipe NAME --nick NICK [--timeout MS] [--log-level LEVEL]\n"
  "  Joins the chat room on \\\\.\\pipe\\NAME as NICK and sends each line of standard input.\n"
  "  Commands: /who (who is here), /nick NEW (rename), /quit (leave). Other lines are said.\n"
  "  At end of input the client leaves once the server has taken everything it sent.\n"
  "  Prints one line per event:\n"
  "    <nick> text                  nick said text\n"
  "    * welcome NICK               you joined as NICK\n"
  "    * nick joined / * nick left  others came or went\n"
  "    * old is now new             a rename (yours too)\n"
  "    * present: a b c             answer to /who, in join order\n"
  "    * notice: text               a notice from the server (e.g. it is shutting down)\n"
  "    ! text                       an error (e.g. your nick is taken)\n"
  "  --timeout MS        bound on connecting while the server is busy (default 5000)\n"
  "  --log-level LEVEL   trace, debug, info, warn, error or off (default: $IOCAF_LOG or info)\n"
  "  Exit status: 0 after leaving cleanly (or when the server shut down with a notice),\n"
  "  1 when the server cannot be reached or the connection is lost, 2 for bad arguments.\n";

using line_atom = caf::atom_constant<caf::atom("line")>;
using eof_atom = caf::atom_constant<caf::atom("eof")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using bye_dead_atom = caf::atom_constant<caf::atom("byedead")>;

// Bound on the server acknowledging our leave by closing the connection.
constexpr auto leave_bound = std::chrono::seconds(10);

struct client_state {
  std::string nick;
  caf::actor main;
  caf::actor connection;
  std::deque<std::string> early;  // frames to send once connected
  bool leaving = false;           // leave sent (or about to be): the close is expected
  bool server_notice = false;     // the server announced it is going away
  bool done = false;
};

using self_ptr = caf::stateful_actor<client_state>*;

void finish(self_ptr self, int rc) {
  auto& st = self->state;
  if (st.done)
    return;
  st.done = true;
  self->send(st.main, done_atom::value, rc);
  self->quit();
}

void send_frame(self_ptr self, const chat_message& msg) {
  auto& st = self->state;
  auto payload = proto::encode_chat(msg);
  if (st.connection)
    self->send(st.connection, frame_send{payload});
  else
    st.early.push_back(payload);
}

void leave(self_ptr self) {
  auto& st = self->state;
  if (st.leaving)
    return;
  st.leaving = true;
  send_frame(self, chat_message{chat_kind::leave, {}, {}, {}});
  self->delayed_send(self, leave_bound, bye_dead_atom::value);
}

void on_line(self_ptr self, const std::string& line) {
  if (self->state.leaving || line.empty())
    return;
  if (line[0] != '/') {
    send_frame(self, chat_message{chat_kind::say, {}, line, {}});
    return;
  }
  auto space = line.find(' ');
  auto command = line.substr(0, space);
  auto arg = space == std::string::npos ? std::string{} : line.substr(space + 1);
  if (command == "/who" && arg.empty())
    send_frame(self, chat_message{chat_kind::who, {}, {}, {}});
  else if (command == "/nick" && !arg.empty())
    send_frame(self, chat_message{chat_kind::nick, arg, {}, {}});
  else if (command == "/quit" && arg.empty())
    leave(self);
  else
    chat::print_line("! unknown command '" + line + "' (try /who, /nick NEW, /quit)");
}

void on_chat(self_ptr self, const chat_message& m) {
  switch (m.kind) {
    case chat_kind::said: chat::print_line("<" + m.nick + "> " + m.text); break;
    case chat_kind::welcome: chat::print_line("* welcome " + m.nick); break;
    case chat_kind::joined: chat::print_line("* " + m.nick + " joined"); break;
    case chat_kind::left: chat::print_line("* " + m.nick + " left"); break;
    case chat_kind::renamed:
      chat::print_line("* " + m.nick + " is now " + m.text);
      if (m.nick == self->state.nick)
        self->state.nick = m.text;
      break;
    case chat_kind::who_reply: {
      std::string line = "* present:";
      for (auto& n : m.names)
        line += " " + n;
      chat::print_line(line);
      break;
    }
    case chat_kind::notice:
      self->state.server_notice = true;
      chat::print_line("* notice: " + m.text);
      break;
    case chat_kind::error: chat::print_line("! " + m.text); break;
    default: chat::print_line(std::string("! the server sent a client message: ") + proto::to_string(m.kind)); break;
  }
}

caf::behavior chat_client(self_ptr self, std::string nick, caf::actor main) {
  self->state.nick = nick;
  self->state.main = std::move(main);
  send_frame(self, chat_message{chat_kind::join, nick, {}, {}});
  return {
    [self](frame_opened& msg) {
      auto& st = self->state;
      st.connection = msg.connection;
      for (auto& payload : st.early)
        self->send(st.connection, frame_send{std::move(payload)});
      st.early.clear();
    },
    [self](pipe_connect_failed& msg) {
      std::fprintf(stderr, "chat_client: cannot connect to \\\\.\\pipe\\%s: %s\n", msg.pipe.c_str(),
                   describe(msg.reason).c_str());
      finish(self, 1);
    },
    [self](frame_received& msg) {
      auto parsed = proto::parse_chat(msg.payload);
      if (!parsed.message)
        chat::print_line("! bad message from the server: " + parsed.error);
      else
        on_chat(self, *parsed.message);
    },
    [self](frame_closed& msg) {
      auto& st = self->state;
      if ((st.leaving || st.server_notice) && !msg.reason) {
        finish(self, 0);
        return;
      }
      std::fprintf(stderr, "chat_client: connection to the server lost: %s\n",
                   msg.reason ? describe(msg.reason).c_str() : "the server closed it");
      finish(self, 1);
    },
    [self](frame_refused& msg) { chat::print_line("! not sent: " + describe(msg.reason)); },
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

int bad_usage(const std::string& why) {
  std::fprintf(stderr, "chat_client: %s\n%s", why.c_str(), usage);
  return 2;
}

int run(const std::string& pipe, const std::string& nick, std::chrono::milliseconds timeout) {
  caf::actor_system_config cfg;
  configure(cfg);
  caf::actor_system sys{cfg};
  runtime rt{sys};
  caf::scoped_actor self{sys};
  auto client = sys.spawn(chat_client, nick, caf::actor{self});
  pipe_connect_options opts;
  opts.name = pipe;
  opts.timeout = timeout;
  connect_pipe(sys, rt.core(), opts, client);
  chat::stdin_lines input;
  input.start([client](std::string line) { caf::anon_send(client, line_atom::value, std::move(line)); },
              [client] { caf::anon_send(client, eof_atom::value); });
  int rc = 1;
  self->receive([&](done_atom, int code) { rc = code; });
  input.stop();
  auto report = rt.shutdown();
  if (report.leaked > 0 || rt.core()->stats().unexpected > 0)
    rc = 1;
  // Done once the runtime's shutdown finished: end without the actor
  // system's destructor (see chat_server.cpp for why).
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(rc);
}

} // namespace

int main(int argc, char** argv) {
  chat::flags f;
  std::string why;
  if (!f.parse(argc, argv, {"--pipe", "--nick", "--timeout", "--log-level"}, &why))
    return bad_usage(why);
  if (f.help) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (f.get("pipe").empty())
    return bad_usage("--pipe NAME is required");
  if (f.get("nick").empty())
    return bad_usage("--nick NICK is required");
  if (!proto::valid_nick(f.get("nick"), &why))
    return bad_usage("invalid nick: " + why);
  if (f.has("log-level") && !set_log_level(f.get("log-level")))
    return bad_usage("unknown log level '" + f.get("log-level") + "'");
  long timeout_ms = 5000;
  if (f.has("timeout")) {
    char* end = nullptr;
    timeout_ms = std::strtol(f.get("timeout").c_str(), &end, 10);
    if (end == nullptr || *end != '\0' || timeout_ms <= 0)
      return bad_usage("--timeout must be a positive number of milliseconds");
  }
  int rc = run(f.get("pipe"), f.get("nick"), std::chrono::milliseconds(timeout_ms));
  std::fflush(stdout);
  std::fflush(stderr);
  // The stdin reader may still be blocked in a read: end without joining it.
  std::_Exit(rc);
}
