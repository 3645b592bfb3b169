// program_config: the options every iocaf program shares (its own, the
// runtime's, CAF's), read from caf-application.ini and the command line.
#include "actors/core/program.hpp"

#include "actors/core/messages.hpp"
#include "io/text.hpp"
// Header only, for stream_options' defaults (no link dependency on the stream layer).
#include "actors/stream/stream_messages.hpp"

#include <caf/all.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>

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
  actors_on = ro.broker_runs_actors ? "broker" : "workers";
  broker_turn_limit = ro.broker_turn_limit;
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
    .add(broker_batch, "broker-batch", "most completion packets one dequeue takes (one while they come alone)" + default_text(broker_batch))
    .add(actors_on, "actors-on",
         "where the actors a completion wakes run: broker (its thread, one at a time, as Asio's handlers on its run() thread) or workers (CAF's, which spreads busy connections over them)"
           + default_text(actors_on))
    .add(broker_turn_limit, "broker-turn-limit",
         "with actors-on=broker: an actor whose turn on the broker's thread took longer runs on CAF's workers from then on, 0: never"
           + default_text(broker_turn_limit))
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
  if (actors_on != "broker" && actors_on != "workers")
    return usage_error("bad value '" + actors_on + "' for --actors-on (expected: broker or workers)");
  if (broker_turn_limit.count() < 0)
    return usage_error("--broker-turn-limit must not be negative");
  return std::nullopt;
}

iocaf::runtime_options program_config::runtime_options() const {
  iocaf::runtime_options ro;
  ro.shutdown_bound = std::chrono::duration_cast<std::chrono::milliseconds>(shutdown_bound);
  ro.kill_grace = std::chrono::duration_cast<std::chrono::milliseconds>(kill_grace);
  ro.batch_size = broker_batch;
  ro.broker_runs_actors = actors_on == "broker";
  ro.broker_turn_limit = std::chrono::duration_cast<std::chrono::microseconds>(broker_turn_limit);
  return ro;
}

} // namespace iocaf
