#pragma once
// Length-prefixed frames (proto/frame.hpp) as a layer of the stream core,
// over any transport (pipe or TCP). A framed connection is the same actor as
// a byte stream; it decodes what it reads and encodes what it is given, so a
// frame costs no extra actor hop, and its handler speaks frames:
//
//   connection -> handler   frame_opened (first), frame_received..., frame_closed (last)
//   connection -> sender    frame_refused (queue_full, bad_input: too large, closing)
//   anyone -> connection    frame_send{payload}, close_atom (graceful), stats_atom (frame_stats)
//
// Decoded frames are the handler's at once (no read credit). The connection
// closes gracefully when the handler terminates or the peer ends its stream;
// a malformed or truncated frame closes it with errc::bad_input.
#include "actors/stream/stream_connection.hpp"
#include "proto/frame.hpp"


namespace iocaf {

struct framed_options : stream_options {
  // Reads of 64 KiB: a bulk sender's frames (up to max_frame) in one read.
  framed_options() { read_size = 64 * 1024; }
  std::size_t max_frame = proto::default_max_frame; // payload bytes, both directions
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

// The framed connection as its handler (and anyone else) sees it: the
// messages it accepts (stream_close{true}: abortive). Anything else is a
// compile error.
using frame_connection_actor =
  caf::typed_actor<caf::reacts_to<frame_send>, caf::reacts_to<stream_close>, caf::reacts_to<close_atom>,
                   caf::replies_to<stats_atom>::with<frame_stats>>;

struct frame_opened {
  frame_connection_actor connection; // send frame_send here
  std::string local;
  std::string remote;
  bool accepted = false;
};
struct frame_received {
  frame_connection_actor connection;
  std::string payload;
};
// reason is empty when the peer closed cleanly or a graceful close finished;
// errc::bad_input (malformed or truncated frame), errc::queue_full (slow
// reader disconnected), errc::timeout (close could not flush in time), ...
struct frame_closed {
  caf::actor_addr connection; // gone; or, for a pipe connect that failed, the connector
  caf::error reason;
};
struct frame_refused {
  frame_connection_actor connection;
  caf::error reason;       // queue_full, bad_input (frame too large) or closing
  std::uint64_t bytes = 0; // payload bytes refused
};
// What a frame handler hears; a typed handler (frame_handler_actor::behavior_type)
// must handle every one of these or it does not compile.
using frame_handler_actor = caf::typed_actor<caf::reacts_to<frame_opened>, caf::reacts_to<frame_received>,
                                             caf::reacts_to<frame_refused>, caf::reacts_to<frame_closed>>;

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

// Spawns a framed connection over `transport` (see stream_connection.hpp).
caf::actor spawn_framed_connection(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                   std::unique_ptr<stream_transport> transport, caf::actor handler,
                                   framed_options opts);

} // namespace iocaf
