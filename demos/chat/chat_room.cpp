#include "demos/chat/chat_room_state.hpp"

namespace iocaf {

namespace chat_server {

chat_message make(chat_kind kind, std::string nick, std::string text) {
  return chat_message{kind, std::move(nick), std::move(text), {}, 0, {}};
}

void send_chat(self_ptr self, const frame_connection_actor& to, const chat_message& msg) {
  self->send(to, frame_send{proto::encode_chat(msg)});
}

void send_error(self_ptr self, const member& m, std::string text) {
  send_chat(self, m.connection, make(chat_kind::error, {}, std::move(text)));
}

void send_notice(self_ptr self, const member& m, std::string text) {
  send_chat(self, m.connection, make(chat_kind::notice, {}, std::move(text)));
}

// To every member of the room except `except` (0: everybody).
void broadcast(self_ptr self, const std::string& room, const chat_message& msg, caf::actor_id except) {
  auto payload = proto::encode_chat(msg);
  for (auto id : self->state.rooms->members(room))
    if (id != except)
      self->send(self->state.members[id].connection, frame_send{payload});
}

member* find_nick(chat_room_state& st, const std::string& nick) {
  for (auto& kv : st.members)
    if (kv.second.nick == nick)
      return &kv.second;
  return nullptr;
}

std::uint64_t unix_now() {
  return static_cast<std::uint64_t>(
    std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

void enter_room(self_ptr self, member& m, const std::string& room) {
  auto& st = self->state;
  m.room = room;
  st.rooms->enter(room, m.connection.id());
  send_chat(self, m.connection, make(chat_kind::entered, {}, room));
  for (auto& line : st.rooms->history(room)) {
    auto h = make(line.action ? chat_kind::history_me : chat_kind::history, line.nick, line.text);
    h.number = line.time;
    send_chat(self, m.connection, h);
  }
  broadcast(self, room, make(chat_kind::joined, m.nick), m.connection.id());
}

void leave_room(self_ptr self, member& m) {
  auto& st = self->state;
  st.rooms->leave(m.room, m.connection.id());
  if (!st.stopping) // when stopping, everybody is being closed anyway
    broadcast(self, m.room, make(chat_kind::left, m.nick));
  m.room.clear();
}

// The member left the chat (leave, close, crash or dropped): its room hears of it.
void part(self_ptr self, member& m) {
  if (m.nick.empty())
    return;
  leave_room(self, m);
  self->state.log->info("{} left", m.nick);
  m.nick.clear();
}

// Says goodbye with a last message, then closes after flushing it.
void send_away(self_ptr self, member& m, const chat_message& last) {
  part(self, m);
  m.leaving = true;
  send_chat(self, m.connection, last);
  self->send(m.connection, close_atom::value);
}

} // namespace chat_server

namespace {

using namespace chat_server;
using stop_deadline_atom = caf::atom_constant<caf::atom("stopdead")>;
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;

void answer_stop(self_ptr self) {
  auto& st = self->state;
  if (!st.stopping || st.stop_answered || !st.members.empty())
    return;
  st.stop_answered = true;
  st.stop_reply.deliver(std::uint64_t{0});
}

// The member enters a room: it hears where it is and the room's history,
// then the others hear of it.
void remove_connection(self_ptr self, caf::actor_id id) {
  auto& st = self->state;
  auto i = st.members.find(id);
  if (i == st.members.end())
    return;
  part(self, i->second);
  st.members.erase(i);
  answer_stop(self);
}

void heartbeat(self_ptr self) {
  auto& st = self->state;
  auto now = clock_type::now();
  auto ping = proto::encode_chat(make(chat_kind::ping));
  for (auto& kv : st.members) {
    auto& m = kv.second;
    if (m.leaving)
      continue;
    if (now - m.last_heard > st.opts.ping_timeout) {
      st.log->info("dropping {}: not heard from within {} ms", m.nick.empty() ? "a new client" : m.nick,
                   st.opts.ping_timeout.count());
      send_away(self, m, make(chat_kind::notice, {}, "no answer within " + std::to_string(st.opts.ping_timeout.count())
                                                        + " ms: disconnected"));
    } else if (m.hello) {
      self->send(m.connection, frame_send{ping});
    }
  }
  self->delayed_send(self, st.opts.ping_interval, heartbeat_atom::value);
}

// A connection the framing layer closed for bad input (errc::bad_input
// with the decoder's "frame of N bytes exceeds ..."): before hello, the peer
// is most likely not a chat client at all (text, HTTP, another protocol),
// whose first four bytes read as a huge frame length; say so in those words.
void log_closed(self_ptr self, const frame_closed& msg) {
  auto& st = self->state;
  auto i = st.members.find(msg.connection.id());
  const member* m = i == st.members.end() ? nullptr : &i->second;
  if (!is(msg.reason, errc::bad_input)) {
    st.log->info("connection closed: {}", describe(msg.reason));
  } else if (m == nullptr || !m->hello) {
    st.log->warn("dropped a connection: not an iocaf chat client (bad frame header)");
    st.log->debug("the frame decoder said: {}", describe(msg.reason));
  } else {
    st.log->warn("dropped {}: its client broke the frame format ({})", m->nick.empty() ? "a new client" : m->nick,
                 describe(msg.reason));
  }
}

caf::result<std::uint64_t> start_stop(self_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return make_error(errc::closing, "the room is already stopping");
  st.stopping = true;
  st.stop_reply = self->make_response_promise();
  st.log->info("stopping: {} connections", st.members.size());
  auto notice = make(chat_kind::notice, {}, "server is shutting down");
  for (auto& kv : st.members)
    if (!kv.second.leaving)
      send_away(self, kv.second, notice);
  self->delayed_send(self, st.opts.stop_bound, stop_deadline_atom::value);
  answer_stop(self);
  return caf::delegated<std::uint64_t>{};
}

caf::behavior chat_room(self_ptr self, chat_room_options opts) {
  auto& st = self->state;
  st.opts = opts;
  st.rooms.emplace(opts.default_room, opts.history_lines, opts.max_rooms);
  st.log = logger("chat");
  // Connections that are closing answer writes with errors; they need no action.
  self->set_error_handler([self](caf::error& err) { self->state.log->debug("ignored: {}", describe(err)); });
  self->set_down_handler([self](caf::down_msg& dm) { remove_connection(self, dm.source.id()); });
  if (opts.ping_interval.count() > 0)
    self->delayed_send(self, opts.ping_interval, heartbeat_atom::value);
  return {
    [self](frame_opened& msg) {
      auto& st = self->state;
      self->monitor(msg.connection);
      auto& m = st.members[msg.connection.id()];
      m.connection = msg.connection;
      m.last_heard = clock_type::now();
      if (st.stopping)
        send_away(self, m, make(chat_kind::notice, {}, "server is shutting down"));
    },
    [self](frame_received& msg) {
      auto& st = self->state;
      auto i = st.members.find(msg.connection.id());
      if (i == st.members.end() || i->second.leaving)
        return;
      i->second.last_heard = clock_type::now();
      auto parsed = proto::parse_chat(msg.payload);
      if (!parsed.message) {
        st.log->warn("bad message from {}: {}", i->second.nick.empty() ? "a new client" : i->second.nick,
                     parsed.error);
        send_error(self, i->second, "bad message: " + parsed.error);
        return;
      }
      on_chat(self, i->second, *parsed.message);
    },
    [self](frame_closed& msg) {
      if (msg.reason)
        log_closed(self, msg);
      remove_connection(self, msg.connection.id());
    },
    [self](frame_refused& msg) {
      // A closing connection refusing is expected (it leaves anyway); a full one is not.
      if (is(msg.reason, errc::closing))
        self->state.log->debug("a reply was not queued: {}", describe(msg.reason));
      else
        self->state.log->warn("a reply was not queued: {}", describe(msg.reason));
    },
    [self](heartbeat_atom) {
      if (!self->state.stopping)
        heartbeat(self);
    },
    [self](stop_atom) -> caf::result<std::uint64_t> { return start_stop(self); },
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
