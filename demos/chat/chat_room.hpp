#pragma once
// The chat room (the chat demo's server logic): an actor that is the handler
// of every pipe connection of a chat server (proto/chat.hpp over frames).
//
//  - a client says hello with protocol version 2 first; any other first
//    message, or another version, gets "protocol version 2 required" and the
//    connection is closed;
//  - nicks are unique: a taken or invalid nick is an error reply, never a rename;
//  - a joined member is in exactly one room (the default room on join);
//    rooms are created on demand; a newcomer to a room gets its last
//    history_lines lines (said and /me), then the others see it join;
//  - a said line goes to every other member of the room, in the order its
//    sender sent it (one actor, and CAF keeps the order between two actors);
//  - said, /me and /msg lines beyond flood_lines per flood_window are refused
//    with a notice to the sender only;
//  - every ping_interval each member is pinged; one not heard from (any
//    message counts) for ping_timeout is dropped and its room sees it leave;
//  - a malformed chat message gets an error reply; the connection stays.
//
//   main -> room   stop_atom (request): tells every client "notice server is
//                  shutting down", closes every connection gracefully and
//                  answers, once all are gone or the stop bound passed, with the
//                  number of connections that had not closed in time (0: all did).
#include "actors/pipe/pipe_connection.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <string>

namespace iocaf {

struct chat_room_options {
  std::chrono::milliseconds stop_bound{4000};
  std::string default_room = "general";
  std::size_t history_lines = 20;
  std::size_t max_rooms = 256;
  std::size_t flood_lines = 10;
  std::chrono::milliseconds flood_window{2000};
  std::chrono::milliseconds ping_interval{10000}; // 0: no heartbeat
  std::chrono::milliseconds ping_timeout{30000};
};

caf::actor spawn_chat_room(caf::actor_system& sys, chat_room_options opts = {});

} // namespace iocaf
