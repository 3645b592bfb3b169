#include "demos/chat/chat_room.hpp"

#include "demos/chat/chat_rooms.hpp"
#include "io/log.hpp"
#include "proto/chat.hpp"

#include <optional>
#include <unordered_map>

namespace iocaf {

namespace {

using proto::chat_kind;
using proto::chat_message;
using clock_type = std::chrono::steady_clock;
using stop_deadline_atom = caf::atom_constant<caf::atom("stopdead")>;
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;

struct member {
  caf::actor connection;
  bool hello = false;       // spoke the right protocol version
  std::string nick;         // empty until joined
  std::string room;         // the room of a joined member
  std::optional<std::string> away;
  bool leaving = false;     // said leave (or was told to go): its frames are ignored
  clock_type::time_point last_heard;
  chat_server::flood_window flood;
};

struct chat_room_state {
  chat_room_options opts;
  std::shared_ptr<spdlog::logger> log;
  std::unordered_map<caf::actor_id, member> members; // every open connection
  std::optional<chat_server::rooms> rooms;
  bool stopping = false;
  caf::response_promise stop_reply;
  bool stop_answered = false;
};

using self_ptr = caf::stateful_actor<chat_room_state>*;

chat_message make(chat_kind kind, std::string nick = {}, std::string text = {}) {
  return chat_message{kind, std::move(nick), std::move(text), {}, 0, {}};
}

void send_chat(self_ptr self, const caf::actor& to, const chat_message& msg) {
  self->send(to, frame_send{proto::encode_chat(msg)});
}

void send_error(self_ptr self, const member& m, std::string text) {
  send_chat(self, m.connection, make(chat_kind::error, {}, std::move(text)));
}

void send_notice(self_ptr self, const member& m, std::string text) {
  send_chat(self, m.connection, make(chat_kind::notice, {}, std::move(text)));
}

// To every member of the room except `except` (0: everybody).
void broadcast(self_ptr self, const std::string& room, const chat_message& msg, caf::actor_id except = 0) {
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

void answer_stop(self_ptr self) {
  auto& st = self->state;
  if (!st.stopping || st.stop_answered || !st.members.empty())
    return;
  st.stop_answered = true;
  st.stop_reply.deliver(std::uint64_t{0});
}

// The member enters a room: it hears where it is and the room's history,
// then the others hear of it.
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
    send_error(self, m, "invalid nick: " + why);
    return false;
  }
  if (find_nick(self->state, nick) != nullptr) {
    send_error(self, m, "nick " + nick + " is taken");
    return false;
  }
  return true;
}

// A said, /me or /msg line within the flood limit? Otherwise the sender hears why.
bool within_flood_limit(self_ptr self, member& m) {
  auto& o = self->state.opts;
  if (m.flood.accept(clock_type::now(), o.flood_lines, o.flood_window))
    return true;
  send_notice(self, m, "flood limit: line refused (at most " + std::to_string(o.flood_lines) + " lines per "
                         + std::to_string(o.flood_window.count()) + " ms)");
  return false;
}

void on_hello(self_ptr self, member& m, const chat_message& msg) {
  auto required = "protocol version " + std::to_string(proto::chat_protocol_version) + " required";
  if (msg.kind != chat_kind::hello) {
    send_away(self, m, make(chat_kind::error, {}, required + " (the client did not say hello; upgrade it)"));
  } else if (msg.number != proto::chat_protocol_version) {
    send_away(self, m, make(chat_kind::error, {}, required + " (the client speaks version "
                                                    + std::to_string(msg.number) + ")"));
  } else {
    m.hello = true;
  }
}

void on_join(self_ptr self, member& m, const chat_message& msg) {
  if (!m.nick.empty()) {
    send_error(self, m, "you already joined as " + m.nick);
  } else if (check_nick(self, m, msg.nick)) {
    m.nick = msg.nick;
    send_chat(self, m.connection, make(chat_kind::welcome, m.nick));
    enter_room(self, m, self->state.rooms->default_room());
    self->state.log->info("{} joined", m.nick);
  }
}

void on_line(self_ptr self, member& m, chat_message& msg) {
  auto& st = self->state;
  if (!within_flood_limit(self, m))
    return;
  if (msg.kind == chat_kind::msg) {
    auto* to = find_nick(st, msg.nick);
    if (to == nullptr) {
      send_notice(self, m, "no user named " + msg.nick + " is here");
      return;
    }
    send_chat(self, to->connection, make(chat_kind::private_from, m.nick, msg.text));
    send_chat(self, m.connection, make(chat_kind::private_to, msg.nick, std::move(msg.text)));
    return;
  }
  bool action = msg.kind == chat_kind::me;
  st.rooms->record(m.room, chat_server::history_line{unix_now(), m.nick, msg.text, action});
  if (action) // the actor sees its action too
    broadcast(self, m.room, make(chat_kind::action, m.nick, std::move(msg.text)));
  else
    broadcast(self, m.room, make(chat_kind::said, m.nick, std::move(msg.text)), m.connection.id());
}

void on_who(self_ptr self, member& m) {
  auto& st = self->state;
  chat_message reply = make(chat_kind::who_reply);
  std::vector<chat_message> away;
  for (auto id : st.rooms->members(m.room)) {
    auto& other = st.members[id];
    reply.names.push_back(other.nick);
    if (other.away)
      away.push_back(make(chat_kind::is_away, other.nick, *other.away));
  }
  send_chat(self, m.connection, reply);
  for (auto& a : away)
    send_chat(self, m.connection, a);
}

void on_rooms(self_ptr self, member& m) {
  chat_message reply = make(chat_kind::rooms_reply);
  for (auto& r : self->state.rooms->list()) {
    reply.names.push_back(r.first);
    reply.counts.push_back(r.second);
  }
  send_chat(self, m.connection, reply);
}

void on_enter(self_ptr self, member& m, const std::string& room) {
  auto& st = self->state;
  if (room == m.room) {
    send_error(self, m, "you are in " + room + " already");
  } else if (!st.rooms->can_enter(room)) {
    send_error(self, m, "no room " + room + " and no more rooms (at most " + std::to_string(st.rooms->max_rooms())
                          + ")");
  } else {
    leave_room(self, m);
    enter_room(self, m, room);
  }
}

void on_nick(self_ptr self, member& m, const std::string& nick) {
  if (nick == m.nick) {
    send_error(self, m, "you are " + m.nick + " already");
  } else if (check_nick(self, m, nick)) {
    broadcast(self, m.room, make(chat_kind::renamed, m.nick, nick));
    self->state.log->info("{} is now {}", m.nick, nick);
    m.nick = nick;
  }
}

void on_chat(self_ptr self, member& m, chat_message& msg) {
  if (!m.hello) {
    on_hello(self, m, msg);
    return;
  }
  bool joined = !m.nick.empty();
  switch (msg.kind) {
    case chat_kind::join: on_join(self, m, msg); return;
    case chat_kind::rooms: on_rooms(self, m); return;
    case chat_kind::pong: return; // being heard is all a pong is for
    case chat_kind::leave:
      // Leaving is acknowledged by the close: after every earlier reply was flushed.
      part(self, m);
      m.leaving = true;
      self->send(m.connection, close_atom::value);
      return;
    case chat_kind::hello:
      send_error(self, m, "you said hello already");
      return;
    default: break;
  }
  if (!joined) {
    send_error(self, m, std::string("join first (to ") + proto::to_string(msg.kind) + ")");
    return;
  }
  auto& rooms = *self->state.rooms;
  switch (msg.kind) {
    case chat_kind::say:
    case chat_kind::me:
    case chat_kind::msg: on_line(self, m, msg); return;
    case chat_kind::who: on_who(self, m); return;
    case chat_kind::nick: on_nick(self, m, msg.nick); return;
    case chat_kind::enter: on_enter(self, m, msg.text); return;
    case chat_kind::part:
      if (m.room == rooms.default_room())
        send_error(self, m, "you are in the default room " + m.room + " already");
      else
        on_enter(self, m, rooms.default_room());
      return;
    case chat_kind::away:
      m.away = msg.text;
      broadcast(self, m.room, make(chat_kind::is_away, m.nick, msg.text));
      return;
    case chat_kind::back:
      if (!m.away) {
        send_error(self, m, "you are not away");
        return;
      }
      m.away.reset();
      broadcast(self, m.room, make(chat_kind::is_back, m.nick));
      return;
    default:
      send_error(self, m, std::string("a client may not send '") + proto::to_string(msg.kind) + "'");
      return;
  }
}

// Pings the members; drops those not heard from within ping_timeout.
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
