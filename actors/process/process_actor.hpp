#pragma once
// The process actor: one child process, its stdio pipes and its exit wait.
//
//   auto p = spawn_process(sys, rt.core(), opts);   // caf::expected<caf::actor>
//
// To the handler it sends process_started (once its reads of the child's
// outputs are in flight), then process_output (stdout and
// stderr, chunks or lines) and last process_exited, after both outputs hit
// end-of-file (or output_bound after the exit, if a grandchild holds them;
// a child it terminated: once the child exited and its pipes are empty).
// It accepts process_input (as a request: the answer is the byte count once
// written) and close_stdin_atom. An exit message (link, supervisor, runtime
// shutdown) or stop_atom stops it gently: stdin is closed, the child gets
// `grace` to leave, then TerminateProcess; then the cancel protocol.
//
// It quits with exit_reason::normal when the child exited with code 0 on its
// own, with a process_exit error naming the program and code otherwise (an
// errc::win32 error if the exit code could not be read), and with the stop
// reason when it was stopped.
#include "actors/core/io_actor.hpp"
#include "io/process.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace iocaf {

using close_stdin_atom = caf::atom_constant<caf::atom("close_in")>;

enum class std_stream : std::uint8_t { out = 1, err = 2 };

struct process_started {
  std::uint32_t pid = 0;
  std::string program;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, process_started& x) {
  return f(caf::meta::type_name("process_started"), x.pid, x.program);
}

struct process_output {
  std::uint32_t pid = 0;
  std_stream stream = std_stream::out;
  std::string data; // a chunk, or one line without its "\n" / "\r\n" in line mode
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, process_output& x) {
  auto s = static_cast<std::uint8_t>(x.stream);
  return f(caf::meta::type_name("process_output"), x.pid, s, x.data);
}

struct process_exited {
  std::uint32_t pid = 0;
  std::uint32_t exit_code = 0;  // meaningless if exit_error is set
  std::string exit_error;       // the exit code could not be read: the Win32 call, code and text
  bool terminated = false;      // we ended it with TerminateProcess
  bool output_complete = true;  // both outputs read to their end-of-file (terminated: until empty after the exit)
  std::uint64_t stdout_bytes = 0;
  std::uint64_t stderr_bytes = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, process_exited& x) {
  return f(caf::meta::type_name("process_exited"), x.pid, x.exit_code, x.exit_error, x.terminated,
           x.output_complete, x.stdout_bytes, x.stderr_bytes);
}

// Bytes for the child's stdin. Send it as a request: the answer (the byte
// count) comes once the bytes are written, an error if stdin is closed.
struct process_input {
  std::string data;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, process_input& x) {
  return f(caf::meta::type_name("process_input"), x.data);
}

struct process_actor_options {
  io::process_options spawn;
  caf::actor handler;                          // gets the messages above; may be empty
  bool lines = false;                          // deliver output line by line
  std::size_t read_size = 64 * 1024;           // bytes per ReadFile
  std::size_t max_line = 1024 * 1024;          // a longer "line" is delivered in pieces
  std::chrono::milliseconds grace{2000};       // stop: stdin closed, then this long before TerminateProcess
  std::chrono::milliseconds output_bound{2000};// after the exit: how long to wait for output EOF
};

// The exit reasons a process actor leaves with, other than normal and stop reasons.
constexpr caf::atom_value process_error_category = caf::atom("process");
enum class process_errc : std::uint8_t { exited = 1, start_failed = 2 };
// "program \"x\" (pid 7) exited with code 3221225477 (0xC0000005)"
caf::error make_exit_error(const std::string& program, std::uint32_t pid, std::uint32_t code);
// The child's exit code in a process_errc::exited reason, if it is one.
bool exit_code_of(const caf::error& reason, std::uint32_t& code);
// Registers the category's rendering (optional; describe() works without).
void configure_process_errors(caf::actor_system_config& cfg);

// Starts the child now (in the calling thread) and an actor that owns it.
// A program that cannot start gives an error naming it and the Win32 reason.
caf::expected<caf::actor> spawn_process(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                        process_actor_options opts);

} // namespace iocaf

