#pragma once
// The simplest TCP handler: echoes every byte, hands the read credit back at
// once, and closes after the peer's EOF (after the echoes queued before it).
// A refused echo would lose bytes, so that connection is closed abortively.
// Used by the echo demo, its tests and the TCP benchmark.
#include "actors/tcp/tcp_connection.hpp"

#include <caf/event_based_actor.hpp>

namespace iocaf {

// quit_when_closed: true for one handler per connection, false for a
// handler shared by every connection of a listener.
inline caf::behavior tcp_echo(caf::event_based_actor* self, bool quit_when_closed) {
  return {
    [](const tcp_opened&) {},
    [self](tcp_received& msg) {
      auto n = msg.data.size();
      self->send(msg.connection, tcp_send{std::move(msg.data)});
      self->send(msg.connection, tcp_consumed{n});
    },
    [self](const tcp_peer_eof& msg) { self->send(msg.connection, tcp_close{}); },
    [](const tcp_drained&) {},
    [self](const tcp_send_refused& msg) { self->send(msg.connection, tcp_close{true}); },
    [self, quit_when_closed](const tcp_closed&) {
      if (quit_when_closed)
        self->quit();
    },
  };
}

} // namespace iocaf
