// The chat room over pipe actors: many clients, ordering, nick rules,
// shutdown with clients connected.
#include "demos/chat/chat_room.hpp"
#include "pipe_helpers.hpp"
#include "proto/chat.hpp"

#include <map>
#include <set>

using namespace iocaf;
using namespace iocaf::test;
using proto::chat_kind;
using proto::chat_message;

namespace {

using go_atom = caf::atom_constant<caf::atom("go")>;
using leave_atom = caf::atom_constant<caf::atom("leave")>;
using welcomed_atom = caf::atom_constant<caf::atom("welcomed")>;
using heard_atom = caf::atom_constant<caf::atom("heard")>;
using gone_atom = caf::atom_constant<caf::atom("gone")>;

// A chat client made of a pipe connection actor (via connect_pipe) and this
// handler. Its lines are "<nick>#<seq>"; it checks that every other bot's
// lines arrive in order, none lost or duplicated.
struct bot_state {
  std::string nick;
  caf::actor test;
  caf::actor conn;
  int lines = 0;
  std::uint64_t expected = 0;    // said lines to hear from the others
  std::uint64_t heard = 0;
  std::map<std::string, int> next; // per sender: the next sequence number
  std::string problems;
  std::vector<std::string> notices;
};

void bot_say(caf::stateful_actor<bot_state>* self, const chat_message& m) {
  self->send(self->state.conn, frame_send{proto::encode_chat(m)});
}

caf::behavior chat_bot(caf::stateful_actor<bot_state>* self, std::string nick, int lines, std::uint64_t expected,
                       caf::actor test) {
  auto& st = self->state;
  st.nick = nick;
  st.lines = lines;
  st.expected = expected;
  st.test = test;
  return {
    [self](frame_opened& o) {
      self->state.conn = o.connection;
      bot_say(self, chat_message{chat_kind::join, self->state.nick, {}, {}});
    },
    [self](pipe_connect_failed& f) {
      auto& st = self->state;
      st.problems += "connect failed: " + describe(f.reason) + "; ";
      self->send(st.test, gone_atom::value, st.nick, std::string{"connect failed"}, st.heard, st.problems,
                 std::string{});
      self->quit();
    },
    [self](frame_received& f) {
      auto& st = self->state;
      auto p = proto::parse_chat(f.payload);
      if (!p.message) {
        st.problems += "unparsable: " + p.error + "; ";
        return;
      }
      auto& m = *p.message;
      switch (m.kind) {
        case chat_kind::welcome: self->send(st.test, welcomed_atom::value, st.nick); break;
        case chat_kind::said: {
          auto hash = m.text.rfind('#');
          int seq = hash == std::string::npos ? -1 : std::stoi(m.text.substr(hash + 1));
          if (m.text.substr(0, hash) != m.nick)
            st.problems += "line '" + m.text + "' attributed to " + m.nick + "; ";
          if (m.nick == st.nick)
            st.problems += "heard itself; ";
          if (seq != st.next[m.nick])
            st.problems += "from " + m.nick + " got #" + std::to_string(seq) + " expected #"
                           + std::to_string(st.next[m.nick]) + "; ";
          st.next[m.nick] = seq + 1;
          if (++st.heard == st.expected)
            self->send(st.test, heard_atom::value, st.nick, st.heard, st.problems);
          break;
        }
        case chat_kind::notice: st.notices.push_back(m.text); break;
        case chat_kind::error: st.problems += "error: " + m.text + "; "; break;
        default: break;
      }
    },
    [self](go_atom) {
      for (int i = 0; i < self->state.lines; ++i)
        bot_say(self, chat_message{chat_kind::say, {}, self->state.nick + "#" + std::to_string(i), {}});
    },
    [self](leave_atom) { bot_say(self, chat_message{chat_kind::leave, {}, {}, {}}); },
    [self](frame_closed& c) {
      auto& st = self->state;
      std::string notices;
      for (auto& n : st.notices)
        notices += n + ";";
      self->send(st.test, gone_atom::value, st.nick, c.reason ? describe(c.reason) : std::string{}, st.heard,
                 st.problems, notices);
      self->quit();
    },
  };
}

class chat_test : public runtime_test {
protected:
  void serve_chat() {
    name = unique_pipe_name("chat");
    room = spawn_chat_room(*sys);
    pipe_server_options o;
    o.name = name;
    o.connection.when_full = when_full_policy::disconnect;
    auto srv = spawn_pipe_server(*sys, rt->core(), o, room);
    ASSERT_TRUE(srv) << describe(srv.error());
    listener = *srv;
  }

  caf::actor start_bot(const std::string& nick, int lines, std::uint64_t expected, caf::actor test) {
    auto bot = sys->spawn(chat_bot, nick, lines, expected, test);
    pipe_connect_options o;
    o.name = name;
    o.timeout = std::chrono::seconds(60);
    connect_pipe(*sys, rt->core(), o, bot);
    return bot;
  }

  void stop_chat(caf::scoped_actor& self) {
    self->send(listener, close_atom::value);
    self->request(room, timeout, stop_atom::value)
      .receive([](std::uint64_t still_open) { EXPECT_EQ(still_open, 0u); },
               [](caf::error& e) { ADD_FAILURE() << describe(e); });
    self->send_exit(room, caf::exit_reason::user_shutdown);
  }

  std::string name;
  caf::actor room;
  caf::actor listener;
};

// A raw client on the test thread speaking chat frames.
struct raw_client {
  io::unique_handle h;
  proto::frame_decoder dec;
  std::vector<std::string> pending;

  void send(const chat_message& m) { ASSERT_EQ(write_blocking(h.get(), frame(proto::encode_chat(m))), 0u); }
  std::optional<chat_message> next() {
    while (pending.empty()) {
      auto r = read_blocking(h.get());
      if (r.first != 0)
        return std::nullopt;
      if (dec.feed(r.second, pending))
        return std::nullopt;
    }
    auto p = proto::parse_chat(pending.front());
    pending.erase(pending.begin());
    return p.message;
  }
};

raw_client connect_raw(const std::string& name) {
  raw_client c;
  auto h = open_client(name);
  EXPECT_TRUE(h) << h.err().to_string();
  if (h)
    c.h = std::move(*h);
  return c;
}

TEST_F(chat_test, fifty_clients_twenty_lines_each_all_heard_in_order) {
  serve_chat();
  caf::scoped_actor self{*sys};
  constexpr int clients = 50;
  constexpr int lines = 20;
  constexpr std::uint64_t expected = (clients - 1) * lines;
  std::vector<caf::actor> bots;
  for (int i = 0; i < clients; ++i)
    bots.push_back(start_bot("bot" + std::to_string(i), lines, expected, self));
  std::set<std::string> welcomed;
  for (int i = 0; i < clients; ++i) {
    bool timed_out = false;
    self->receive([&](welcomed_atom, const std::string& nick) { welcomed.insert(nick); },
                  [&](gone_atom, const std::string& nick, const std::string& reason, std::uint64_t,
                      const std::string& problems,
                      const std::string&) { ADD_FAILURE() << nick << " gone early: " << reason << " " << problems; },
                  caf::after(timeout) >> [&] { timed_out = true; });
    ASSERT_FALSE(timed_out) << "only " << welcomed.size() << " bots joined";
  }
  ASSERT_EQ(welcomed.size(), static_cast<std::size_t>(clients));
  for (auto& b : bots)
    self->send(b, go_atom::value);
  std::set<std::string> done;
  for (int i = 0; i < clients; ++i) {
    bool timed_out = false;
    self->receive(
      [&](heard_atom, const std::string& nick, std::uint64_t heard, const std::string& problems) {
        EXPECT_EQ(heard, expected) << nick;
        EXPECT_EQ(problems, "") << nick;
        done.insert(nick);
      },
      caf::after(std::chrono::seconds(120)) >> [&] { timed_out = true; });
    ASSERT_FALSE(timed_out) << "only " << done.size() << " bots heard everything";
  }
  EXPECT_EQ(done.size(), static_cast<std::size_t>(clients));
  for (auto& b : bots)
    self->send(b, leave_atom::value);
  for (int i = 0; i < clients; ++i) {
    bool timed_out = false;
    self->receive(
      [&](gone_atom, const std::string& nick, const std::string& reason, std::uint64_t heard,
          const std::string& problems, const std::string&) {
        EXPECT_EQ(reason, "") << nick;
        EXPECT_EQ(heard, expected) << nick << ": lines after the last one (duplicates?)";
        EXPECT_EQ(problems, "") << nick;
      },
      caf::after(timeout) >> [&] { timed_out = true; });
    ASSERT_FALSE(timed_out);
  }
  stop_chat(self);
}

TEST_F(chat_test, nicks_are_unique_and_renames_and_who_work) {
  serve_chat();
  auto a = connect_raw(name);
  a.send({chat_kind::join, "alice", {}, {}});
  auto m = a.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, chat_kind::welcome);
  auto b = connect_raw(name);
  b.send({chat_kind::join, "alice", {}, {}});
  m = b.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, chat_kind::error);
  EXPECT_EQ(m->text, "nick alice is taken");
  b.send({chat_kind::say, {}, "hello?", {}});
  m = b.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, chat_kind::error);
  EXPECT_EQ(m->text, "join first");
  b.send({chat_kind::join, "bob", {}, {}});
  m = b.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, chat_kind::welcome);
  m = a.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, chat_kind::joined);
  EXPECT_EQ(m->nick, "bob");
  b.send({chat_kind::nick, "alice", {}, {}});
  m = b.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "nick alice is taken");
  b.send({chat_kind::nick, "robert", {}, {}});
  for (auto* c : {&a, &b}) {
    m = c->next();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->kind, chat_kind::renamed);
    EXPECT_EQ(m->nick, "bob");
    EXPECT_EQ(m->text, "robert");
  }
  a.send({chat_kind::who, {}, {}, {}});
  m = a.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, chat_kind::who_reply);
  EXPECT_EQ(m->names, (std::vector<std::string>{"alice", "robert"}));
  // Not a chat message at all: an error reply, and the connection stays.
  ASSERT_EQ(write_blocking(a.h.get(), frame("\x01garbage")), 0u);
  m = a.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, chat_kind::error);
  EXPECT_EQ(m->text.rfind("bad message", 0), 0u) << m->text;
  a.send({chat_kind::say, {}, "still here", {}});
  m = b.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, chat_kind::said);
  EXPECT_EQ(m->text, "still here");
  // Leaving is acknowledged by the server closing the pipe.
  a.send({chat_kind::leave, {}, {}, {}});
  EXPECT_FALSE(a.next());
  m = b.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, chat_kind::left);
  EXPECT_EQ(m->nick, "alice");
  b.h.reset();
  caf::scoped_actor self{*sys};
  stop_chat(self);
}

// The server stops with clients connected and their reads pending: each
// hears the notice, then the close; nothing unexpected, nothing in flight.
TEST_F(chat_test, server_shutdown_notifies_connected_clients) {
  serve_chat();
  caf::scoped_actor self{*sys};
  constexpr int clients = 3;
  for (int i = 0; i < clients; ++i)
    start_bot("stay" + std::to_string(i), 0, 0, self);
  for (int i = 0; i < clients; ++i) {
    bool welcomed = false;
    self->receive([&](welcomed_atom, const std::string&) { welcomed = true; },
                  caf::after(timeout) >> [] {});
    ASSERT_TRUE(welcomed);
  }
  stop_chat(self);
  for (int i = 0; i < clients; ++i) {
    bool timed_out = false;
    self->receive(
      [&](gone_atom, const std::string& nick, const std::string& reason, std::uint64_t, const std::string& problems,
          const std::string& notices) {
        EXPECT_EQ(reason, "") << nick;
        EXPECT_EQ(problems, "") << nick;
        EXPECT_EQ(notices, "server is shutting down;") << nick;
      },
      caf::after(timeout) >> [&] { timed_out = true; });
    ASSERT_FALSE(timed_out);
  }
  auto report = rt->shutdown();
  EXPECT_EQ(report.leaked, 0u);
  EXPECT_EQ(report.actors_killed, 0u);
  auto s = rt->core()->stats();
  EXPECT_EQ(s.unexpected, 0u);
  EXPECT_EQ(s.inflight, 0);
}

} // namespace
