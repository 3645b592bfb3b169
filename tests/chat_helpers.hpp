#pragma once
// What the chat tests share: a chat room served on a fresh pipe, raw clients
// on the test thread that speak chat frames, and helpers to read them.
#include "demos/chat/chat_room.hpp"
#include "pipe_helpers.hpp"
#include "proto/chat.hpp"

#include <string>
#include <vector>

namespace iocaf::test {

using proto::chat_kind;
using proto::chat_message;

inline chat_message chat(chat_kind kind, std::string nick = {}, std::string text = {}) {
  return chat_message{kind, std::move(nick), std::move(text), {}, 0, {}};
}

inline chat_message hello(std::uint64_t version = proto::chat_protocol_version) {
  auto m = chat(chat_kind::hello);
  m.number = version;
  return m;
}

class chat_fixture : public runtime_test {
protected:
  void serve_chat(chat_room_options opts = {}) {
    name = unique_pipe_name("chat");
    room = spawn_chat_room(*sys, opts);
    pipe_listener_options o;
    o.name = name;
    o.connection.when_full = when_full_policy::disconnect;
    auto srv = spawn_pipe_listener(*sys, rt->core(), o, room);
    ASSERT_TRUE(srv) << describe(srv.error());
    listener = srv->actor;
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

// A raw client on the test thread speaking chat frames. next() skips pings
// (it never answers them) and keeps everything it read in `seen`.
struct raw_client {
  io::unique_handle h;
  proto::frame_decoder dec;
  std::vector<std::string> pending;
  std::vector<std::string> seen; // every payload received, pings aside

  void send(const chat_message& m) { ASSERT_EQ(write_blocking(h.get(), frame(proto::encode_chat(m))), 0u); }

  std::optional<chat_message> next() {
    for (;;) {
      while (pending.empty()) {
        auto r = read_blocking(h.get());
        if (r.first != 0)
          return std::nullopt;
        if (dec.feed(r.second, pending))
          return std::nullopt;
      }
      auto payload = pending.front();
      pending.erase(pending.begin());
      auto p = proto::parse_chat(payload);
      if (p.message && p.message->kind == chat_kind::ping)
        continue;
      seen.push_back(payload);
      return p.message;
    }
  }

  // The next message, which must be of this kind (else a failure and nullopt).
  std::optional<chat_message> expect(chat_kind kind) {
    auto m = next();
    if (!m) {
      ADD_FAILURE() << "expected '" << proto::to_string(kind) << "', got nothing (closed or timed out)";
      return std::nullopt;
    }
    if (m->kind != kind) {
      ADD_FAILURE() << "expected '" << proto::to_string(kind) << "', got '" << proto::encode_chat(*m) << "'";
      return std::nullopt;
    }
    return m;
  }

  // Skips messages up to the next one of this kind.
  std::optional<chat_message> until(chat_kind kind) {
    for (auto m = next(); m; m = next())
      if (m->kind == kind)
        return m;
    ADD_FAILURE() << "no '" << proto::to_string(kind) << "' came";
    return std::nullopt;
  }

  // Asks who is here and reads up to the answer: everything the room sent
  // this client before is then in `seen`.
  void sync() {
    send(chat(chat_kind::who));
    for (auto m = next(); m; m = next())
      if (m->kind == chat_kind::who_reply)
        return;
    ADD_FAILURE() << "no who_reply";
  }

  bool saw_text(const std::string& text) const {
    for (auto& s : seen)
      if (s.find(text) != std::string::npos)
        return true;
    return false;
  }
};

// Connects and says hello.
inline raw_client connect_raw(const std::string& name, bool say_hello = true) {
  raw_client c;
  auto h = open_client(name);
  EXPECT_TRUE(h) << h.err().to_string();
  if (h)
    c.h = std::move(*h);
  if (say_hello && c.h)
    c.send(hello());
  return c;
}

// Connects, says hello, joins as nick and reads the welcome and the entry
// into the default room (and its history, if `history` lines are expected).
inline raw_client join_raw(const std::string& name, const std::string& nick, std::size_t history = 0) {
  auto c = connect_raw(name);
  c.send(chat(chat_kind::join, nick));
  c.expect(chat_kind::welcome);
  c.expect(chat_kind::entered);
  for (std::size_t i = 0; i < history; ++i)
    c.next();
  return c;
}

} // namespace iocaf::test
