#pragma once
// Inside the chat room actor (chat_room.cpp: connections, heartbeat, stop;
// chat_commands.cpp: what each client message does): its state and the
// helpers both use.
#include "demos/chat/chat_room.hpp"
#include "demos/chat/chat_rooms.hpp"
#include "io/log.hpp"
#include "proto/chat.hpp"

#include <optional>
#include <unordered_map>

namespace iocaf::chat_server {

using proto::chat_kind;
using proto::chat_message;
using clock_type = std::chrono::steady_clock;

struct member {
  frame_connection_actor connection;
  bool hello = false;       // spoke the right protocol version
  std::string nick;         // empty until joined
  std::string room;         // the room of a joined member
  std::optional<std::string> away;
  bool leaving = false;     // said leave (or was told to go): its frames are ignored
  clock_type::time_point last_heard;
  flood_window flood;
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

chat_message make(chat_kind kind, std::string nick = {}, std::string text = {});
void send_chat(self_ptr self, const frame_connection_actor& to, const chat_message& msg);
void send_error(self_ptr self, const member& m, std::string text);
void send_notice(self_ptr self, const member& m, std::string text);
// To every member of the room except `except` (0: everybody).
void broadcast(self_ptr self, const std::string& room, const chat_message& msg, caf::actor_id except = 0);
member* find_nick(chat_room_state& st, const std::string& nick);
std::uint64_t unix_now();
// The member enters a room: it hears where it is and the room's history,
// then the others hear of it.
void enter_room(self_ptr self, member& m, const std::string& room);
void leave_room(self_ptr self, member& m);
// The member left the chat (leave, close, crash or dropped): its room hears of it.
void part(self_ptr self, member& m);
// Says goodbye with a last message, then closes after flushing it.
void send_away(self_ptr self, member& m, const chat_message& last);
// What a message from a client does.
void on_chat(self_ptr self, member& m, chat_message& msg);

} // namespace iocaf::chat_server
