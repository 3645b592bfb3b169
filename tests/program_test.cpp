// actors/core/program.hpp: one way to configure (program_config) and to
// start and stop (run_until_stopped).
#include "actors/core/program.hpp"
#include "actors/stream/stream_messages.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <io.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace iocaf {
// gtest prints a stop_reason in words.
void PrintTo(stop_reason r, std::ostream* os) {
  *os << to_string(r);
}
} // namespace iocaf

using namespace iocaf;
using namespace iocaf::test;

namespace {

// argv for parse(): the program name first.
struct args {
  explicit args(std::vector<std::string> xs) : strings(std::move(xs)) {
    strings.insert(strings.begin(), "prog");
    for (auto& s : strings)
      ptrs.push_back(&s[0]);
  }
  int argc() { return static_cast<int>(ptrs.size()); }
  char** argv() { return ptrs.data(); }
  std::vector<std::string> strings;
  std::vector<char*> ptrs;
};

// What a call printed on one of the C streams (stdout: 1, stderr: 2).
template <class F>
std::string capture(int fd, F f) {
  FILE* stream = fd == 1 ? stdout : stderr;
  std::fflush(stream);
  char path[L_tmpnam + 16];
  std::snprintf(path, sizeof(path), "program_test_%lu_%d.txt", GetCurrentProcessId(), fd);
  int file = _open(path, _O_CREAT | _O_TRUNC | _O_WRONLY | _O_BINARY, 0600);
  int saved = _dup(fd);
  _dup2(file, fd);
  f();
  std::fflush(stream);
  _dup2(saved, fd);
  _close(saved);
  _close(file);
  std::ifstream in{path, std::ios::binary};
  std::string out{std::istreambuf_iterator<char>{in}, {}};
  in.close();
  std::remove(path);
  return out;
}

struct test_config : program_config {
  test_config() : program_config("prog", "A test program.") {
    option(port, "port", "TCP port");
    option(name, "name", "a name");
    option(quiet, "quiet", "print less");
  }
  std::uint16_t port = 8080;
  std::string name = "ann";
  bool quiet = false;
};

TEST(program_options, values_come_from_the_command_line_in_both_spellings) {
  test_config cfg;
  args a{{"--port", "80", "--name=bob", "--quiet", "--log-level", "debug", "--shutdown-bound=250ms",
          "--max-queued-bytes", "4096", "--broker-turn-limit=5ms"}};
  auto rc = cfg.parse(a.argc(), a.argv());
  ASSERT_FALSE(rc.has_value()) << "exit " << *rc;
  EXPECT_EQ(cfg.port, 80);
  EXPECT_EQ(cfg.name, "bob");
  EXPECT_TRUE(cfg.quiet);
  EXPECT_EQ(cfg.log_level, "debug");
  EXPECT_EQ(cfg.runtime_options().shutdown_bound, std::chrono::milliseconds(250));
  EXPECT_EQ(cfg.runtime_options().broker_turn_limit, std::chrono::microseconds(5000));
  stream_options so;
  cfg.apply(so);
  EXPECT_EQ(so.max_queued_bytes, 4096u);
  EXPECT_TRUE(set_log_level("info"));
}

TEST(program_options, defaults_stay_without_flags) {
  test_config cfg;
  args a{{}};
  ASSERT_FALSE(cfg.parse(a.argc(), a.argv()).has_value());
  EXPECT_EQ(cfg.port, 8080);
  EXPECT_EQ(cfg.runtime_options().shutdown_bound, runtime_options{}.shutdown_bound);
  EXPECT_EQ(cfg.runtime_options().batch_size, runtime_options{}.batch_size);
  EXPECT_EQ(cfg.runtime_options().broker_turn_limit, runtime_options{}.broker_turn_limit);
  stream_options so, defaults;
  cfg.apply(so);
  EXPECT_EQ(so.max_queued_bytes, defaults.max_queued_bytes);
  EXPECT_EQ(so.read_credit, defaults.read_credit);
}

TEST(program_options, the_ini_file_sets_program_and_runtime_options) {
  std::string path = "program_test_" + std::to_string(GetCurrentProcessId()) + ".ini";
  {
    std::ofstream ini{path};
    ini << "[prog]\nport=81\n[iocaf]\nbroker-batch=16\nshutdown-bound=2s\n";
  }
  test_config cfg;
  args a{{"--config-file=" + path, "--name", "cli"}};
  auto rc = cfg.parse(a.argc(), a.argv());
  std::remove(path.c_str());
  ASSERT_FALSE(rc.has_value());
  EXPECT_EQ(cfg.port, 81);
  EXPECT_EQ(cfg.name, "cli");
  EXPECT_EQ(cfg.runtime_options().batch_size, 16u);
  EXPECT_EQ(cfg.runtime_options().shutdown_bound, std::chrono::milliseconds(2000));
}

// The broker placement is the default; a program chooses the workers with
// --actors-on=workers or actors-on="workers" under [iocaf] (CAF 0.17 takes no
// value after a bool flag, so a bool option could not be turned off).
TEST(program_options, broker_placement_is_the_default_and_actors_on_workers_turns_it_off_in_both_spellings) {
  {
    test_config cfg;
    args a{{}};
    ASSERT_FALSE(cfg.parse(a.argc(), a.argv()).has_value());
    EXPECT_TRUE(cfg.runtime_options().broker_runs_actors);
  }
  {
    test_config cfg;
    args a{{"--actors-on=workers"}};
    auto rc = cfg.parse(a.argc(), a.argv());
    ASSERT_FALSE(rc.has_value()) << "exit " << *rc;
    EXPECT_FALSE(cfg.runtime_options().broker_runs_actors);
  }
  std::string path = "program_test_placement_" + std::to_string(GetCurrentProcessId()) + ".ini";
  {
    std::ofstream ini{path};
    ini << "[iocaf]\nactors-on=\"workers\"\n"; // CAF 0.17: a string value is quoted
  }
  test_config cfg;
  args a{{"--config-file=" + path}};
  auto rc = cfg.parse(a.argc(), a.argv());
  std::remove(path.c_str());
  ASSERT_FALSE(rc.has_value()) << "exit " << *rc;
  EXPECT_FALSE(cfg.runtime_options().broker_runs_actors);
}

// Every usage error: exit 2 and one line "prog: WHAT (see prog --help)".
void expect_usage_error(std::vector<std::string> argv, const std::string& what) {
  test_config cfg;
  args a{std::move(argv)};
  std::optional<int> rc;
  auto err = capture(2, [&] { rc = cfg.parse(a.argc(), a.argv()); });
  ASSERT_TRUE(rc.has_value()) << what;
  EXPECT_EQ(*rc, 2);
  EXPECT_EQ(err, "prog: " + what + " (see prog --help)\n");
}

TEST(program_options, usage_errors_exit_2_with_one_wording) {
  expect_usage_error({"--frobnicate", "1"}, "unknown option '--frobnicate'");
  expect_usage_error({"--port", "70000"}, "bad value '70000' for --port (expected: uint16)");
  expect_usage_error({"--port=abc"}, "bad value 'abc' for --port (expected: uint16)");
  expect_usage_error({"--port"}, "option '--port' needs a value");
  expect_usage_error({"--quiet=yes"}, "option '--quiet' takes no value");
  expect_usage_error({"stray"}, "unexpected argument 'stray'");
  expect_usage_error({"--log-level", "loud"},
                     "bad value 'loud' for --log-level (expected: trace, debug, info, warning, error, critical or off)");
  expect_usage_error({"--broker-turn-limit=-1ms"}, "--broker-turn-limit must not be negative");
  expect_usage_error({"--actors-on=gpu"}, "bad value 'gpu' for --actors-on (expected: broker or workers)");
}

TEST(program_options, config_file_errors_are_usage_errors) {
  expect_usage_error({"--config-file=no_such_file.ini"}, "cannot open the config file 'no_such_file.ini'");
  std::string path = "program_test_bad_" + std::to_string(GetCurrentProcessId()) + ".ini";
  {
    std::ofstream ini{path};
    ini << "[prog]\nport=81\n[iocaf\n";
  }
  test_config cfg;
  args a{{"--config-file=" + path}};
  std::optional<int> rc;
  auto err = capture(2, [&] { rc = cfg.parse(a.argc(), a.argv()); });
  std::remove(path.c_str());
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(*rc, 2);
  EXPECT_EQ(err.rfind("prog: the config file has an error (", 0), 0u) << err;
  EXPECT_NE(err.find(") at line "), std::string::npos) << err;
}

TEST(program_options, help_exits_0_and_shows_every_option_with_its_default) {
  test_config cfg;
  args a{{"--help"}};
  std::optional<int> rc;
  auto out = capture(1, [&] { rc = cfg.parse(a.argc(), a.argv()); });
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(*rc, 0);
  EXPECT_EQ(out.rfind("usage: prog [options]\nA test program.\n", 0), 0u) << out;
  for (auto want : {"--port=<uint16>", "TCP port (default: 8080)", "--name=", "a name (default: ann)", "--quiet",
                    "--log-level=", "--shutdown-bound=", "(default: 5000ms)", "--broker-batch=", "(default: 64)",
                    "--max-queued-bytes=", "(default: 1048576)"})
    EXPECT_NE(out.find(want), std::string::npos) << "no \"" << want << "\" in:\n" << out;
  EXPECT_LT(out.find("--port="), out.find("--log-level=")) << "the program's options come first";
  EXPECT_EQ(out.find("STDERR"), std::string::npos) << "the help is on stdout";
}

// --- run_until_stopped ---------------------------------------------------------------

class run_until_stopped_test : public runtime_test {};

TEST_F(run_until_stopped_test, a_stop_requested_before_the_run_ends_it_at_once) {
  request_stop();
  stop_options opts;
  opts.watch_stdin = false;
  bool goodbye = false;
  opts.before_shutdown = [&](stop_reason why) { goodbye = why == stop_reason::requested; };
  auto r = run_until_stopped(*rt, opts);
  EXPECT_EQ(r.reason, stop_reason::requested);
  EXPECT_TRUE(goodbye);
  EXPECT_TRUE(r.clean());
}

TEST_F(run_until_stopped_test, a_request_from_another_thread_ends_it) {
  stop_options opts;
  opts.watch_stdin = false;
  std::thread t([] { request_stop(); });
  auto r = run_until_stopped(*rt, opts);
  t.join();
  EXPECT_EQ(r.reason, stop_reason::requested);
}

TEST_F(run_until_stopped_test, it_ends_after_its_time) {
  stop_options opts;
  opts.watch_stdin = false;
  opts.after = std::chrono::milliseconds(50);
  auto r = run_until_stopped(*rt, opts);
  EXPECT_EQ(r.reason, stop_reason::timeout);
  EXPECT_TRUE(r.clean());
}

TEST_F(run_until_stopped_test, end_of_standard_input_ends_it) {
  HANDLE read_end = nullptr, write_end = nullptr;
  ASSERT_TRUE(CreatePipe(&read_end, &write_end, nullptr, 0)) << io::last_error("CreatePipe").to_string();
  HANDLE saved = GetStdHandle(STD_INPUT_HANDLE);
  ASSERT_TRUE(SetStdHandle(STD_INPUT_HANDLE, read_end));
  DWORD n = 0;
  WriteFile(write_end, "some input\n", 11, &n, nullptr);
  CloseHandle(write_end); // the watcher reads the line, then the end
  stop_options opts;
  opts.after = std::chrono::seconds(30); // a bound: a missed end of input fails as a timeout
  auto r = run_until_stopped(*rt, opts);
  SetStdHandle(STD_INPUT_HANDLE, saved);
  CloseHandle(read_end);
  EXPECT_EQ(r.reason, stop_reason::end_of_input);
}

// Counts the Ctrl+C events no run caught (sent before its handler was in
// place); installed once and kept, so that none ends the test program.
std::atomic<int> swallowed{0};
BOOL WINAPI swallow_ctrl(DWORD) {
  ++swallowed;
  return TRUE;
}

TEST_F(run_until_stopped_test, ctrl_c_ends_it) {
  // Ctrl+C reaches only processes attached to a console: get one if needed.
  // Once per program: a console of its own (Wine may attach one without a
  // window, which AllocConsole refuses to replace), Ctrl+C not ignored (a
  // parent may have set that), and the catch-all handler.
  static std::string setup_error = [] {
    FreeConsole();
    if (!AllocConsole())
      return "no console: " + io::last_error("AllocConsole").to_string();
    if (!SetConsoleCtrlHandler(nullptr, FALSE) || !SetConsoleCtrlHandler(swallow_ctrl, TRUE))
      return io::last_error("SetConsoleCtrlHandler").to_string();
    return std::string{};
  }();
  if (!setup_error.empty())
    GTEST_SKIP() << setup_error;
  stop_options opts;
  opts.watch_stdin = false;
  opts.after = std::chrono::seconds(30); // a bound: a missed Ctrl+C fails as a timeout
  std::atomic<bool> returned{false};
  std::thread t([&] {
    // One event at a time, each either swallowed (the run's handler was not
    // in place yet: send another) or caught by the run: none is left in flight.
    while (!returned) {
      int before = swallowed;
      if (!GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0))
        return;
      while (!returned && swallowed == before)
        SwitchToThread();
    }
  });
  auto r = run_until_stopped(*rt, opts);
  returned = true;
  t.join();
  EXPECT_EQ(r.reason, stop_reason::console);
}

// --- run_program ----------------------------------------------------------------

std::wstring exe_next_to_me(const wchar_t* name) {
  wchar_t self[MAX_PATH];
  DWORD n = GetModuleFileNameW(nullptr, self, MAX_PATH);
  std::wstring dir(self, n);
  return dir.substr(0, dir.find_last_of(L"\\/") + 1) + name;
}

// What a child run with the UTF-16 command line `args` (after its exe's
// path) did: its exit code and what it wrote to stderr.
struct child_result {
  bool ended = false; // within 30 s (else it was terminated)
  DWORD code = 0;
  std::string err;
};
child_result run_child(const wchar_t* exe, const std::wstring& args) {
  child_result out;
  SECURITY_ATTRIBUTES sa{sizeof(sa), nullptr, TRUE};
  HANDLE err_read = nullptr, err_write = nullptr;
  if (!CreatePipe(&err_read, &err_write, &sa, 1 << 16)) {
    ADD_FAILURE() << io::last_error("CreatePipe").to_string();
    return out;
  }
  SetHandleInformation(err_read, HANDLE_FLAG_INHERIT, 0);
  STARTUPINFOW si{};
  si.cb = sizeof(si);
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = nullptr;
  si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
  si.hStdError = err_write;
  std::wstring cmd = L"\"" + exe_next_to_me(exe) + L"\" " + args;
  PROCESS_INFORMATION pi{};
  if (!CreateProcessW(nullptr, &cmd[0], nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi)) {
    ADD_FAILURE() << io::last_error("CreateProcessW").to_string();
    CloseHandle(err_read);
    CloseHandle(err_write);
    return out;
  }
  CloseHandle(err_write);
  out.ended = WaitForSingleObject(pi.hProcess, 30000) == WAIT_OBJECT_0;
  if (!out.ended)
    TerminateProcess(pi.hProcess, 99);
  GetExitCodeProcess(pi.hProcess, &out.code);
  out.err.resize(4096);
  DWORD n = 0;
  ReadFile(err_read, &out.err[0], static_cast<DWORD>(out.err.size()), &n, nullptr);
  out.err.resize(n);
  CloseHandle(err_read);
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  return out;
}

TEST(run_program, ends_with_the_body_status_even_when_an_actor_is_left_running) {
  auto r = run_child(L"iocaf_left_running.exe", L"--shutdown-bound=500ms");
  ASSERT_TRUE(r.ended) << "still running after 30 s (~actor_system waits for the actor)";
  EXPECT_EQ(r.code, 7u);
  EXPECT_NE(r.err.find("the actor system did not end within 500 ms: 1 actors still running"), std::string::npos)
    << r.err;
}

// main's argv holds the arguments in the ANSI code page ("Zoë" as "Zo\xEB",
// 王 as "?"): parse(argc, argv) reads them from the UTF-16 command line.
TEST(program_options, a_non_ascii_argument_of_main_arrives_as_utf8) {
  // --log-level=Zoë-王: a bad value, which the usage error quotes.
  auto r = run_child(L"iocaf_left_running.exe", L"--log-level=Zo\u00EB-\u738B");
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.code, 2u);
  // (stderr is in text mode: the line ends in \r\n.)
  EXPECT_EQ(r.err.rfind("left_running: bad value 'Zo\xC3\xAB-\xE7\x8E\x8B' for --log-level (expected: ", 0), 0u)
    << r.err;
}

} // namespace
