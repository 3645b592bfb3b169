#pragma once
// Length-prefixed frames (proto/frame.hpp) as a layer over any stream
// connection (pipe or TCP): one framing actor sits between the stream
// connection and the handler, decodes what is received into frames, encodes
// what is sent, and hands the read credit back as it decodes.
//
//   framing -> handler   frame_opened (first), frame_received..., frame_closed (last)
//   framing -> handler   frame_refused (a send not written: queue_full, bad_input, closing)
//   anyone -> framing    frame_send{payload}, close_atom (graceful), stats_atom (frame_stats)
//
// The framing actor monitors the handler (down: graceful close) and ends when
// the stream connection has gone. A malformed or truncated frame closes the
// connection with errc::bad_input.
#include "actors/stream/stream_connection.hpp"
#include "proto/frame.hpp"

#include <functional>

namespace iocaf {

struct framed_options : stream_options {
  std::size_t max_frame = proto::default_max_frame; // payload bytes, both directions
};

struct frame_opened {
  caf::actor connection; // the framing actor: send frame_send here
  std::string local;
  std::string remote;
  bool accepted = false;
};
struct frame_received {
  caf::actor connection;
  std::string payload;
};
// reason is empty when the peer closed cleanly or a graceful close finished;
// errc::bad_input (malformed or truncated frame), errc::queue_full (slow
// reader disconnected), errc::timeout (close could not flush in time), ...
struct frame_closed {
  caf::actor connection;
  caf::error reason;
};
struct frame_refused {
  caf::actor connection;
  caf::error reason;       // queue_full, bad_input (frame too large) or closing
  std::uint64_t bytes = 0; // payload bytes refused
};
struct frame_send {
  std::string payload;
};
struct frame_stats {
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;       // frames handed to the stream and not refused
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;        // bytes whose write completed
  std::uint64_t queued_bytes = 0;     // now: queued or being written
  std::uint64_t max_queued_bytes = 0; // the most ever queued at once
  std::uint64_t refused = 0;          // frames refused (queue full, too large, closing)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame_opened& x) {
  return f(caf::meta::type_name("frame_opened"), x.connection, x.local, x.remote, x.accepted);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame_received& x) {
  return f(caf::meta::type_name("frame_received"), x.connection, x.payload);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame_closed& x) {
  return f(caf::meta::type_name("frame_closed"), x.connection, x.reason);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame_refused& x) {
  return f(caf::meta::type_name("frame_refused"), x.connection, x.reason, x.bytes);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame_send& x) {
  return f(caf::meta::type_name("frame_send"), x.payload);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame_stats& x) {
  return f(caf::meta::type_name("frame_stats"), x.frames_in, x.frames_out, x.bytes_in, x.bytes_out, x.queued_bytes,
           x.max_queued_bytes, x.refused);
}

// Spawns the framing actor, which spawns its stream connection through
// `spawn_stream` (given the framing actor as the stream's handler).
using stream_spawner = std::function<caf::actor(caf::actor stream_handler)>;
caf::actor spawn_framed(caf::actor_system& sys, stream_spawner spawn_stream, caf::actor handler,
                        std::size_t max_frame);

} // namespace iocaf
