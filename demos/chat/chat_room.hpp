#pragma once
// The chat room (the chat demo's server logic): an actor that is the handler
// of every pipe connection of a chat server (proto/chat.hpp over frames).
//
//  - nicks are unique: a taken or invalid nick is an error reply, never a rename;
//  - a said line goes to every other joined member, in the order its sender
//    sent it (one room, and CAF keeps the order between two actors);
//  - a malformed chat message gets an error reply; the connection stays.
//
//   main -> room   stop_atom (request): tells every client "notice server is
//                  shutting down", closes every connection gracefully and
//                  answers, once all are gone or the stop bound passed, with the
//                  number of connections that had not closed in time (0: all did).
#include "actors/pipe/pipe_connection.hpp"

#include <caf/all.hpp>

#include <chrono>

namespace iocaf {

struct chat_room_options {
  std::chrono::milliseconds stop_bound{4000};
};

caf::actor spawn_chat_room(caf::actor_system& sys, chat_room_options opts = {});

} // namespace iocaf
