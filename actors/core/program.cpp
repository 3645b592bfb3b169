// Starting and stopping a program: the stop request (Ctrl+C, end of stdin,
// request_stop), run_until_stopped and the actor system's bounded end.
#include "actors/core/program.hpp"

#include "actors/core/messages.hpp"
#include "io/log.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

namespace iocaf {

// --- start and stop ----------------------------------------------------------------

const char* to_string(stop_reason r) {
  switch (r) {
    case stop_reason::console: return "console control event";
    case stop_reason::end_of_input: return "end of standard input";
    case stop_reason::timeout: return "time is up";
    case stop_reason::requested: return "stop requested";
  }
  return "?";
}

namespace {

// One stop request per run, from any thread: the console control thread,
// the stdin watcher, request_stop().
struct stop_state {
  std::mutex mtx;
  std::condition_variable cv;
  bool requested = false;
  stop_reason reason = stop_reason::requested;
  bool finished = false; // the run's shutdown is over (console close waits for it)
};
stop_state& stops() {
  static stop_state s;
  return s;
}

void signal_stop(stop_reason r) {
  auto& s = stops();
  std::lock_guard<std::mutex> guard{s.mtx};
  if (!s.requested) {
    s.requested = true;
    s.reason = r;
  }
  s.cv.notify_all();
}

BOOL WINAPI on_console(DWORD type) {
  if (type != CTRL_C_EVENT && type != CTRL_BREAK_EVENT && type != CTRL_CLOSE_EVENT)
    return FALSE;
  signal_stop(stop_reason::console);
  if (type == CTRL_CLOSE_EVENT) {
    // Windows ends the process as soon as this returns (and after 5 s at
    // the latest): give the shutdown that time.
    auto& s = stops();
    std::unique_lock<std::mutex> lock{s.mtx};
    s.cv.wait_for(lock, std::chrono::milliseconds(4500), [&] { return s.finished; });
  }
  return TRUE;
}

// A plain thread (it blocks; an actor may not) that reads standard input
// until its end and then asks for the stop. Touches nothing of CAF.
class stdin_watcher {
public:
  stdin_watcher() {
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    if (in == nullptr || in == INVALID_HANDLE_VALUE) {
      logger("program")->debug("no standard input to watch");
      return;
    }
    thread_ = CreateThread(nullptr, 0, &run, in, 0, nullptr);
    if (thread_ == nullptr)
      logger("program")->warn("cannot watch standard input: {}", io::last_error("CreateThread").to_string());
  }
  ~stdin_watcher() {
    if (thread_ == nullptr)
      return;
    cancelled_flag() = true;
    // Bounded: a read that cannot be cancelled is left to the process's end.
    if (WaitForSingleObject(thread_, 0) == WAIT_TIMEOUT) {
      CancelSynchronousIo(thread_);
      WaitForSingleObject(thread_, 1000);
    }
    CloseHandle(thread_);
  }
  stdin_watcher(const stdin_watcher&) = delete;
  stdin_watcher& operator=(const stdin_watcher&) = delete;

private:
  static std::atomic<bool>& cancelled_flag() {
    static std::atomic<bool> flag{false};
    return flag;
  }
  static DWORD WINAPI run(void* in) {
    cancelled_flag() = false;
    char buf[512];
    DWORD n = 0;
    while (ReadFile(static_cast<HANDLE>(in), buf, sizeof(buf), &n, nullptr) && n > 0) {
    }
    if (!cancelled_flag())
      signal_stop(stop_reason::end_of_input);
    return 0;
  }
  HANDLE thread_ = nullptr;
};

stop_reason wait_for_stop(const stop_options& opts) {
  auto& s = stops();
  std::unique_lock<std::mutex> lock{s.mtx};
  auto stopped = [&] { return s.requested; };
  if (opts.after.count() > 0) {
    if (!s.cv.wait_for(lock, opts.after, stopped))
      return stop_reason::timeout;
  } else {
    s.cv.wait(lock, stopped);
  }
  return s.reason;
}

} // namespace

void request_stop() {
  signal_stop(stop_reason::requested);
}

run_result run_until_stopped(runtime& rt, const stop_options& opts) {
  auto log = logger("program");
  {
    std::lock_guard<std::mutex> guard{stops().mtx};
    stops().finished = false;
  }
  if (!SetConsoleCtrlHandler(on_console, TRUE))
    log->warn("cannot watch Ctrl+C: {}", io::last_error("SetConsoleCtrlHandler").to_string());
  run_result out;
  {
    std::unique_ptr<stdin_watcher> input;
    if (opts.watch_stdin)
      input = std::make_unique<stdin_watcher>();
    out.reason = wait_for_stop(opts);
    log->log(opts.log_level, "stopping: {}", to_string(out.reason));
  }
  if (opts.before_shutdown)
    opts.before_shutdown(out.reason);
  out.report = rt.shutdown();
  out.stats = rt.core()->stats();
  auto level = out.clean() ? opts.log_level : spdlog::level::err;
  log->log(level, "shutdown in {} ms: {} io actors stopped, {} killed, {} operations leaked, {} unexpected packets",
           out.report.took.count(), out.report.actors_stopped, out.report.actors_killed, out.report.leaked,
           out.stats.unexpected);
  {
    std::lock_guard<std::mutex> guard{stops().mtx};
    stops().requested = false; // the next run waits for a new request
    stops().finished = true;
  }
  stops().cv.notify_all();
  SetConsoleCtrlHandler(on_console, FALSE);
  return out;
}

// --- the actor system's end ----------------------------------------------------------

// ~actor_system waits without a bound, first until no actor runs (an actor nobody stopped keeps
// it waiting forever), then for its logger's last reference, which every
// thread that ran CAF code holds until it exits. (That second wait was the
// hang programs used to avoid with _Exit: with CAF's thread_local logger
// pointer, MinGW's emutls freed a thread's slot before its destructor ran,
// the reference was never released and the wait never ended. CAF built as
// scripts/setup.sh does, with CAF_NO_THREAD_LOCAL, releases it through a
// pthread key destructor instead.)
void end_actor_system(std::unique_ptr<caf::actor_system> sys, std::chrono::milliseconds bound, int stuck_rc) {
  auto* raw = sys.get();
  auto* lg = &raw->logger();
  std::mutex mtx;
  std::condition_variable cv;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock{mtx};
    if (cv.wait_for(lock, bound, [&] { return done; }))
      return;
    // Still inside ~actor_system: its memory and (while referenced) the logger are alive.
    auto running = raw->registry().running();
    logger("program")->error("the actor system did not end within {} ms: {} actors still running{}; "
                             "ending the process without it",
                             bound.count(), running,
                             running > 0 ? " (it waits for them)"
                                         : ", logger references: " + std::to_string(lg->get_reference_count()));
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(stuck_rc);
  });
  sys.reset();
  {
    std::lock_guard<std::mutex> guard{mtx};
    done = true;
  }
  cv.notify_all();
  watchdog.join();
}

int run_program(program_config& cfg, const std::function<int(caf::actor_system&, runtime&)>& body) {
  auto sys = std::make_unique<caf::actor_system>(cfg);
  int rc = 1;
  try {
    runtime rt{*sys, cfg.runtime_options()};
    rc = body(*sys, rt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", cfg.name().c_str(), e.what());
  }
  end_actor_system(std::move(sys), std::chrono::duration_cast<std::chrono::milliseconds>(cfg.shutdown_bound), rc);
  std::fflush(stdout);
  return rc;
}

} // namespace iocaf
