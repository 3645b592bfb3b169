#include "actors/core/program.hpp"

#include "actors/core/messages.hpp"
#include "io/log.hpp"
#include "io/text.hpp"
// Header only, for stream_options' defaults (no link dependency on the stream layer).
#include "actors/stream/stream_messages.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

namespace iocaf {

// --- configuration ---------------------------------------------------------------

namespace {

std::string arg_name(const std::string& arg) {
  return arg.substr(0, arg.find('='));
}

// CAF reads long options as --name=value only; people write --name value.
// Joins the two when --name is an option that takes a value.
// args: the program's name first.
std::vector<std::string> join_values(const caf::config_option_set& opts, std::vector<std::string> args) {
  std::vector<std::string> out;
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string& a = args[i];
    if (a.size() > 2 && a.compare(0, 2, "--") == 0 && a.find('=') == std::string::npos && i + 1 < args.size()) {
      auto opt = opts.cli_long_name_lookup(caf::string_view{a.data() + 2, a.size() - 2});
      if (opt != nullptr && !opt->is_flag()) {
        out.push_back(a + "=" + args[++i]);
        continue;
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

// What went wrong, in one wording for every program.
std::string describe_parse_error(const caf::error& err, const caf::config_option_set& opts) {
  // CAF's parser errors carry {"argument": "--name=value"}.
  if (err == caf::sec::cannot_open_file && err.context().match_elements<std::string>())
    return "cannot open the config file '" + err.context().get_as<std::string>(0) + "'";
  if (err.category() != caf::atom("parser") || !err.context().match_elements<caf::config_value::dictionary>())
    return caf::to_string(err);
  auto& context = err.context().get_as<caf::config_value::dictionary>(0);
  auto i = context.find("argument");
  auto* text = i != context.end() ? caf::get_if<std::string>(&i->second) : nullptr;
  if (text == nullptr) {
    // A syntax error in the ini file: {"line": L, "column": C}.
    auto line = context.find("line");
    auto column = context.find("column");
    if (line == context.end() || column == context.end())
      return caf::to_string(err);
    return "the config file has an error (" + caf::to_string(static_cast<caf::pec>(err.code())) + ") at line " +
           caf::to_string(line->second) + ", column " + caf::to_string(column->second);
  }
  auto arg = *text;
  auto name = arg_name(arg);
  switch (static_cast<caf::pec>(err.code())) {
    case caf::pec::not_an_option:
      return "unknown option '" + name + "'";
    case caf::pec::missing_argument:
      return "option '" + name + "' needs a value";
    default:
      break;
  }
  auto opt = name.size() > 2 ? opts.cli_long_name_lookup(caf::string_view{name.data() + 2, name.size() - 2}) : nullptr;
  if (opt != nullptr && opt->is_flag())
    return "option '" + name + "' takes no value";
  auto value = arg.size() > name.size() ? arg.substr(name.size() + 1) : std::string{};
  std::string type = opt != nullptr ? std::string{opt->type_name().data(), opt->type_name().size()} : "?";
  return "bad value '" + value + "' for " + name + " (expected: " + type + ")";
}

// True if argv holds the process's arguments as main got them (a copy of
// the C runtime's __argv, in the ANSI code page).
bool is_main_argv(int argc, char** argv) {
  if (__argv == nullptr || argc != __argc)
    return false;
  for (int i = 0; i < argc; ++i)
    if (std::strcmp(argv[i], __argv[i]) != 0)
      return false;
  return true;
}

bool is_help(const std::string& a) {
  return a == "--help" || a == "-h" || a == "-?" || a == "--long-help";
}

} // namespace

program_config::program_config(std::string name, std::string summary, bool with_runtime)
  : name_(std::move(name)), summary_(std::move(summary)), program_group_("?" + name_), with_runtime_(with_runtime) {
  configure(*this);
  iocaf::runtime_options ro;
  stream_options so;
  shutdown_bound = ro.shutdown_bound;
  kill_grace = ro.kill_grace;
  broker_batch = ro.batch_size;
  max_queued_bytes = so.max_queued_bytes;
  write_batch = so.write_batch;
  read_credit = so.read_credit;
  release_read_buffer_after = so.release_read_buffer_after;
}

std::string program_config::default_text(double& v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return std::string{" (default: "} + buf + ")";
}

// Added when parsing, after the program's own options: --help lists those first.
void program_config::add_runtime_options() {
  if (runtime_options_added_)
    return;
  runtime_options_added_ = true;
  const char* env = std::getenv("IOCAF_LOG");
  // A program may set log_level before parsing (a benchmark: warn); else
  // $IOCAF_LOG, else info.
  std::string level_default = !log_level.empty() ? log_level
                              : env != nullptr   ? std::string{env} + ", from IOCAF_LOG"
                                                 : "info";
  caf::config_option_adder{custom_options_, "?iocaf"}
    .add(log_level, "log-level",
         "trace, debug, info, warning (or warn), error, critical or off (default: " + level_default + ")");
  if (!with_runtime_)
    return;
  caf::config_option_adder{custom_options_, "?iocaf"}
    .add(shutdown_bound, "shutdown-bound",
         "how long shutdown waits for io actors to drain" + default_text(shutdown_bound))
    .add(kill_grace, "kill-grace",
         "after killing io actors at the bound, how long to wait for their packets" + default_text(kill_grace))
    .add(broker_batch, "broker-batch", "completion packets dequeued per call" + default_text(broker_batch))
    .add(max_queued_bytes, "max-queued-bytes",
         "write queue bound of a connection, bytes" + default_text(max_queued_bytes))
    .add(write_batch, "write-batch", "queued sends gathered into one write, bytes" + default_text(write_batch))
    .add(read_credit, "read-credit",
         "received bytes not yet consumed before reads pause" + default_text(read_credit))
    .add(release_read_buffer_after, "release-read-buffer-after",
         "a TCP connection that read nothing this long waits for data without a read buffer, 0: never"
           + default_text(release_read_buffer_after));
}

int program_config::usage_error(const std::string& what) const {
  std::fprintf(stderr, "%s: %s (see %s --help)\n", name_.c_str(), what.c_str(), name_.c_str());
  return 2;
}

std::optional<int> program_config::parse(int argc, char** argv) {
  if (is_main_argv(argc, argv)) {
    auto utf8 = io::argv_utf8();
    if (!utf8)
      return usage_error("cannot read the command line: " + utf8.err().to_string());
    return parse(std::move(*utf8));
  }
  return parse(std::vector<std::string>(argv, argv + argc));
}

std::optional<int> program_config::parse(std::vector<std::string> argv) {
  add_runtime_options();
  auto args = join_values(custom_options_, std::move(argv));
  // --help is ours to print: the program's summary first, then CAF's list.
  bool help = false;
  bool long_help = false;
  for (auto i = args.begin(); i != args.end();) {
    if (is_help(*i)) {
      help = true;
      long_help = long_help || *i == "--long-help";
      i = args.erase(i);
    } else {
      ++i;
    }
  }
  if (auto err = actor_system_config::parse(std::move(args)))
    return usage_error(describe_parse_error(err, custom_options_));
  if (!remainder.empty())
    return usage_error("unexpected argument '" + remainder.front() + "'");
  if (help) {
    auto text = custom_options_.help_text(!long_help);
    // CAF's own lines say STDERR; the help goes to stdout.
    for (auto pos = text.find(" to STDERR"); pos != std::string::npos; pos = text.find(" to STDERR"))
      text.erase(pos, 10);
    std::printf("usage: %s [options]\n%s\n\n%s\n", name_.c_str(), summary_.c_str(), text.c_str());
    std::printf("Options also come from caf-application.ini (or --config-file=FILE): [%s] for the program's,\n"
                "[iocaf] for the runtime's. Exit status 2 for a usage error.\n",
                name_.c_str());
    return 0;
  }
  if (cli_helptext_printed) // --dump-config
    return 0;
  if (!log_level.empty() && !set_log_level(log_level))
    return usage_error("bad value '" + log_level +
                       "' for --log-level (expected: trace, debug, info, warning, error, critical or off)");
  if (broker_batch == 0)
    return usage_error("--broker-batch must be at least 1");
  return std::nullopt;
}

iocaf::runtime_options program_config::runtime_options() const {
  iocaf::runtime_options ro;
  ro.shutdown_bound = std::chrono::duration_cast<std::chrono::milliseconds>(shutdown_bound);
  ro.kill_grace = std::chrono::duration_cast<std::chrono::milliseconds>(kill_grace);
  ro.batch_size = broker_batch;
  return ro;
}

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

namespace {

// Destroys the actor system within `bound`, or says why it could not and
// ends the process (with status rc) rather than hang. ~actor_system waits
// without a bound, first until no actor runs (an actor nobody stopped keeps
// it waiting forever), then for its logger's last reference, which every
// thread that ran CAF code holds until it exits. (That second wait was the
// hang programs used to avoid with _Exit: with CAF's thread_local logger
// pointer, MinGW's emutls freed a thread's slot before its destructor ran,
// the reference was never released and the wait never ended. CAF built as
// scripts/setup.sh does, with CAF_NO_THREAD_LOCAL, releases it through a
// pthread key destructor instead.)
void destroy_system(std::unique_ptr<caf::actor_system> sys, std::chrono::milliseconds bound, int rc) {
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
    std::_Exit(rc);
  });
  sys.reset();
  {
    std::lock_guard<std::mutex> guard{mtx};
    done = true;
  }
  cv.notify_all();
  watchdog.join();
}

} // namespace

int run_program(program_config& cfg, const std::function<int(caf::actor_system&, runtime&)>& body) {
  auto sys = std::make_unique<caf::actor_system>(cfg);
  int rc = 1;
  try {
    runtime rt{*sys, cfg.runtime_options()};
    rc = body(*sys, rt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", cfg.name().c_str(), e.what());
  }
  destroy_system(std::move(sys), std::chrono::duration_cast<std::chrono::milliseconds>(cfg.shutdown_bound), rc);
  std::fflush(stdout);
  return rc;
}

} // namespace iocaf
