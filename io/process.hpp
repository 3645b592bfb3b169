#pragma once
// Child processes: CreateProcessW with overlapped stdio pipes, inside a Job
// object that kills them when it is closed. No actors here.
//
// Why named pipes: anonymous pipes cannot be overlapped, so each redirected
// stream is a uniquely named pipe whose parent end is overlapped (for the
// completion port) and whose child end is a plain, inheritable handle.
// Only the child ends are inherited (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), so
// children started concurrently never hold each other's pipes open.
#include "io/error.hpp"
#include "io/handle.hpp"

#include <string>
#include <utility>
#include <vector>

namespace iocaf::io {

// What a child's standard stream is connected to.
enum class stdio_mode { pipe, null };

// The child's console (a console program always has one unless detached).
//   hidden: a console of its own without a window (CREATE_NO_WINDOW); the
//           console programs it starts share it, and no window opens.
//   none:   no console (DETACHED_PROCESS). Under Wine no conhost.exe is
//           started for the child; the one Wine starts for `hidden` inherits
//           the child's stdio pipes and keeps its outputs open 35-56 ms after
//           it exits (measured; docs/design.md). On Windows a console program
//           such a child starts opens a console window of its own.
enum class console_mode { hidden, none };

struct process_options {
  std::string program;                 // path or bare name (searched like CreateProcessW does), UTF-8
  std::vector<std::string> args;       // arguments after argv[0], UTF-8, quoted for the child
  std::string working_dir;             // empty: the parent's
  bool inherit_env = true;             // start from the parent's environment
  std::vector<std::pair<std::string, std::string>> env; // set on top (names compare case-insensitively)
  stdio_mode in = stdio_mode::pipe;
  stdio_mode out = stdio_mode::pipe;
  stdio_mode err = stdio_mode::pipe;
  DWORD pipe_buffer = 64 * 1024;
  console_mode console = console_mode::hidden;
  // A job to put the child in (not owned). Null: a new job of its own with
  // JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE.
  HANDLE job = nullptr;
};

// A started child. Closing `job` (when owned) kills it and whatever it started.
struct child_process {
  unique_handle process;
  unique_handle job;     // the child's own job (empty if options.job was given)
  DWORD pid = 0;
  unique_handle stdin_w; // parent ends, overlapped; empty unless stdio_mode::pipe
  unique_handle stdout_r;
  unique_handle stderr_r;
};

// One argument quoted so CommandLineToArgvW and the MSVCRT parse it back
// unchanged (spaces, tabs, quotes, backslashes before quotes and at the end).
std::wstring quote_argument(const std::wstring& arg);
// argv[0] (the program, quoted; it may not contain '"') plus the quoted arguments.
result<std::wstring> build_command_line(const std::string& program, const std::vector<std::string>& args);

// A job object whose closing kills every process in it.
result<unique_handle> create_kill_on_close_job();
// Processes currently in a job (JobObjectBasicAccountingInformation).
result<DWORD> job_active_processes(HANDLE job);

// A uniquely named pipe pair: the parent end overlapped, the child end
// synchronous and inheritable. parent_reads: the child writes (stdout/stderr).
struct stdio_pipe {
  unique_handle parent;
  unique_handle child;
};
result<stdio_pipe> create_stdio_pipe(bool parent_reads, DWORD buffer_size);

// Starts the child suspended, puts it in its job, then lets it run.
// Errors name the program: `call` is "CreateProcessW(\"prog\")" and friends.
result<child_process> start_process(const process_options& opts);

// The folder of the running program, with its trailing separator, in UTF-8
// (helper programs live next to the programs that start them).
std::string exe_directory();

// Whether a process is still running (non-blocking).
bool process_running(HANDLE process);

// The exit code of a process (GetExitCodeProcess; STILL_ACTIVE while it runs).
result<DWORD> exit_code(HANDLE process);

} // namespace iocaf::io
