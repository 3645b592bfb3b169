#pragma once
// One way to configure, start and stop an iocaf program.
//
//   int main(int argc, char** argv) {
//     iocaf::program_config cfg{"echo_server", "Echoes every byte on every TCP connection."};
//     std::uint16_t port = 0;
//     cfg.option(port, "port", "TCP port, 0 for any free one");
//     if (auto rc = cfg.parse(argc, argv))
//       return *rc;                                  // 0 after --help, 2 after a usage error
//     return iocaf::run_program(cfg, [&](caf::actor_system& sys, iocaf::runtime& rt) {
//       ... spawn a listener, print "listening" ...
//       auto result = iocaf::run_until_stopped(rt);  // Ctrl+C, Ctrl+Break, console close, end of stdin
//       return result.clean() ? 0 : 1;
//     });
//   }
//
// Options come from the command line (`--port 80` or `--port=80`) and from
// caf-application.ini (or --config-file=FILE): the program's own options in
// the section named after the program, the runtime's in [iocaf]:
//   --log-level      trace, debug, info, warning (or warn), error, critical, off: the
//                    words the log lines print; default $IOCAF_LOG, else info
//   --shutdown-bound, --kill-grace, --broker-batch, --actors-on,
//   --broker-turn-limit (runtime_options)
//   --max-queued-bytes, --write-batch, --read-credit (stream_options: write-queue limits)
#include "actors/core/runtime.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/config_option_adder.hpp>
#include <spdlog/common.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace iocaf {

class program_config : public caf::actor_system_config {
public:
  // name: the program as messages name it; summary: what --help says first.
  // with_runtime false: a program without an iocaf runtime (a plain client),
  // which takes only --log-level of the runtime's settings.
  program_config(std::string name, std::string summary, bool with_runtime = true);

  // Adds an option of the program (flat name: --NAME on the command line,
  // NAME in the program's ini section), bound to `var`; --help shows `text`
  // and var's value now as the default. A bool is a flag (--NAME alone).
  template <class T>
  program_config& option(T& var, const std::string& name, const std::string& text) {
    caf::config_option_adder{custom_options_, program_group_}.add(var, name, text + default_text(var));
    return *this;
  }

  // Reads caf-application.ini and the command line into this config and
  // applies the log level. Returns the exit code if the program should end
  // now: 0 after --help (or --long-help, --dump-config), 2 after a usage
  // error (printed as usage_error does); nothing to go on.
  // main's argc and argv are read as UTF-8 from the UTF-16 command line
  // (io::argv_utf8(): main's argv holds them in the ANSI code page, where
  // "Zoë" is "Zo\xEB" and most of the world's letters are '?'); any other
  // argv is taken as UTF-8 as it is.
  std::optional<int> parse(int argc, char** argv);
  // The same with the arguments as UTF-8, the program's name first.
  std::optional<int> parse(std::vector<std::string> args);

  // "NAME: what" and a pointer to --help on stderr; returns 2 (the exit
  // status of every usage error). For the program's own checks of values.
  int usage_error(const std::string& what) const;

  const std::string& name() const { return name_; }
  iocaf::runtime_options runtime_options() const;
  // Copies the write-queue limits, read credit and read-buffer release into a connection's
  // options (iocaf::stream_options or a struct derived from it; a template
  // because the stream layer sits above this one).
  template <class StreamOptions>
  void apply(StreamOptions& opts) const {
    opts.max_queued_bytes = max_queued_bytes;
    opts.write_batch = write_batch;
    opts.read_credit = read_credit;
    opts.release_read_buffer_after = std::chrono::duration_cast<std::chrono::milliseconds>(release_read_buffer_after);
  }

  // The runtime's settings (defaults as in runtime_options and stream_options).
  std::string log_level; // empty: $IOCAF_LOG, else info; set before parse() for another default
  caf::timespan shutdown_bound;
  caf::timespan kill_grace;
  std::size_t broker_batch;
  std::string actors_on; // broker or workers: runtime_options::broker_runs_actors
  caf::timespan broker_turn_limit;
  std::size_t max_queued_bytes;
  std::size_t write_batch;
  std::size_t read_credit;
  caf::timespan release_read_buffer_after;

private:
  void add_runtime_options();
  static std::string default_text(bool&) { return {}; }
  static std::string default_text(std::string& v) { return " (default: " + (v.empty() ? "none" : v) + ")"; }
  static std::string default_text(caf::timespan& v) {
    return " (default: " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(v).count()) + "ms)";
  }
  template <class T>
  static std::enable_if_t<std::is_integral<T>::value, std::string> default_text(T& v) {
    return " (default: " + std::to_string(v) + ")";
  }
  static std::string default_text(double& v);

  std::string name_;
  std::string summary_;
  std::string program_group_; // "?" + name: flat on the command line, [name] in the ini file
  bool with_runtime_;
  bool runtime_options_added_ = false;
};

// Why run_until_stopped returned.
enum class stop_reason { console, end_of_input, timeout, requested };
const char* to_string(stop_reason r);

struct stop_options {
  // End of standard input stops the program (off for servers started
  // without a meaningful stdin, e.g. detached or from a service manager).
  bool watch_stdin = true;
  // > 0: stop after this long.
  std::chrono::milliseconds after{0};
  // Runs after the stop request and before the runtime's shutdown: the
  // program's goodbye (stop accepting, tell clients). May block, bounded.
  std::function<void(stop_reason)> before_shutdown;
  // The level of the "stopping" and "shutdown in" lines after a clean run
  // (an unclean shutdown is an error either way); debug for a program
  // that ends by itself and has nothing to say about it.
  spdlog::level::level_enum log_level = spdlog::level::info;
};

struct run_result {
  stop_reason reason = stop_reason::requested;
  shutdown_report report;
  broker_stats stats;
  // Every io actor finished its cancel protocol: none killed, nothing leaked,
  // no packet for an unknown operation.
  bool clean() const { return report.actors_killed == 0 && report.leaked == 0 && stats.unexpected == 0; }
};

// Blocks the calling thread until Ctrl+C, Ctrl+Break, console close, end of
// standard input (if watched), the timeout or request_stop(); then runs
// before_shutdown and the runtime's bounded shutdown, logs one line about it
// and returns what it found. One run at a time per process.
run_result run_until_stopped(runtime& rt, const stop_options& opts = {});

// Makes the current (or next) run_until_stopped return. Any thread.
void request_stop();

// Builds the actor system and the runtime from cfg, runs body (its result
// is the exit status), shuts the runtime down if body did not, and destroys
// the actor system within cfg.shutdown_bound. When an actor is still alive
// then (~actor_system would wait for it forever) it logs that and ends the
// process with body's status instead. A runtime that cannot start: 1.
int run_program(program_config& cfg, const std::function<int(caf::actor_system&, runtime&)>& body);

// Destroys sys within `bound`, so that no CAF thread is left running when the
// process exits. When it cannot (an actor is still alive: ~actor_system would
// wait for it forever), it logs what still runs and ends the process with
// status `stuck_rc`. run_program ends its system this way.
void end_actor_system(std::unique_ptr<caf::actor_system> sys, std::chrono::milliseconds bound, int stuck_rc);

} // namespace iocaf
