#pragma once
// One connected named pipe (either end): the stream core (actors/stream)
// over a pipe HANDLE, with the framing layer (actors/stream/framing.hpp) on
// top, so the handler speaks frames:
//
//   connection -> handler   pipe_opened (always first), pipe_frame..., pipe_closed (always last)
//   anyone -> connection    pipe_write{payload}   queue one frame (refusal: pipe_refused)
//                           close_atom            graceful close: flush queued writes, then disconnect
//                           stats_atom            request; answers pipe_connection_stats
//
// What is the pipe's own stays here: ReadFile/WriteFile, and that a broken
// pipe is the peer's end of stream (a pipe has no half-close). The
// connection closes gracefully when its handler terminates.
#include "actors/stream/framing.hpp"
#include "io/handle.hpp"

#include <caf/all.hpp>

#include <string>

namespace iocaf {

using write_queue_policy = when_full_policy;
using pipe_connection_options = framed_options;
using pipe_opened = frame_opened;
using pipe_frame = frame_received;
using pipe_closed = frame_closed;
using pipe_refused = frame_refused;
using pipe_write = frame_send;
using pipe_connection_stats = frame_stats;

// Spawns a connection for a connected pipe handle, which it takes over (it
// closes it when it has drained). The handle must already be associated
// with core's completion port. Returns the actor to send pipe_write to.
caf::actor spawn_pipe_connection(caf::actor_system& sys, std::shared_ptr<io_core> core, io::unique_handle pipe,
                                 std::string name, bool server_side, pipe_connection_options opts,
                                 caf::actor handler);

} // namespace iocaf
