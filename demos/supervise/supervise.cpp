// iocaf supervise: a supervisor over worker processes that crash at random
// with random exit codes. Logs every exit and restart; stops on Ctrl+C, on
// end-of-file on stdin, or after --seconds; leaves no child behind and
// prints a summary.
//
// With --tree: a two-level tree, the workers in a "pool" supervisor next to
// a "singleton" worker under the top one; the tree is printed once started.
//
//   iocaf_supervise [--workers N] [--seconds S] [--strategy one_for_one|one_for_all|rest_for_one]
//                   [--intensity N] [--period-ms MS] [--grace-ms MS] [--no-stdin] [--quiet] [--tree]
#include "actors/process/process_actor.hpp"
#include "actors/core/program.hpp"
#include "actors/supervision/supervisor.hpp"
#include "io/pipe.hpp"

#include <caf/all.hpp>
#include <tlhelp32.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>

using namespace iocaf;

namespace {

struct flags {
  int workers = 3;
  int seconds = 0; // 0: until Ctrl+C or stdin EOF
  std::string strategy = "one_for_one";
  int intensity = 50;
  int period_ms = 10000;
  int grace_ms = 1000;
  bool no_stdin = false;
  bool quiet = false;
  bool tree = false;
};

bool parse_strategy(const std::string& s, restart_strategy& out) {
  if (s == "one_for_one")
    out = restart_strategy::one_for_one;
  else if (s == "one_for_all")
    out = restart_strategy::one_for_all;
  else if (s == "rest_for_one")
    out = restart_strategy::rest_for_one;
  else
    return false;
  return true;
}

// The supervisor's own end also stops the program.
struct supervisor_end {
  std::mutex mtx;
  bool down = false;
  caf::error reason;
};

caf::behavior watch_supervisor(caf::event_based_actor* self, caf::actor sup, std::shared_ptr<supervisor_end> end) {
  self->monitor(sup);
  self->set_down_handler([self, end](caf::down_msg& dm) {
    {
      std::lock_guard<std::mutex> guard{end->mtx};
      end->down = true;
      end->reason = dm.reason;
    }
    request_stop();
    self->quit();
  });
  return {[](stop_atom) {}};
}

std::size_t live_workers() {
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snap == INVALID_HANDLE_VALUE)
    return 0;
  std::size_t n = 0;
  PROCESSENTRY32W e{};
  e.dwSize = sizeof(e);
  for (BOOL ok = Process32FirstW(snap, &e); ok; ok = Process32NextW(snap, &e))
    if (e.th32ParentProcessID == GetCurrentProcessId() && _wcsicmp(e.szExeFile, L"iocaf_supervise_worker.exe") == 0)
      ++n;
  CloseHandle(snap);
  return n;
}

using summary_atom = caf::atom_constant<caf::atom("summary")>;

struct tally {
  std::map<std::string, int> starts;
  std::map<std::string, int> exits;
  std::map<std::uint32_t, int> exit_codes;
  int terminated = 0;
  int killed = 0;
  std::string gave_up;
};

struct logger_state {
  tally t;
};

std::string now_text() {
  SYSTEMTIME st;
  GetLocalTime(&st);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%02u:%02u:%02u.%03u", st.wHour, st.wMinute, st.wSecond, st.wMilliseconds);
  return buf;
}

// Prints a supervisor's children, and theirs (which_child, recursively).
void print_tree(caf::scoped_actor& self, const caf::actor& sup, const std::string& indent) {
  self->request(sup, std::chrono::seconds(10), which_child_atom::value)
    .receive(
      [&](std::vector<child_info>& list) {
        for (auto& c : list) {
          std::printf("%s%s (%s, %s)\n", indent.c_str(), c.id.c_str(), to_string(c.type),
                      c.actor ? ("actor#" + std::to_string(c.actor.id())).c_str() : "not running");
          if (c.type == child_type::supervisor && c.actor)
            print_tree(self, c.actor, indent + "  ");
        }
      },
      [&](caf::error& e) { std::printf("%s(no answer: %s)\n", indent.c_str(), describe(e).c_str()); });
}

// Logs what the supervisor and the workers say, and keeps the tally.
caf::behavior event_logger(caf::stateful_actor<logger_state>* self, bool quiet) {
  return {
    [self](supervisor_event& e) {
      auto& t = self->state.t;
      switch (e.kind) {
        case supervisor_event_kind::started:
          if (t.starts[e.child]++ > 0)
            std::printf("%s restart  %s (start #%d)\n", now_text().c_str(), e.child.c_str(), t.starts[e.child]);
          else
            std::printf("%s start    %s\n", now_text().c_str(), e.child.c_str());
          break;
        case supervisor_event_kind::exited:
          ++t.exits[e.child];
          std::printf("%s exit     %s: %s\n", now_text().c_str(), e.child.c_str(), e.reason.c_str());
          break;
        case supervisor_event_kind::terminated:
          ++t.terminated;
          std::printf("%s stopped  %s\n", now_text().c_str(), e.child.c_str());
          break;
        case supervisor_event_kind::killed:
          ++t.killed;
          std::printf("%s killed   %s (after its shutdown time)\n", now_text().c_str(), e.child.c_str());
          break;
        case supervisor_event_kind::start_failed:
          std::printf("%s FAILED   %s: %s\n", now_text().c_str(), e.child.c_str(), e.reason.c_str());
          break;
        case supervisor_event_kind::ignored:
          std::printf("%s ignored  %s (its start function said ignore)\n", now_text().c_str(), e.child.c_str());
          break;
        case supervisor_event_kind::gave_up:
          t.gave_up = e.reason;
          std::printf("%s GAVE UP  %s\n", now_text().c_str(), e.reason.c_str());
          break;
        case supervisor_event_kind::auto_shutdown:
          std::printf("%s AUTO SHUTDOWN %s\n", now_text().c_str(), e.reason.c_str());
          break;
      }
      std::fflush(stdout);
    },
    [self, quiet](process_output& o) {
      if (!quiet)
        std::printf("%s   [pid %u %s] %s\n", now_text().c_str(), o.pid, o.stream == std_stream::out ? "out" : "err",
                    o.data.c_str());
    },
    [self](process_exited& e) { ++self->state.t.exit_codes[e.exit_code]; },
    [](process_started&) {},
    [self](summary_atom) {
      auto& t = self->state.t;
      std::string out;
      int starts = 0, exits = 0;
      for (auto& kv : t.starts)
        starts += kv.second;
      for (auto& kv : t.exits)
        exits += kv.second;
      out += "starts: " + std::to_string(starts) + " (restarts: " + std::to_string(starts - (int)t.starts.size()) +
             "), exits on their own: " + std::to_string(exits) + ", stopped by the supervisor: " +
             std::to_string(t.terminated) + ", killed: " + std::to_string(t.killed) + "\n";
      out += "exit codes seen:";
      for (auto& kv : t.exit_codes) {
        char buf[48];
        std::snprintf(buf, sizeof(buf), " 0x%X x%d", kv.first, kv.second);
        out += buf;
      }
      out += "\n";
      for (auto& kv : t.starts)
        out += "  " + kv.first + ": " + std::to_string(kv.second) + " starts, " +
               std::to_string(t.exits[kv.first]) + " exits\n";
      if (!t.gave_up.empty())
        out += "supervisor gave up: " + t.gave_up + "\n";
      return out;
    },
  };
}

int run(caf::actor_system& sys, runtime& rt, const flags& f, restart_strategy strategy) {
  auto log = sys.spawn(event_logger, f.quiet);
  // A bare name: CreateProcessW looks in this program's folder first, and
  // messages name the program as a user would.
  std::string worker = "iocaf_supervise_worker.exe";
  supervisor_options so;
  so.flags.strategy = strategy;
  so.flags.intensity = f.intensity;
  so.flags.period = std::chrono::milliseconds(f.period_ms);
  so.observer = log;
  // A worker process named `id` (it prints that name), seeded with `seed`.
  auto worker_spec = [&](std::string id, int seed) {
    child_spec s;
    s.id = id;
    s.restart = restart_type::permanent;
    s.shutdown = std::chrono::milliseconds(f.grace_ms + 2000);
    auto core = rt.core();
    auto grace = std::chrono::milliseconds(f.grace_ms);
    s.start = [=](caf::actor_system& sys) {
      process_actor_options o;
      o.spawn.program = worker;
      o.spawn.args = {id, std::to_string(seed)};
      o.handler = log;
      o.lines = true;
      o.grace = grace;
      return spawn_process(sys, core, o);
    };
    return s;
  };
  for (int i = 1; i <= f.workers; ++i)
    so.children.push_back(worker_spec("worker-" + std::to_string(i), i));
  std::printf("supervising %d workers (%s); stop with Ctrl+C%s%s\n", f.workers, f.strategy.c_str(),
              f.no_stdin ? "" : " or end of stdin",
              f.seconds > 0 ? (", or after " + std::to_string(f.seconds) + " s").c_str() : "");
  std::fflush(stdout);
  if (f.tree) {
    // The workers move into a pool supervisor; a singleton worker sits next to it.
    supervisor_options pool = so;
    so.children = {worker_spec("singleton", 0), supervisor_child("pool", std::move(pool))};
  }
  auto start = std::chrono::steady_clock::now();
  auto sup = spawn_supervisor(sys, so);
  caf::scoped_actor self{sys};
  self->monitor(sup);
  if (f.tree) {
    std::printf("supervision tree:\nsupervisor (actor#%u)\n", static_cast<unsigned>(sup.id()));
    print_tree(self, sup, "  ");
    std::fflush(stdout);
  }

  auto end = std::make_shared<supervisor_end>();
  auto watcher = sys.spawn(watch_supervisor, sup, end);

  stop_options stop;
  stop.watch_stdin = !f.no_stdin;
  stop.after = std::chrono::seconds(f.seconds);
  caf::error sup_reason;
  std::string summary;
  std::size_t left = 0;
  std::chrono::steady_clock::time_point stopped_at;
  // Before the runtime's shutdown: stop the tree (its workers are io actors), then count.
  stop.before_shutdown = [&](stop_reason why) {
    stopped_at = std::chrono::steady_clock::now();
    bool sup_down = false;
    {
      std::lock_guard<std::mutex> guard{end->mtx};
      sup_down = end->down;
      sup_reason = end->reason;
    }
    std::printf("%s stopping: %s\n", now_text().c_str(), sup_down ? "the supervisor ended" : to_string(why));
    std::fflush(stdout);
    if (!sup_down) {
      self->send_exit(sup, caf::exit_reason::user_shutdown);
      self->receive([&](caf::down_msg& dm) { sup_reason = dm.reason; },
                    caf::after(std::chrono::seconds(60)) >> [] { std::fprintf(stderr, "supervisor did not stop in 60 s\n"); });
    }
    self->send_exit(watcher, caf::exit_reason::user_shutdown);
    self->request(log, std::chrono::seconds(10), summary_atom::value)
      .receive([&](std::string& s) { summary = s; }, [&](caf::error& e) { summary = describe(e) + "\n"; });
    left = live_workers();
    for (int i = 0; i < 50 && left != 0; ++i) {
      Sleep(100);
      left = live_workers();
    }
    self->send_exit(log, caf::exit_reason::user_shutdown);
  };
  auto result = run_until_stopped(rt, stop);
  auto elapsed = std::chrono::duration<double>(stopped_at - start).count();
  auto& report = result.report;
  auto& s = result.stats;
  std::printf("\n--- summary after %.1f s ---\n%s", elapsed, summary.c_str());
  auto why = supervisor_error_text(sup_reason);
  std::printf("supervisor ended: %s\n", why.empty() ? describe(sup_reason).c_str() : why.c_str());
  std::printf("worker processes left: %zu; broker: %llu packets, %llu unexpected, %lld in flight; shutdown %lld ms\n",
              left, static_cast<unsigned long long>(s.packets), static_cast<unsigned long long>(s.unexpected),
              static_cast<long long>(s.inflight), static_cast<long long>(report.took.count()));
  if (left != 0 || s.unexpected != 0)
    return 1;
  // The supervisor gave up (restart intensity) or could not start a child.
  return sup_reason.category() == supervisor_error_category ? 3 : 0;
}

} // namespace

int main(int argc, char** argv) {
  program_config cfg{"iocaf_supervise",
                     "A supervisor over worker processes that crash at random. Logs each exit and restart;\n"
                     "stops on Ctrl+C, end of stdin (unless --no-stdin) or after --seconds, and leaves no child.\n"
                     "Exit status: 0; 3 when the supervisor gave up (restart intensity) or a child could not\n"
                     "start; 1 when a worker outlived it or the runtime saw an unexpected packet."};
  flags f;
  cfg.option(f.workers, "workers", "worker processes, at least 1")
    .option(f.seconds, "seconds", "stop after this many seconds, 0 for never")
    .option(f.strategy, "strategy", "one_for_one, one_for_all or rest_for_one")
    .option(f.intensity, "intensity", "restarts allowed within --period-ms")
    .option(f.period_ms, "period-ms", "the intensity's period, ms")
    .option(f.grace_ms, "grace-ms", "a worker's time to end after it was asked to, ms")
    .option(f.no_stdin, "no-stdin", "do not stop at the end of standard input")
    .option(f.quiet, "quiet", "do not print the workers' output")
    .option(f.tree, "tree", "two levels: the workers in a pool supervisor next to a singleton worker");
  if (auto rc = cfg.parse(argc, argv))
    return *rc;
  restart_strategy strategy;
  if (!parse_strategy(f.strategy, strategy))
    return cfg.usage_error("bad value '" + f.strategy + "' for --strategy (expected: one_for_one, one_for_all or rest_for_one)");
  if (f.workers < 1 || f.seconds < 0 || f.intensity < 0 || f.period_ms < 1 || f.grace_ms < 0)
    return cfg.usage_error("--workers and --period-ms must be at least 1, --seconds, --intensity and --grace-ms at least 0");
  configure_process_errors(cfg);
  configure_supervisor_errors(cfg);
  return run_program(cfg, [&](caf::actor_system& sys, runtime& rt) { return run(sys, rt, f, strategy); });
}
