#pragma once
// Helpers shared by the process and supervisor tests: where the helper
// programs are, running one child to its end, the live processes of a job.
#include "actors/process_actor.hpp"
#include "io/pipe.hpp"
#include "support.hpp"

#include <tlhelp32.h>

#include <functional>
#include <string>
#include <vector>

namespace iocaf::test {

// A helper program next to the running test exe (tests and helpers share a folder).
inline std::string helper_program(const std::string& exe) {
  wchar_t path[MAX_PATH];
  DWORD n = GetModuleFileNameW(nullptr, path, MAX_PATH);
  std::wstring dir(path, n);
  dir.erase(dir.find_last_of(L"\\/") + 1);
  return io::narrow(dir) + exe;
}

inline io::process_options child_options(std::vector<std::string> args) {
  io::process_options o;
  o.program = helper_program("proc_child.exe");
  o.args = std::move(args);
  return o;
}

struct run_result {
  bool started = false;
  bool exited = false;
  bool down = false;
  process_exited exit;
  std::string out, err;
  std::vector<std::string> out_lines;
  caf::error reason;
  bool exit_before_down = true;
  bool output_after_exit = false;
};

// Spawns a process actor with `self` as handler, calls `with` once it is up,
// and collects everything until the actor's DOWN (bounded).
inline run_result run_child(caf::scoped_actor& self, runtime& rt, process_actor_options opts,
                            const std::function<void(const caf::actor&)>& with = {},
                            std::chrono::milliseconds within = timeout) {
  run_result r;
  opts.handler = caf::actor{self};
  auto p = spawn_process(rt.system(), rt.core(), std::move(opts));
  if (!p) {
    ADD_FAILURE() << "spawn_process: " << describe(p.error());
    return r;
  }
  self->monitor(*p);
  if (with)
    with(*p);
  auto until = std::chrono::steady_clock::now() + within;
  while (!r.down) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    bool timed_out = false;
    self->receive(
      [&](process_started&) { r.started = true; },
      [&](process_output& o) {
        if (r.exited)
          r.output_after_exit = true;
        if (o.stream == std_stream::out) {
          r.out += o.data;
          r.out_lines.push_back(o.data);
        } else {
          r.err += o.data;
        }
      },
      [&](process_exited& e) {
        r.exited = true;
        r.exit = e;
      },
      [&](caf::down_msg& dm) {
        if (dm.source != p->address())
          return;
        r.down = true;
        r.reason = dm.reason;
        r.exit_before_down = r.exited;
      },
      [&](std::uint64_t) {}, // answers to process_input requests
      caf::after(left.count() > 0 ? left : std::chrono::milliseconds(0)) >> [&] { timed_out = true; });
    if (timed_out) {
      ADD_FAILURE() << "timed out waiting for the process actor";
      self->send_exit(*p, caf::exit_reason::kill);
      break;
    }
  }
  return r;
}

// Processes whose parent is this process and whose exe is `exe` (the process list).
inline std::size_t live_children_named(const std::wstring& exe) {
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snap == INVALID_HANDLE_VALUE)
    return 0;
  std::size_t n = 0;
  PROCESSENTRY32W e{};
  e.dwSize = sizeof(e);
  for (BOOL ok = Process32FirstW(snap, &e); ok; ok = Process32NextW(snap, &e))
    if (e.th32ParentProcessID == GetCurrentProcessId() && _wcsicmp(e.szExeFile, exe.c_str()) == 0)
      ++n;
  CloseHandle(snap);
  return n;
}

} // namespace iocaf::test
