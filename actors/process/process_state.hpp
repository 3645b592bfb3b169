#pragma once
// Internal to actors/process: the process actor's state, shared by
// process_actor.cpp (lifecycle: exit wait, stop, grace, report) and
// process_stdio.cpp (the child's stdout/stderr reads and stdin writes).
#include "actors/process/process_actor.hpp"

#include "io/log.hpp"

#include <caf/send.hpp>

#include <deque>
#include <optional>

namespace iocaf::process_detail {

// Timers the actor sends itself (anonymously: a timer that lands while the
// actor drains must not bounce an error reply back at it).
using grace_atom = caf::atom_constant<caf::atom("grace_end")>;
using output_bound_atom = caf::atom_constant<caf::atom("out_bound")>;
using kill_bound_atom = caf::atom_constant<caf::atom("kill_bound")>;

// After TerminateProcess, how long the exit wait may take before we give up on it.
constexpr auto kill_bound = std::chrono::seconds(5);
constexpr UINT terminate_exit_code = 1;

struct stream_reader {
  explicit stream_reader(std_stream w) : which(w) {}
  std_stream which;
  HANDLE handle = nullptr;
  io::operation_ptr op;
  bool open = false;   // not at end-of-file yet (a read is in flight)
  std::string partial; // line mode: the unterminated tail
  std::uint64_t bytes = 0;
};

struct pending_write {
  std::string data;
  caf::response_promise promise; // invalid for plain sends
};

// The child's lifecycle as this actor sees it.
enum class child_phase : std::uint8_t {
  running,  // started, no stop asked
  stopping, // stop asked: stdin closed, TerminateProcess after the grace
  exited,   // its exit wait fired (or the kill bound passed): the outputs drain, bounded
  reported, // process_exited sent: the cancel protocol runs
};

struct process_state {
  // The handles, declared before ops: closed after it, however the actor
  // ends. Even killed with its exit wait still unregistering, the process
  // handle may close: the wait waits on its own duplicate of it
  // (io::wait_registration::arm). Closing the job kills the child.
  io::child_process child;
  owned_operations ops;
  process_actor_options opts;
  std::shared_ptr<spdlog::logger> log;
  stream_reader out{std_stream::out};
  stream_reader err{std_stream::err};
  std::deque<pending_write> writes;
  io::operation_ptr write_op;
  io::operation_ptr move_op; // owned_operations::move_to_broker: the first reads start after it
  bool writing = false;
  bool close_stdin_wanted = false;
  child_phase phase = child_phase::running;
  std::uint32_t exit_code = 0;
  caf::error exit_error; // the exit code could not be read
  bool terminated = false;               // we called TerminateProcess
  std::optional<caf::error> stop_reason; // set when a stop was asked (it may come after the exit)
};

using process_self = caf::stateful_actor<process_state>*;

inline bool has_exited(const process_state& st) {
  return st.phase == child_phase::exited || st.phase == child_phase::reported;
}

inline std::uint32_t pid_of(process_self self) {
  return static_cast<std::uint32_t>(self->state.child.pid);
}

inline void send_handler(process_self self, caf::message msg) {
  if (self->state.opts.handler)
    self->send(self->state.opts.handler, std::move(msg));
}

// process_stdio.cpp
void deliver_output(process_self self, stream_reader& s, const char* data, std::size_t n);
void flush_partial(process_self self, stream_reader& s);
void start_read(process_self self, stream_reader& s);
void start_reads(process_self self); // each stream still open
void on_read(process_self self, stream_reader& s, const owned_operations::completion& c);
// A child we terminated has exited: cancels the reads of its empty outputs.
// True when every output still open is ending so (no EOF to wait for).
bool end_drained_outputs(process_self self);
void fail_write(pending_write& w, caf::error err);
void pump_writes(process_self self);
void on_write(process_self self, const owned_operations::completion& c);
void close_stdin(process_self self, bool abandon_writes);

// process_actor.cpp
void maybe_report(process_self self, bool force);

} // namespace iocaf::process_detail
