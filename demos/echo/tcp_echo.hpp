#pragma once
// The simplest TCP handler: echoes every byte, hands the read credit back at
// once (with the echo: one message, not two), and closes after the peer's EOF (after the echoes queued before it).
// A refused echo would lose bytes, so that connection is closed abortively.
// Used by the echo demo, its tests and the TCP benchmark.
#include "actors/tcp/tcp_connection.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace iocaf {

// quit_when_closed: true for one handler per connection, false for a
// handler shared by every connection of a listener. A typed handler: leaving
// out one of the stream events is a compile error.
inline stream_handler_actor::behavior_type tcp_echo(stream_handler_actor::pointer self, bool quit_when_closed) {
  return {
    [](const stream_opened&) {},
    [self](stream_received& msg) {
      auto n = msg.data.size();
      self->send(msg.connection, stream_send{std::move(msg.data), n});
    },
    [self](const stream_peer_eof& msg) { self->send(msg.connection, stream_close{}); },
    [](const stream_drained&) {},
    [self](const stream_send_refused& msg) { self->send(msg.connection, stream_close{true}); },
    [self, quit_when_closed](const stream_closed&) {
      if (quit_when_closed)
        self->quit();
    },
  };
}

} // namespace iocaf
