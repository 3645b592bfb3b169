#pragma once
// A named-pipe server: \\.\pipe\NAME served by an io actor that keeps
// several instances waiting in overlapped ConnectNamedPipe, so a burst of
// clients never sees "all pipe instances are busy". Every accepted client
// becomes a pipe connection actor (actors/pipe/pipe_connection.hpp) whose
// handler is the listener's connection_handler (one actor for all, or a fresh
// one per connection): it first receives frame_opened from it. A client
// that opens an instance and leaves before its connect completed costs
// nothing: the instance is disconnected and waits again at once.
//
//   anyone -> listener   close_atom   stop accepting (connections live on)
//                        stats_atom   request; answers pipe_listener_stats
#include "actors/pipe/pipe_connection.hpp"
#include "actors/stream/connection_handler.hpp"

#include <caf/all.hpp>

#include <functional>

namespace iocaf {

struct pipe_listener_options {
  std::string name;                 // serves \\.\pipe\<name>
  std::size_t instances = 4;        // instances waiting for clients at any time (>= 1)
  bool current_user_only = true;    // DACL: only the current user (and SYSTEM) may connect
  DWORD buffer_size = 64 * 1024;    // the kernel's in/out buffer sizes per instance
  framed_options connection;
  // Test hook: runs in the spawning thread after the instances exist and
  // before any ConnectNamedPipe was issued.
  std::function<void()> on_instances_created;
};

struct pipe_listener_stats {
  std::uint64_t accepted = 0;          // connection actors spawned
  std::uint64_t connected_inline = 0;  // of those, ConnectNamedPipe said ERROR_PIPE_CONNECTED
  std::uint64_t left_early = 0;        // clients that left before their connect completed (ERROR_NO_DATA): re-armed
  std::uint64_t failures = 0;          // instances that failed and were replaced
  std::uint64_t waiting = 0;           // instances waiting for a client now
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pipe_listener_stats& x) {
  return f(caf::meta::type_name("pipe_listener_stats"), x.accepted, x.connected_inline, x.left_early, x.failures,
           x.waiting);
}

struct pipe_listener {
  caf::actor actor;  // send close_atom (or an exit) to stop accepting
  std::string local; // the pipe's name, as in frame_opened::local
};

// Creates the instances (the first with FILE_FLAG_FIRST_PIPE_INSTANCE) in the
// calling thread and spawns the listener. Errors: errc::bad_input (no name,
// no instance, no handler), errc::in_use (another server already serves the
// name), errc::win32 for other failures.
caf::expected<pipe_listener> spawn_pipe_listener(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                                 pipe_listener_options opts, connection_handler handler);

} // namespace iocaf
