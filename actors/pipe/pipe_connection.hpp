#pragma once
// One connected named pipe (either end) as an io actor: it owns its read and
// write operations, decodes frames (proto/frame.hpp) and speaks typed
// messages with one handler actor.
//
//   connection -> handler   pipe_opened (always first), pipe_frame..., pipe_closed (always last)
//   anyone -> connection    pipe_write{payload}   queue one frame (refusal: pipe_refused to the sender,
//                                                 also once the connection closes, until it is gone)
//                           close_atom            graceful close: flush queued writes, then disconnect
//                           stats_atom            request; answers pipe_connection_stats
//
// Messages from one actor to another arrive in the order sent, so the
// handler sees pipe_opened before any frame, and frames in the order read.
// The connection monitors its handler: when the handler terminates, it
// closes gracefully (flushes what is queued, bounded by close_grace).
#include "actors/core/io_core.hpp"
#include "actors/core/messages.hpp"
#include "io/handle.hpp"
#include "proto/frame.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace iocaf {

// What a full write queue does with one more frame.
enum class write_queue_policy : std::uint8_t {
  refuse,     // the frame is dropped and its sender gets pipe_refused (errc::queue_full)
  disconnect, // the slow reader is disconnected, with a logged reason (errc::queue_full)
};

struct pipe_connection_options {
  std::size_t max_frame = proto::default_max_frame;   // payload bytes, both directions
  std::size_t max_queued_bytes = 1024 * 1024;         // encoded bytes queued or being written
  write_queue_policy when_full = write_queue_policy::refuse;
  std::size_t read_size = 64 * 1024;                  // bytes per ReadFile
  std::size_t write_batch = 64 * 1024;                // queued frames coalesced into one WriteFile
  std::chrono::milliseconds close_grace{3000};        // bound on flushing at a graceful close
};

// --- connection -> handler -------------------------------------------------
struct pipe_opened {
  caf::actor connection;
  std::string pipe;          // the pipe's name (without \\.\pipe\)
  bool server_side = false;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pipe_opened& x) {
  return f(caf::meta::type_name("pipe_opened"), x.connection, x.pipe, x.server_side);
}

struct pipe_frame {
  caf::actor connection;
  std::string payload;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pipe_frame& x) {
  return f(caf::meta::type_name("pipe_frame"), x.connection, x.payload);
}

// The last message of a connection. reason is empty when the peer closed
// cleanly or a graceful close finished; errc::bad_input for a malformed or
// truncated frame, errc::queue_full for a disconnected slow reader,
// errc::timeout when a graceful close could not flush in time, errc::win32
// for a failed call, or the exit reason that stopped the actor.
struct pipe_closed {
  caf::actor connection;
  caf::error reason;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pipe_closed& x) {
  return f(caf::meta::type_name("pipe_closed"), x.connection, x.reason);
}

// --- connection -> a writer whose frame was not queued ----------------------
struct pipe_refused {
  caf::actor connection;
  caf::error reason;        // queue_full, bad_input (frame too large) or closing
  std::uint64_t bytes = 0;  // payload bytes refused
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pipe_refused& x) {
  return f(caf::meta::type_name("pipe_refused"), x.connection, x.reason, x.bytes);
}

// --- anyone -> connection --------------------------------------------------
struct pipe_write {
  std::string payload;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pipe_write& x) {
  return f(caf::meta::type_name("pipe_write"), x.payload);
}

struct pipe_connection_stats {
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;       // frames handed to WriteFile
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;        // bytes whose write completed
  std::uint64_t queued_bytes = 0;     // now: queued or being written
  std::uint64_t max_queued_bytes = 0; // the most ever queued at once
  std::uint64_t refused = 0;          // frames refused (queue full, too large, closing)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pipe_connection_stats& x) {
  return f(caf::meta::type_name("pipe_connection_stats"), x.frames_in, x.frames_out, x.bytes_in, x.bytes_out,
           x.queued_bytes, x.max_queued_bytes, x.refused);
}

// Spawns a connection actor for a connected pipe handle, which it takes over
// (it closes it when it has drained). The handle must already be associated
// with core's completion port.
caf::actor spawn_pipe_connection(caf::actor_system& sys, std::shared_ptr<io_core> core, io::unique_handle pipe,
                                 std::string name, bool server_side, pipe_connection_options opts,
                                 caf::actor handler);

} // namespace iocaf
