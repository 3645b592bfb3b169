#include "demos/chat/chat_room.hpp"

#include "io/log.hpp"
#include "proto/chat.hpp"

#include <algorithm>
#include <unordered_map>
#include <vector>

namespace iocaf {

namespace {

using proto::chat_kind;
using proto::chat_message;
using stop_deadline_atom = caf::atom_constant<caf::atom("stopdead")>;

struct member {
  caf::actor connection;
  std::string nick;     // empty until joined
  bool leaving = false; // said leave (or was told to go): its frames are ignored
};

struct chat_room_state {
  chat_room_options opts;
  std::shared_ptr<spdlog::logger> log;
  std::unordered_map<caf::actor_id, member> members; // every open connection
  std::vector<caf::actor_id> joined;                 // joined members, in join order
  bool stopping = false;
  caf::response_promise stop_reply;
  bool stop_answered = false;
};

using self_ptr = caf::stateful_actor<chat_room_state>*;

void send_chat(self_ptr self, const caf::actor& to, const chat_message& msg) {
  self->send(to, frame_send{proto::encode_chat(msg)});
}

void send_error(self_ptr self, const caf::actor& to, std::string text) {
  send_chat(self, to, chat_message{chat_kind::error, {}, std::move(text), {}});
}

// To every joined member except `except` (0: everybody).
void broadcast(self_ptr self, const chat_message& msg, caf::actor_id except = 0) {
  auto payload = proto::encode_chat(msg);
  for (auto id : self->state.joined)
    if (id != except)
      self->send(self->state.members[id].connection, frame_send{payload});
}

member* find_nick(chat_room_state& st, const std::string& nick) {
  for (auto id : st.joined)
    if (st.members[id].nick == nick)
      return &st.members[id];
  return nullptr;
}

void answer_stop(self_ptr self) {
  auto& st = self->state;
  if (!st.stopping || st.stop_answered || !st.members.empty())
    return;
  st.stop_answered = true;
  st.stop_reply.deliver(std::uint64_t{0});
}

// The member left the room (leave, close or crash): the others hear of it.
void part(self_ptr self, member& m) {
  auto& st = self->state;
  if (m.nick.empty())
    return;
  auto id = m.connection.id();
  st.joined.erase(std::remove(st.joined.begin(), st.joined.end(), id), st.joined.end());
  if (!st.stopping) // when stopping, everybody is being closed anyway
    broadcast(self, chat_message{chat_kind::left, m.nick, {}, {}});
  st.log->info("{} left", m.nick);
  m.nick.clear();
}

void remove_connection(self_ptr self, caf::actor_id id) {
  auto& st = self->state;
  auto i = st.members.find(id);
  if (i == st.members.end())
    return;
  part(self, i->second);
  st.members.erase(i);
  answer_stop(self);
}

bool check_nick(self_ptr self, member& m, const std::string& nick) {
  std::string why;
  if (!proto::valid_nick(nick, &why)) {
    send_error(self, m.connection, "invalid nick: " + why);
    return false;
  }
  if (find_nick(self->state, nick) != nullptr) {
    send_error(self, m.connection, "nick " + nick + " is taken");
    return false;
  }
  return true;
}

void on_chat(self_ptr self, member& m, chat_message& msg) {
  auto& st = self->state;
  auto id = m.connection.id();
  bool joined = !m.nick.empty();
  switch (msg.kind) {
    case chat_kind::join:
      if (joined) {
        send_error(self, m.connection, "you already joined as " + m.nick);
      } else if (check_nick(self, m, msg.nick)) {
        m.nick = msg.nick;
        st.joined.push_back(id);
        send_chat(self, m.connection, chat_message{chat_kind::welcome, m.nick, {}, {}});
        broadcast(self, chat_message{chat_kind::joined, m.nick, {}, {}}, id);
        st.log->info("{} joined", m.nick);
      }
      return;
    case chat_kind::say:
      if (!joined)
        send_error(self, m.connection, "join first");
      else
        broadcast(self, chat_message{chat_kind::said, m.nick, std::move(msg.text), {}}, id);
      return;
    case chat_kind::who: {
      chat_message reply{chat_kind::who_reply, {}, {}, {}};
      for (auto j : st.joined)
        reply.names.push_back(st.members[j].nick);
      send_chat(self, m.connection, reply);
      return;
    }
    case chat_kind::nick:
      if (!joined) {
        send_error(self, m.connection, "join first");
      } else if (msg.nick == m.nick) {
        send_error(self, m.connection, "you are " + m.nick + " already");
      } else if (check_nick(self, m, msg.nick)) {
        broadcast(self, chat_message{chat_kind::renamed, m.nick, msg.nick, {}});
        st.log->info("{} is now {}", m.nick, msg.nick);
        m.nick = msg.nick;
      }
      return;
    case chat_kind::leave:
      // Leaving is acknowledged by the close: after every earlier reply was flushed.
      part(self, m);
      m.leaving = true;
      self->send(m.connection, close_atom::value);
      return;
    default:
      send_error(self, m.connection, std::string("a client may not send '") + proto::to_string(msg.kind) + "'");
      return;
  }
}

caf::behavior chat_room(self_ptr self, chat_room_options opts) {
  auto& st = self->state;
  st.opts = opts;
  st.log = logger("chat");
  // Connections that are closing answer writes with errors; they need no action.
  self->set_error_handler([self](caf::error& err) { self->state.log->debug("ignored: {}", describe(err)); });
  self->set_down_handler([self](caf::down_msg& dm) { remove_connection(self, dm.source.id()); });
  return {
    [self](frame_opened& msg) {
      auto& st = self->state;
      self->monitor(msg.connection);
      auto& m = st.members[msg.connection.id()];
      m.connection = msg.connection;
      if (st.stopping) {
        m.leaving = true;
        send_chat(self, m.connection, chat_message{chat_kind::notice, {}, "server is shutting down", {}});
        self->send(m.connection, close_atom::value);
      }
    },
    [self](frame_received& msg) {
      auto& st = self->state;
      auto i = st.members.find(msg.connection.id());
      if (i == st.members.end() || i->second.leaving)
        return;
      auto parsed = proto::parse_chat(msg.payload);
      if (!parsed.message) {
        st.log->warn("bad message from {}: {}", i->second.nick.empty() ? "a new client" : i->second.nick,
                     parsed.error);
        send_error(self, msg.connection, "bad message: " + parsed.error);
        return;
      }
      on_chat(self, i->second, *parsed.message);
    },
    [self](frame_closed& msg) {
      if (msg.reason)
        self->state.log->info("connection closed: {}", describe(msg.reason));
      remove_connection(self, msg.connection.id());
    },
    [self](frame_refused& msg) {
      // A closing connection refusing is expected (it leaves anyway); a full one is not.
      if (is(msg.reason, errc::closing))
        self->state.log->debug("a reply was not queued: {}", describe(msg.reason));
      else
        self->state.log->warn("a reply was not queued: {}", describe(msg.reason));
    },
    [self](stop_atom) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      if (st.stopping)
        return make_error(errc::closing, "the room is already stopping");
      st.stopping = true;
      st.stop_reply = self->make_response_promise();
      st.log->info("stopping: {} connections", st.members.size());
      chat_message notice{chat_kind::notice, {}, "server is shutting down", {}};
      for (auto& kv : st.members) {
        kv.second.leaving = true;
        send_chat(self, kv.second.connection, notice);
        self->send(kv.second.connection, close_atom::value);
      }
      self->delayed_send(self, st.opts.stop_bound, stop_deadline_atom::value);
      answer_stop(self);
      return caf::delegated<std::uint64_t>{};
    },
    [self](stop_deadline_atom) {
      auto& st = self->state;
      if (st.stop_answered)
        return;
      st.log->warn("stop bound passed with {} connections still open", st.members.size());
      st.stop_answered = true;
      st.stop_reply.deliver(static_cast<std::uint64_t>(st.members.size()));
    },
  };
}

} // namespace

caf::actor spawn_chat_room(caf::actor_system& sys, chat_room_options opts) {
  return sys.spawn(chat_room, opts);
}

} // namespace iocaf
