// bench_process: child processes through iocaf's process actor versus raw
// Win32 in the same run.
//   1. spawn-and-wait rate, sequential and 8 in flight:
//        raw      CreateProcessW (no redirection) + WaitForSingleObject / WaitForMultipleObjects
//        helper   io::start_process (3 overlapped pipes, own Job) + WaitForSingleObject
//        +EOF     the same, then each output pipe read to its end, as the actor
//                 does before it reports an exit (under Wine a child's pipes
//                 close well after its process handle is signalled)
//        actor    spawn_process + process_exited + DOWN (pipes, job, exit wait through the port)
//   2. teardown latency: K sleeping children stopped at once (grace 0), until
//      every actor is DOWN (each with 2 pending reads and an exit wait), versus
//      raw TerminateProcess + WaitForSingleObject of K processes, and versus
//      the same with the actor's pipes read to their end (+EOF); p50 of rounds.
//      The floor: an io actor with nothing pending, exit to DOWN (the
//      hand-overs every actor row pays and the raw rows do not).
//   3. an io actor with 64 pending operations (reads; reads and waits), from
//      the exit message to DOWN, versus the same cancellations by hand.
//   iocaf_bench_process [--n N] [--pending-rounds R] [--teardown-rounds R] [--relaxed-sleep-us US] [--log-level L] (see --help)
// (--relaxed-sleep-us sets CAF's work-stealing.relaxed-sleep-duration, 10 ms
// by default: idle scheduler workers sleep that long between polls.)
#include "actors/process/process_actor.hpp"
#include "actors/core/program.hpp"
#include "actors/core/runtime.hpp"
#include "io/pipe.hpp"
#include "io/process.hpp"
#include "pending_teardown.hpp"
#include "percentile.hpp"

#include <caf/all.hpp>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

using namespace iocaf;
using clock_type = std::chrono::steady_clock;

namespace {

std::string child_exe() {
  return io::exe_directory() + "iocaf_bench_process_child.exe";
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

HANDLE raw_start(const std::string& exe, const char* arg) {
  std::wstring line = L"\"" + io::widen(exe) + L"\" " + io::widen(arg);
  STARTUPINFOW si{};
  si.cb = sizeof(si);
  PROCESS_INFORMATION pi{};
  if (!CreateProcessW(nullptr, line.data(), nullptr, nullptr, FALSE, CREATE_NO_WINDOW, nullptr, nullptr, &si, &pi)) {
    std::fprintf(stderr, "%s\n", io::last_error("CreateProcessW").to_string().c_str());
    std::exit(1);
  }
  CloseHandle(pi.hThread);
  return pi.hProcess;
}

// Children per second, keeping `depth` in flight.
double raw_rate(const std::string& exe, int n, int depth) {
  auto t0 = clock_type::now();
  std::vector<HANDLE> live;
  int started = 0;
  while (started < n || !live.empty()) {
    while (started < n && static_cast<int>(live.size()) < depth) {
      live.push_back(raw_start(exe, "exit"));
      ++started;
    }
    DWORD r = WaitForMultipleObjects(static_cast<DWORD>(live.size()), live.data(), FALSE, 60000);
    if (r >= WAIT_OBJECT_0 + live.size()) {
      std::fprintf(stderr, "raw wait failed\n");
      std::exit(1);
    }
    CloseHandle(live[r - WAIT_OBJECT_0]);
    live.erase(live.begin() + (r - WAIT_OBJECT_0));
  }
  return n / seconds_since(t0);
}

// Reads an overlapped pipe until its writer is gone. `stuck` when no end came
// within 30 s: under Wine a headless conhost.exe, which inherits the child's
// pipes, sometimes outlives a killed child for longer than that (seen in the
// 8-children hidden-console teardown row, once for 13 minutes before this
// bound). `failed` (with a message) on any other error.
enum class read_end { ended, stuck, failed };

read_end read_to_end(HANDLE h) {
  io::unique_handle ev{CreateEventW(nullptr, TRUE, FALSE, nullptr)};
  if (!ev) {
    std::fprintf(stderr, "%s\n", io::last_error("CreateEventW").to_string().c_str());
    return read_end::failed;
  }
  auto ended = [](const io::error& e) {
    if (e.code() == ERROR_BROKEN_PIPE || e.code() == ERROR_HANDLE_EOF)
      return read_end::ended;
    std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return read_end::failed;
  };
  char buf[4096];
  for (;;) {
    OVERLAPPED ov{};
    ov.hEvent = ev.get();
    DWORD got = 0;
    if (!ReadFile(h, buf, sizeof(buf), nullptr, &ov) && GetLastError() != ERROR_IO_PENDING)
      return ended(io::last_error("ReadFile"));
    if (WaitForSingleObject(ev.get(), 30000) == WAIT_TIMEOUT) {
      CancelIoEx(h, &ov);
      GetOverlappedResult(h, &ov, &got, TRUE); // the read is ours until it completes
      return read_end::stuck;
    }
    if (!GetOverlappedResult(h, &ov, &got, TRUE))
      return ended(io::last_error("GetOverlappedResult"));
  }
}

// Both outputs of a child to their end: `stuck` if either was.
read_end outputs_to_end(io::child_process& c) {
  for (HANDLE h : {c.stdout_r.get(), c.stderr_r.get()})
    if (auto r = read_to_end(h); r != read_end::ended)
      return r;
  return read_end::ended;
}

double helper_rate(const std::string& exe, int n, int depth, bool to_eof, io::console_mode console) {
  io::process_options o;
  o.program = exe;
  o.args = {"exit"};
  o.console = console;
  auto t0 = clock_type::now();
  std::vector<io::child_process> live;
  int started = 0;
  while (started < n || !live.empty()) {
    while (started < n && static_cast<int>(live.size()) < depth) {
      auto c = io::start_process(o);
      for (int attempt = 0; !c && attempt < 3; ++attempt) {
        std::fprintf(stderr, "(start failed, retried: %s)\n", c.err().to_string().c_str());
        c = io::start_process(o);
      }
      if (!c) {
        std::fprintf(stderr, "%s\n", c.err().to_string().c_str());
        std::exit(1);
      }
      live.push_back(std::move(*c));
      ++started;
    }
    std::vector<HANDLE> hs;
    for (auto& c : live)
      hs.push_back(c.process.get());
    DWORD r = WaitForMultipleObjects(static_cast<DWORD>(hs.size()), hs.data(), FALSE, 60000);
    if (r >= WAIT_OBJECT_0 + hs.size()) {
      std::fprintf(stderr, "helper wait failed\n");
      std::exit(1);
    }
    auto& c = live[r - WAIT_OBJECT_0];
    if (to_eof && outputs_to_end(c) != read_end::ended) {
      std::fprintf(stderr, "a child's output did not end (30 s) or could not be read\n");
      std::exit(1);
    }
    live.erase(live.begin() + (r - WAIT_OBJECT_0));
  }
  return n / seconds_since(t0);
}

double actor_rate(caf::actor_system& sys, runtime& rt, const std::string& exe, int n, int depth,
                  io::console_mode console) {
  caf::scoped_actor self{sys};
  process_actor_options o;
  o.spawn.program = exe;
  o.spawn.args = {"exit"};
  o.spawn.console = console;
  auto t0 = clock_type::now();
  int started = 0, done = 0;
  auto spawn_one = [&] {
    auto p = spawn_process(sys, rt.core(), o);
    for (int attempt = 0; !p && attempt < 3; ++attempt) {
      std::fprintf(stderr, "(start failed, retried: %s)\n", describe(p.error()).c_str());
      p = spawn_process(sys, rt.core(), o);
    }
    if (!p) {
      std::fprintf(stderr, "%s\n", describe(p.error()).c_str());
      std::exit(1);
    }
    self->monitor(*p);
    ++started;
  };
  while (started < depth && started < n)
    spawn_one();
  while (done < n) {
    self->receive(
      [&](caf::down_msg&) {
        ++done;
        if (started < n)
          spawn_one();
      },
      caf::after(std::chrono::seconds(60)) >> [] {
        std::fprintf(stderr, "actor run stuck\n");
        std::exit(1);
      });
  }
  return n / seconds_since(t0);
}

// Milliseconds from "stop" to every child gone.
double raw_teardown(const std::string& exe, int k) {
  std::vector<HANDLE> live;
  for (int i = 0; i < k; ++i)
    live.push_back(raw_start(exe, "sleep"));
  Sleep(200);
  auto t0 = clock_type::now();
  for (auto h : live)
    TerminateProcess(h, 1);
  for (auto h : live) {
    WaitForSingleObject(h, 60000);
    CloseHandle(h);
  }
  return seconds_since(t0) * 1000;
}

// The same with the actor's pipes and job (io::start_process), each output
// read to its end after the exit, as the actor does before it reports. No
// figure (the children's handles and jobs are closed) when an
// output did not end within 30 s.
std::optional<double> eof_teardown(const std::string& exe, int k, io::console_mode console) {
  io::process_options o;
  o.program = exe;
  o.args = {"sleep"};
  o.console = console;
  std::vector<io::child_process> live;
  for (int i = 0; i < k; ++i) {
    auto c = io::start_process(o);
    if (!c) {
      std::fprintf(stderr, "%s\n", c.err().to_string().c_str());
      std::exit(1);
    }
    live.push_back(std::move(*c));
  }
  Sleep(200);
  auto t0 = clock_type::now();
  for (auto& c : live)
    TerminateProcess(c.process.get(), 1);
  for (auto& c : live) {
    WaitForSingleObject(c.process.get(), 60000);
    switch (outputs_to_end(c)) {
      case read_end::ended:
        break;
      case read_end::stuck:
        return std::nullopt;
      case read_end::failed:
        std::exit(1);
    }
  }
  return seconds_since(t0) * 1000;
}

double actor_teardown(caf::actor_system& sys, runtime& rt, const std::string& exe, int k,
                      io::console_mode console) {
  caf::scoped_actor self{sys};
  process_actor_options o;
  o.spawn.program = exe;
  o.spawn.args = {"sleep"};
  o.spawn.console = console;
  o.grace = std::chrono::milliseconds(0);
  std::vector<caf::actor> live;
  for (int i = 0; i < k; ++i) {
    auto p = spawn_process(sys, rt.core(), o);
    if (!p) {
      std::fprintf(stderr, "%s\n", describe(p.error()).c_str());
      std::exit(1);
    }
    self->monitor(*p);
    live.push_back(*p);
  }
  Sleep(200);
  auto t0 = clock_type::now();
  for (auto& a : live)
    self->send_exit(a, caf::exit_reason::user_shutdown);
  for (int i = 0; i < k; ++i)
    self->receive([](caf::down_msg&) {}, caf::after(std::chrono::seconds(60)) >> [] {
      std::fprintf(stderr, "teardown stuck\n");
      std::exit(1);
    });
  return seconds_since(t0) * 1000;
}

// The same from the exit message to DOWN for an io actor with nothing
// pending, after the same idle: the messaging floor under the actor column
// (a worker woken for the exit, DOWN handed to this thread).
double actor_floor(caf::actor_system& sys, runtime& rt) {
  caf::scoped_actor self{sys};
  auto h = sys.spawn(bench::holder, rt.core(), 0, 0, caf::actor{self});
  self->monitor(h);
  self->receive([](bench::held_atom) {}, caf::after(std::chrono::seconds(30)) >> [] {
    std::fprintf(stderr, "floor: holder not ready\n");
    std::exit(1);
  });
  Sleep(200);
  auto t0 = clock_type::now();
  self->send_exit(h, caf::exit_reason::user_shutdown);
  self->receive([](caf::down_msg&) {}, caf::after(std::chrono::seconds(30)) >> [] {
    std::fprintf(stderr, "floor: no DOWN\n");
    std::exit(1);
  });
  return seconds_since(t0) * 1000;
}

} // namespace

int main(int argc, char** argv) {
  int n = 100;
  int pending_rounds = 200;
  int teardown_rounds = 15;
  std::int64_t relaxed_us = -1;
  std::string only;
  program_config cfg{"iocaf_bench_process",
                     "Processes: spawn-and-wait and teardown through process actors against raw CreateProcess,\n"
                     "in one run; prints rates and ratios."};
  cfg.log_level = "warn";
  cfg.option(n, "n", "children per spawn-and-wait cell")
    .option(pending_rounds, "pending-rounds", "actors with 64 pending operations torn down, per row")
    .option(teardown_rounds, "teardown-rounds", "rounds of the 1-child teardown row (8: a third, 32: a fifth)")
    .option(relaxed_us, "relaxed-sleep-us", "CAF's work-stealing.relaxed-sleep-duration in us, -1: CAF's default")
    .option(only, "only", "one table: spawn, teardown or pending (default: all three)");
  if (auto rc = cfg.parse(argc, argv))
    return *rc;
  if (n < 1)
    return cfg.usage_error("--n must be at least 1");
  if (pending_rounds < 1)
    return cfg.usage_error("--pending-rounds must be at least 1");
  if (teardown_rounds < 1)
    return cfg.usage_error("--teardown-rounds must be at least 1");
  if (!only.empty() && only != "spawn" && only != "teardown" && only != "pending")
    return cfg.usage_error("--only must be spawn, teardown or pending, not \"" + only + "\"");
  auto runs = [&](const char* table) { return only.empty() || only == table; };
  configure(cfg);
  if (relaxed_us >= 0) {
    cfg.set("work-stealing.relaxed-sleep-duration", caf::timespan{std::chrono::microseconds(relaxed_us)});
    std::printf("CAF work-stealing.relaxed-sleep-duration = %lld us\n", static_cast<long long>(relaxed_us));
  }
  caf::actor_system sys{cfg};
  runtime rt{sys, cfg.runtime_options()}; // --actors-on, --broker-batch, ... apply
  auto exe = child_exe();

  // Both console modes (io::console_mode): hidden is the default; under
  // Wine its conhost.exe holds the child's output pipes open after the exit.
  const std::pair<io::console_mode, const char*> consoles[] = {{io::console_mode::hidden, "hidden"},
                                                               {io::console_mode::none, "none"}};
  if (runs("spawn")) {
    std::printf("spawn-and-wait, %d children each (children per second; ratio = actor / raw;\n"
                "console: io::console_mode of helper, +EOF and actor; raw shares this program's console)\n", n);
    std::printf("%-10s %-8s %9s %9s %9s %9s %10s %11s\n", "in flight", "console", "raw", "helper", "+EOF", "actor",
                "actor/raw", "actor/+EOF");
    for (int depth : {1, 8})
      for (auto [console, name] : consoles) {
        double raw = raw_rate(exe, n, depth);
        double helper = helper_rate(exe, n, depth, false, console);
        double to_eof = helper_rate(exe, n, depth, true, console);
        double actor = actor_rate(sys, rt, exe, n, depth, console);
        std::printf("%-10d %-8s %9.1f %9.1f %9.1f %9.1f %10.2f %11.2f\n", depth, name, raw, helper, to_eof, actor,
                    actor / raw, actor / to_eof);
      }
  }
  if (runs("teardown")) {
    std::printf("\nteardown of K sleeping children (ms until all gone, p50 of R rounds, the three interleaved;\n"
                "raw: TerminateProcess + wait; +EOF: with the actor's pipes and job, outputs read to their end;\n"
                "actor: grace 0, 2 reads + 1 exit wait each, until DOWN)\n");
    std::printf("%-6s %-8s %4s %9s %9s %9s %10s %11s\n", "K", "console", "R", "raw", "+EOF", "actor", "actor/raw",
                "actor/+EOF");
    std::vector<double> floor; // interleaved with the 1-child rounds
    for (auto [k, rounds] : {std::pair{1, teardown_rounds}, std::pair{8, std::max(1, teardown_rounds / 3)},
                             std::pair{32, std::max(1, teardown_rounds / 5)}})
      for (auto [console, name] : consoles) {
        std::vector<double> raw, eof, actor;
        int stuck = 0;
        for (int r = 0; r < rounds; ++r) {
          raw.push_back(raw_teardown(exe, k));
          if (auto ms = eof_teardown(exe, k, console))
            eof.push_back(*ms);
          else
            ++stuck;
          actor.push_back(actor_teardown(sys, rt, exe, k, console));
          if (k == 1)
            floor.push_back(actor_floor(sys, rt));
        }
        double raw50 = bench::percentile(raw, 0.5), actor50 = bench::percentile(actor, 0.5);
        std::printf("%-6d %-8s %4d %9.2f ", k, name, rounds, raw50);
        if (eof.empty())
          std::printf("%9s %9.2f %10.2f %11s", "stuck", actor50, actor50 / raw50, "-");
        else
          std::printf("%9.2f %9.2f %10.2f %11.2f", bench::percentile(eof, 0.5), actor50, actor50 / raw50,
                      actor50 / bench::percentile(eof, 0.5));
        if (stuck > 0)
          std::printf("   (+EOF: %d of %d rounds had an output open 30 s after the kill; not counted)", stuck, rounds);
        std::printf("\n");
      }
    std::printf("floor: exit to DOWN of an io actor with nothing pending, after the same idle: p50 %.2f ms"
                " (%zu rounds, beside the 1-child rows)\n",
                bench::percentile(floor, 0.5), floor.size());
  }
  if (runs("pending"))
    bench::print_pending_teardown(sys, rt, pending_rounds);
  auto report = rt.shutdown();
  auto s = rt.core()->stats();
  std::printf("\nbroker: %llu packets, %llu unexpected, %lld in flight, %llu leaked\n",
              static_cast<unsigned long long>(s.packets), static_cast<unsigned long long>(s.unexpected),
              static_cast<long long>(s.inflight), static_cast<unsigned long long>(report.leaked));
  return s.unexpected == 0 ? 0 : 1;
}
