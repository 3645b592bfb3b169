#pragma once
// Test support: an actor system with an iocaf runtime per test, and helpers
// that wait for messages with bounded timeouts that fail loudly.
#include "actors/core/runtime.hpp"
#include "io/pipe.hpp"
#include "soak.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace iocaf::test {

constexpr auto timeout = std::chrono::seconds(30);

// One actor system per test program, built on first use and ended by main()
// after the last test (end_shared_system): each test gets its own iocaf
// runtime (port, broker, table), which is what the tests examine. Ending the
// system joins CAF's threads, so the process never exits under them (a test
// program that left them running crashed under Wine at exit now and then: a
// SegFault after "[  PASSED  ]").
inline std::unique_ptr<caf::actor_system>& shared_system_slot() {
  static std::unique_ptr<caf::actor_system> sys;
  return sys;
}

inline caf::actor_system& shared_system() {
  auto& sys = shared_system_slot();
  if (!sys) {
    static caf::actor_system_config cfg;
    configure(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  return *sys;
}

// Polls pred (a state that changes without a message, e.g. the runtime's
// list of io actors) until it holds or the timeout passes (then fails loudly).
template <class Pred>
bool eventually(Pred pred, const char* what, std::chrono::milliseconds within = timeout) {
  auto until = std::chrono::steady_clock::now() + within;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) {
      ADD_FAILURE() << "timed out waiting until " << what;
      return false;
    }
    SwitchToThread();
  }
  return true;
}

class runtime_test : public ::testing::Test {
protected:
  void SetUp() override { start(); }

  void TearDown() override {
    if (!rt)
      return;
    auto report = rt->shutdown();
    auto s = rt->core()->stats();
    EXPECT_EQ(s.unexpected, expected_unexpected) << "unexpected or stale packets";
    if (expect_clean_shutdown) {
      // The broker empties its table into the leak list at the end, so the
      // table's size proves nothing here: the leak count and the number of
      // operations and waits still alive do.
      EXPECT_EQ(report.leaked, 0u);
      EXPECT_EQ(report.actors_killed, 0u);
      // An io actor that started while shutdown ran stops itself (the
      // runtime could not know it yet) and may free its operations just
      // after shutdown returned: wait for that, bounded; a leak still fails.
      auto released = [&] {
        return io::operation::live_count() == live_operations_at_start
               && io::wait_registration::live_count() == live_waits_at_start;
      };
      if (!released())
        eventually(released, "operations and waits are released after a clean shutdown", std::chrono::seconds(5));
      EXPECT_EQ(io::operation::live_count(), live_operations_at_start) << "operations alive after a clean shutdown";
      EXPECT_EQ(io::wait_registration::live_count(), live_waits_at_start)
        << "wait registrations alive after a clean shutdown";
      EXPECT_EQ(io::wait_registration::slots_lent(), slots_lent_at_start)
        << "an acknowledgement slot still lent after a clean shutdown";
    }
    rt.reset();
  }

  // from_env: the placement comes from the ctest entry (IOCAF_TEST_ON_WORKERS);
  // as_given: a test about one placement keeps the one it set.
  enum class placement { from_env, as_given };

  void start(runtime_options opts = {}, placement where = placement::from_env) {
    sys = &shared_system();
    live_operations_at_start = io::operation::live_count();
    live_waits_at_start = io::wait_registration::live_count();
    slots_lent_at_start = io::wait_registration::slots_lent(); // a leaked wait keeps its slot
    // IOCAF_TEST_ON_WORKERS=1 runs a suite with the actors a completion wakes
    // on CAF's workers (the runtime's other placement; ctest runs every suite
    // both ways).
    if (const char* v = std::getenv("IOCAF_TEST_ON_WORKERS");
        where == placement::from_env && v != nullptr && std::string{v} == "1")
      opts.broker_runs_actors = false;
    rt = std::make_unique<runtime>(*sys, opts);
  }

  // A test about one placement: replaces the fixture's runtime (without the
  // teardown's checks) by one with the actors on the broker's thread or on
  // CAF's workers, whatever the ctest entry says.
  void restart_on(bool actors_on_broker, runtime_options opts = {}) {
    rt.reset();
    opts.broker_runs_actors = actors_on_broker;
    start(opts, placement::as_given);
  }

  io_core& core() { return *rt->core(); }

  caf::actor_system* sys = nullptr;
  std::unique_ptr<runtime> rt;
  bool expect_clean_shutdown = true;
  std::uint64_t expected_unexpected = 0; // a test that forges a stale packet expects it counted
  std::int64_t live_operations_at_start = 0;
  std::int64_t live_waits_at_start = 0;
  std::int64_t slots_lent_at_start = 0;
};

// Receives one message of type T within the timeout, or fails the test.
template <class T>
std::optional<T> receive_one(caf::scoped_actor& self, std::chrono::milliseconds within = timeout) {
  std::optional<T> out;
  self->receive([&](T& x) { out = std::move(x); },
                caf::after(within) >> [&] { ADD_FAILURE() << "timed out waiting for a message"; });
  return out;
}

// One overlapped read from a test thread, waiting at most `within`.
// Returns the Win32 code (0: data, ERROR_BROKEN_PIPE: the server closed it) and the bytes.
inline std::pair<unsigned long, std::string> read_blocking(HANDLE h, std::size_t max_bytes = 64 * 1024,
                                                           std::chrono::milliseconds within = timeout) {
  std::string buf(max_bytes, '\0');
  OVERLAPPED ov{};
  ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  unsigned long rc = 0;
  if (!ReadFile(h, buf.data(), static_cast<DWORD>(buf.size()), nullptr, &ov))
    rc = GetLastError() == ERROR_IO_PENDING ? 0 : GetLastError();
  DWORD got = 0;
  if (rc == 0) {
    if (WaitForSingleObject(ov.hEvent, static_cast<DWORD>(within.count())) != WAIT_OBJECT_0) {
      CancelIoEx(h, &ov);
      GetOverlappedResult(h, &ov, &got, TRUE);
      rc = WAIT_TIMEOUT;
    } else if (!GetOverlappedResult(h, &ov, &got, TRUE)) {
      rc = GetLastError();
    }
  }
  CloseHandle(ov.hEvent);
  buf.resize(rc == 0 ? got : 0);
  return {rc, buf};
}

// Writes all of data to an overlapped handle from a non-actor thread,
// waiting at most `within`. Returns the Win32 code (0 on success).
inline unsigned long write_blocking(HANDLE h, const std::string& data,
                                    std::chrono::milliseconds within = timeout) {
  OVERLAPPED ov{};
  ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (ov.hEvent == nullptr)
    return GetLastError();
  // An inline failure never signals the event, so its result is not waited
  // for (that hung: ERROR_NO_DATA once the reader's end was closed).
  unsigned long rc = 0;
  DWORD written = 0;
  bool done_at_once = WriteFile(h, data.data(), static_cast<DWORD>(data.size()), nullptr, &ov) != 0;
  if (!done_at_once && GetLastError() != ERROR_IO_PENDING) {
    rc = GetLastError();
  } else {
    if (WaitForSingleObject(ov.hEvent, static_cast<DWORD>(within.count())) != WAIT_OBJECT_0) {
      CancelIoEx(h, &ov);
      rc = WAIT_TIMEOUT;
    }
    if (!GetOverlappedResult(h, &ov, &written, TRUE) && rc == 0)
      rc = GetLastError();
  }
  CloseHandle(ov.hEvent);
  if (rc == 0 && written != data.size())
    rc = ERROR_WRITE_FAULT;
  return rc;
}

// Completes ConnectNamedPipe for a server instance whose client already
// opened it (the ERROR_PIPE_CONNECTED case); returns the Win32 code.
inline unsigned long accept_connected_client(HANDLE server) {
  OVERLAPPED ov{};
  if (ConnectNamedPipe(server, &ov))
    return 0;
  auto code = GetLastError();
  return code == ERROR_PIPE_CONNECTED ? 0 : code;
}

// A connected pipe: an overlapped server end associated with the port and
// an overlapped client end (not associated: tests drive it directly).
struct pipe_pair {
  io::unique_handle server;
  io::unique_handle client;
};

inline std::string unique_pipe_name(const char* what) {
  static std::atomic<int> counter{0};
  return std::string("iocaf-test-") + what + "-" + std::to_string(GetCurrentProcessId()) + "-"
         + std::to_string(counter.fetch_add(1));
}

inline std::optional<pipe_pair> make_pipe_pair(io_core& core, const char* what = "pair",
                                               DWORD buffer_size = 64 * 1024) {
  auto name = unique_pipe_name(what);
  io::pipe_instance_options opts;
  opts.buffer_size = buffer_size;
  auto server = io::create_pipe_instance(name, opts);
  if (!server) {
    ADD_FAILURE() << server.err().to_string();
    return std::nullopt;
  }
  auto client = io::open_pipe_client(name);
  if (!client) {
    ADD_FAILURE() << client.err().to_string();
    return std::nullopt;
  }
  if (auto code = accept_connected_client(server->get())) {
    ADD_FAILURE() << io::error("ConnectNamedPipe", code).to_string();
    return std::nullopt;
  }
  if (auto err = core.port.associate(server->get())) {
    ADD_FAILURE() << err.to_string();
    return std::nullopt;
  }
  return pipe_pair{std::move(*server), std::move(*client)};
}

// Polls the broker's counters until pred holds or the timeout passes (then
// fails loudly). For effects that produce no message, like orphan releases.
template <class Pred>
bool wait_for_stats(runtime& rt, Pred pred, std::chrono::milliseconds within = timeout) {
  auto until = std::chrono::steady_clock::now() + within;
  for (;;) {
    auto s = rt.stats();
    if (pred(s))
      return true;
    if (std::chrono::steady_clock::now() >= until) {
      ADD_FAILURE() << "timed out waiting for broker stats: inflight=" << s.inflight
                    << " orphans=" << s.orphans_released << " completions=" << s.completions
                    << " live_operations=" << s.live_operations << " pending_waits=" << s.pending_waits;
      return false;
    }
    SwitchToThread();
  }
}

// A client that keeps a conversation going on its own thread while the test
// floods a server, and 20 exchanges more after the flood: proof that the
// server kept serving throughout. round_trip(i) returns "" or what failed.
class talker {
public:
  explicit talker(std::function<std::string(int)> round_trip)
    : thread_([this, rt = std::move(round_trip)] {
        for (int i = 0, after = 0; after < 20; ++i) {
          if (flood_over_)
            ++after;
          failure_ = rt(i);
          if (!failure_.empty())
            return;
          ++echoes_;
        }
      }) {}
  ~talker() { stop(); }

  // Ends the flood; returns once the talker is done.
  void stop() {
    flood_over_ = true;
    if (thread_.joinable())
      thread_.join();
  }
  const std::string& failure() const { return failure_; }
  int echoes() const { return echoes_.load(); }

private:
  std::atomic<bool> flood_over_{false};
  std::atomic<int> echoes_{0};
  std::string failure_;
  std::thread thread_; // last: starts once the rest is constructed
};

} // namespace iocaf::test
