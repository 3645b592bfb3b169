// What each client message does in the chat room (see chat_room.hpp).
#include "demos/chat/chat_room_state.hpp"

namespace iocaf::chat_server {

namespace {

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

} // namespace

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
} // namespace iocaf::chat_server
