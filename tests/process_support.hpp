#pragma once
// Helpers shared by the process and supervisor tests: where the helper
// programs are, running one child to its end, the live processes of a job.
#include "actors/process/process_actor.hpp"
#include "io/pipe.hpp"
#include "support.hpp"

#include <tlhelp32.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace iocaf::test {

// A helper program next to the running test exe (tests and helpers share a folder).
inline std::string helper_program(const std::string& exe) {
  return io::exe_directory() + exe;
}

inline io::process_options child_options(std::vector<std::string> args) {
  io::process_options o;
  o.program = helper_program("proc_child.exe");
  o.args = std::move(args);
  return o;
}

// Wine 8's CreateProcessW fails now and then with ERROR_INTERNAL_ERROR
// (1359): ntdll's NtCreateUserProcess returns STATUS_INTERNAL_ERROR when the
// new process ended in its start-up without reporting success or an exit
// code. Seen about once in a few thousand starts, and no more often late in a
// long run than early (see the wait race soak), so nothing of ours
// accumulates. Tests retry such a start, count each retry, report the count
// and fail past start_retry_budget().
constexpr unsigned long wine_start_glitch = ERROR_INTERNAL_ERROR;
constexpr int max_retries_per_start = 3;
inline int start_retry_budget(int starts) {
  return 3 + starts / 100;
}

// spawn_process, retried on the Wine start-up failure above (the Win32 code
// is only in the error's text: "CreateProcessW(...) failed: 1359 (...)").
inline caf::expected<caf::actor> spawn_process_retrying(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                                        const process_actor_options& opts, int& retries) {
  auto p = spawn_process(sys, core, opts);
  for (int attempt = 0; !p && attempt < max_retries_per_start; ++attempt) {
    auto text = describe(p.error());
    if (text.find("CreateProcessW") == std::string::npos ||
        text.find("failed: " + std::to_string(wine_start_glitch) + " (") == std::string::npos)
      break;
    std::printf("[ info ] start failed, retrying: %s\n", text.c_str());
    ++retries;
    p = spawn_process(sys, core, opts);
  }
  return p;
}

// io::start_process, retried on the same Wine start-up failure.
inline io::result<io::child_process> start_process_retrying(const io::process_options& opts, int& retries) {
  auto c = io::start_process(opts);
  for (int attempt = 0; !c && c.err().code() == wine_start_glitch && attempt < max_retries_per_start; ++attempt) {
    std::printf("[ info ] start failed, retrying: %s\n", c.err().to_string().c_str());
    ++retries;
    c = io::start_process(opts);
  }
  return c;
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

// The handles open in this process, by object type ("Process", "Job",
// "File", "Event", ...), from the system's handle table
// (SystemExtendedHandleInformation) and NtQueryObject. Not
// GetProcessHandleCount: under Wine 8 it succeeds and reports 0. A handle
// closed between the two queries is counted as "?". On a failed query the
// test fails and the map is empty.
inline std::map<std::wstring, long> handles_by_type() {
  struct entry {
    void* object;
    ULONG_PTR pid;
    ULONG_PTR handle;
    ULONG access;
    USHORT creator_back_trace;
    USHORT type_index;
    ULONG attributes;
    ULONG reserved;
  };
  struct table {
    ULONG_PTR count;
    ULONG_PTR reserved;
    entry handles[1];
  };
  struct type_name { // the head of OBJECT_TYPE_INFORMATION: a UNICODE_STRING
    USHORT length;
    USHORT maximum_length;
    wchar_t* buffer;
  };
  using query_system_fn = LONG(NTAPI*)(ULONG, void*, ULONG, ULONG*);
  using query_object_fn = LONG(NTAPI*)(HANDLE, ULONG, void*, ULONG, ULONG*);
  constexpr ULONG system_extended_handle_information = 64;
  constexpr ULONG object_type_information = 2;
  constexpr LONG status_info_length_mismatch = static_cast<LONG>(0xC0000004);
  std::map<std::wstring, long> out;
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  auto query_system = reinterpret_cast<query_system_fn>(
    reinterpret_cast<void*>(GetProcAddress(ntdll, "NtQuerySystemInformation")));
  auto query_object =
    reinterpret_cast<query_object_fn>(reinterpret_cast<void*>(GetProcAddress(ntdll, "NtQueryObject")));
  if (query_system == nullptr || query_object == nullptr) {
    ADD_FAILURE() << io::last_error("GetProcAddress(ntdll)").to_string();
    return out;
  }
  std::vector<char> buf(1 << 16);
  LONG status = 0;
  for (;;) {
    ULONG needed = 0;
    status = query_system(system_extended_handle_information, buf.data(), static_cast<ULONG>(buf.size()), &needed);
    if (status != status_info_length_mismatch)
      break;
    buf.resize(std::max<std::size_t>(buf.size() * 2, needed + 4096));
  }
  if (status != 0) {
    ADD_FAILURE() << "NtQuerySystemInformation(SystemExtendedHandleInformation) failed: NTSTATUS 0x" << std::hex
                  << static_cast<unsigned long>(status);
    return out;
  }
  auto* t = reinterpret_cast<const table*>(buf.data());
  for (ULONG_PTR i = 0; i < t->count; ++i) {
    if (t->handles[i].pid != GetCurrentProcessId())
      continue;
    alignas(8) char info[1024] = {};
    ULONG n = 0;
    auto h = reinterpret_cast<HANDLE>(t->handles[i].handle);
    if (query_object(h, object_type_information, info, sizeof(info), &n) != 0) {
      ++out[L"?"];
      continue;
    }
    auto* name = reinterpret_cast<const type_name*>(info);
    ++out[std::wstring(name->buffer, name->length / sizeof(wchar_t))];
  }
  return out;
}

inline std::string to_string(const std::map<std::wstring, long>& counts) {
  std::string s;
  for (auto& kv : counts)
    s += (s.empty() ? "" : " ") + io::narrow(kv.first) + "=" + std::to_string(kv.second);
  return s;
}

} // namespace iocaf::test
