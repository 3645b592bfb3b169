#pragma once
// The client end of a named pipe: an asynchronous connect with a timeout.
// CreateFileW on a pipe never blocks; while every server instance is busy
// (ERROR_PIPE_BUSY) the connector retries on a timer instead of blocking in
// WaitNamedPipe. The result is a pipe connection actor
// (actors/pipe/pipe_connection.hpp), the same type as on the server side: the
// handler then receives frame_opened from it, first. A failed connect is the
// connection's close, as for TCP: the handler receives frame_closed from the
// connector (the actor spawn_pipe_connect returned) with the error:
//   errc::not_found  no server serves the name
//   errc::timeout    every instance stayed busy until the timeout
//   errc::win32      another failure
#include "actors/pipe/pipe_connection.hpp"

#include <caf/all.hpp>

#include <chrono>

namespace iocaf {

struct pipe_connect_options {
  std::string name;                                // connects to \\.\pipe\<name>
  std::chrono::milliseconds timeout{5000};         // bound on retrying while the server is busy
  std::chrono::milliseconds retry_interval{10};    // pause between attempts while busy
  framed_options connection;
};

// Spawns the connector; it quits once it has handed over or failed. An empty
// name or no handler is errc::bad_input right here (nothing is spawned).
caf::expected<caf::actor> spawn_pipe_connect(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                             pipe_connect_options opts, caf::actor handler);

} // namespace iocaf
