// The chat room over pipe actors: many clients, ordering, nick rules,
// protocol versions, heartbeat, shutdown with clients connected.
#include "chat_helpers.hpp"

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
using saw_left_atom = caf::atom_constant<caf::atom("sawleft")>;
using gone_atom = caf::atom_constant<caf::atom("gone")>;

// A chat client made of a pipe connection actor (via spawn_pipe_connect) and this
// handler. Its lines are "<nick>#<seq>"; it checks that every other bot's
// lines arrive in order, none lost or duplicated. It answers pings and tells
// the test who it saw leave.
struct bot_state {
  std::string nick;
  caf::actor test;
  frame_connection_actor conn;
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
      bot_say(self, hello());
      bot_say(self, chat(chat_kind::join, self->state.nick));
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
        case chat_kind::ping: bot_say(self, chat(chat_kind::pong)); break;
        case chat_kind::left: self->send(st.test, saw_left_atom::value, st.nick, m.nick); break;
        case chat_kind::error: st.problems += "error: " + m.text + "; "; break;
        default: break;
      }
    },
    [self](go_atom) {
      for (int i = 0; i < self->state.lines; ++i)
        bot_say(self, chat(chat_kind::say, {}, self->state.nick + "#" + std::to_string(i)));
    },
    [self](leave_atom) { bot_say(self, chat(chat_kind::leave)); },
    [self](frame_closed& c) {
      auto& st = self->state;
      if (!st.conn) // closed before it opened: the connector's failure
        st.problems += "connect failed: " + describe(c.reason) + "; ";
      std::string notices;
      for (auto& n : st.notices)
        notices += n + ";";
      self->send(st.test, gone_atom::value, st.nick, c.reason ? describe(c.reason) : std::string{}, st.heard,
                 st.problems, notices);
      self->quit();
    },
  };
}

class chat_test : public chat_fixture {
protected:
  caf::actor start_bot(const std::string& nick, int lines, std::uint64_t expected, caf::actor test) {
    auto bot = sys->spawn(chat_bot, nick, lines, expected, test);
    pipe_connect_options o;
    o.name = name;
    o.timeout = std::chrono::seconds(60);
    auto connector = spawn_pipe_connect(*sys, rt->core(), o, bot);
    EXPECT_TRUE(connector) << describe(connector.error());
    return bot;
  }
};

TEST_F(chat_test, fifty_clients_twenty_lines_each_all_heard_in_order) {
  chat_room_options opts;
  opts.flood_lines = 1000; // each bot says its lines at once
  serve_chat(opts);
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
  auto a = join_raw(name, "alice");
  auto b = connect_raw(name);
  b.send(chat(chat_kind::join, "alice"));
  auto m = b.expect(chat_kind::error);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "nick alice is taken");
  b.send(chat(chat_kind::say, {}, "hello?"));
  m = b.expect(chat_kind::error);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "join first (to say)");
  b.send(chat(chat_kind::join, "bob"));
  b.expect(chat_kind::welcome);
  b.expect(chat_kind::entered);
  m = a.expect(chat_kind::joined);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->nick, "bob");
  b.send(chat(chat_kind::nick, "alice"));
  m = b.expect(chat_kind::error);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "nick alice is taken");
  b.send(chat(chat_kind::nick, "robert"));
  for (auto* c : {&a, &b}) {
    m = c->expect(chat_kind::renamed);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->nick, "bob");
    EXPECT_EQ(m->text, "robert");
  }
  a.send(chat(chat_kind::who));
  m = a.expect(chat_kind::who_reply);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->names, (std::vector<std::string>{"alice", "robert"}));
  // Not a chat message at all: an error reply, and the connection stays.
  ASSERT_EQ(write_blocking(a.h.get(), frame("\x01garbage")), 0u);
  m = a.expect(chat_kind::error);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text.rfind("bad message", 0), 0u) << m->text;
  a.send(chat(chat_kind::say, {}, "still here"));
  m = b.expect(chat_kind::said);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "still here");
  // Leaving is acknowledged by the server closing the pipe.
  a.send(chat(chat_kind::leave));
  EXPECT_FALSE(a.next());
  m = b.expect(chat_kind::left);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->nick, "alice");
  b.h.reset();
  caf::scoped_actor self{*sys};
  stop_chat(self);
}

// A client of protocol version 1 (join without hello) or of another version
// hears which version is required, then the server closes the connection.
TEST_F(chat_test, old_protocol_version_gets_version_required_and_is_closed) {
  serve_chat();
  auto v1 = connect_raw(name, false);
  v1.send(chat(chat_kind::join, "oldie"));
  auto m = v1.expect(chat_kind::error);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text.rfind("protocol version 2 required", 0), 0u) << m->text;
  EXPECT_FALSE(v1.next()) << "the connection stays open";
  auto v3 = connect_raw(name, false);
  v3.send(hello(3));
  m = v3.expect(chat_kind::error);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "protocol version 2 required (the client speaks version 3)");
  EXPECT_FALSE(v3.next());
  // The nick of the refused client is free.
  auto ok = join_raw(name, "oldie");
  ok.h.reset();
  caf::scoped_actor self{*sys};
  stop_chat(self);
}

// A client that stops answering pings is dropped within the bound; the
// others (answering) stay and see it leave.
TEST_F(chat_test, heartbeat_drops_a_client_that_does_not_answer_pings) {
  chat_room_options opts;
  opts.ping_interval = std::chrono::milliseconds(50);
  opts.ping_timeout = std::chrono::milliseconds(400);
  serve_chat(opts);
  caf::scoped_actor self{*sys};
  start_bot("answers", 0, 0, self);
  bool welcomed = false;
  self->receive([&](welcomed_atom, const std::string&) { welcomed = true; }, caf::after(timeout) >> [] {});
  ASSERT_TRUE(welcomed);
  auto silent = join_raw(name, "silent");
  auto started = std::chrono::steady_clock::now();
  bool saw_drop = false;
  self->receive([&](saw_left_atom, const std::string& who, const std::string& left) {
                  EXPECT_EQ(who, "answers");
                  EXPECT_EQ(left, "silent");
                  saw_drop = true;
                },
                [&](gone_atom, const std::string& nick, const std::string& reason, std::uint64_t,
                    const std::string&, const std::string&) { ADD_FAILURE() << nick << " gone: " << reason; },
                caf::after(timeout) >> [] {});
  ASSERT_TRUE(saw_drop) << "the silent client was not dropped";
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, opts.ping_timeout);
  auto m = silent.expect(chat_kind::notice);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "no answer within 400 ms: disconnected");
  EXPECT_FALSE(silent.next()) << "the silent client is still connected";
  stop_chat(self);
  bool gone = false;
  self->receive([&](gone_atom, const std::string&, const std::string& reason, std::uint64_t,
                    const std::string& problems, const std::string& notices) {
                  gone = true;
                  EXPECT_EQ(reason, "");
                  EXPECT_EQ(problems, "");
                  EXPECT_EQ(notices, "server is shutting down;");
                },
                caf::after(timeout) >> [] {});
  EXPECT_TRUE(gone);
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
