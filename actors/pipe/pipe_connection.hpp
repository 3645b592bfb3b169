#pragma once
// One connected named pipe (either end): the stream core (actors/stream)
// over a pipe HANDLE, with the framing layer (actors/stream/framing.hpp) on
// top (in the same actor), so the handler speaks frames:
//
//   connection -> handler   frame_opened (always first), frame_received..., frame_closed (always last)
//   anyone -> connection    frame_send{payload}   queue one frame (refusal: frame_refused)
//                           close_atom            graceful close: flush queued writes, then disconnect
//                           stats_atom            request; answers frame_stats
//
// What is the pipe's own stays here: ReadFile/WriteFile, and that a broken
// pipe is the peer's end of stream (a pipe has no half-close). The
// connection closes gracefully when its handler terminates.
#include "actors/stream/framing.hpp"
#include "io/handle.hpp"

#include <caf/all.hpp>

#include <string>

namespace iocaf {


// Spawns a connection for a connected pipe handle, which it takes over (it
// closes it when it has drained). The handle must already be associated
// with core's completion port. Returns the actor to send frame_send to.
caf::actor spawn_pipe_connection(caf::actor_system& sys, std::shared_ptr<io_core> core, io::unique_handle pipe,
                                 std::string name, bool server_side, framed_options opts,
                                 caf::actor handler);

} // namespace iocaf
