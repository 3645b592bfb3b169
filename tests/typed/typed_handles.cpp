// Compiled, never run: the handler <-> connection protocol is checked by the
// compiler. Built as is, every use below is right and must compile (the
// control). With one IOCAF_PROBE_* defined it holds exactly one mistake, and
// ctest builds it expecting CAF's static_assert (tests/typed.cmake).
#include "actors/stream/framing.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace iocaf::probe {

void answer_bytes(caf::event_based_actor* self, const stream_received& in) {
  self->send(in.connection, stream_send{in.data, in.data.size()});
  self->send(in.connection, stream_consumed{in.data.size()});
  self->send(in.connection, close_atom::value);
#ifdef IOCAF_PROBE_FRAME_TO_A_BYTE_STREAM
  self->send(in.connection, frame_send{in.data}); // a byte stream takes no frames
#endif
}

void answer_frames(caf::event_based_actor* self, const frame_received& in) {
  self->send(in.connection, frame_send{in.payload});
  self->send(in.connection, stream_close{true});
#ifdef IOCAF_PROBE_BYTES_TO_A_FRAMED_CONNECTION
  self->send(in.connection, stream_send{in.payload}); // a framed connection takes frames only
#endif
}

stream_handler_actor::behavior_type byte_handler(stream_handler_actor::pointer self) {
  return {
    [](const stream_opened&) {},
    [self](stream_received& in) { self->send(in.connection, stream_send{std::move(in.data)}); },
    [](const stream_peer_eof&) {},
    [](const stream_drained&) {},
    [](const stream_send_refused&) {},
#ifndef IOCAF_PROBE_HANDLER_WITHOUT_CLOSED
    [self](const stream_closed&) { self->quit(); }, // leaving this out must not compile
#endif
  };
}

frame_handler_actor::behavior_type frame_handler(frame_handler_actor::pointer self) {
  return {
    [](const frame_opened&) {},
    [self](frame_received& in) { self->send(in.connection, frame_send{std::move(in.payload)}); },
    [](const frame_refused&) {},
    [self](const frame_closed&) { self->quit(); },
  };
}

} // namespace iocaf::probe
