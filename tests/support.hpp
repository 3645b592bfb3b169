#pragma once
// Test support: an actor system with an iocaf runtime per test, and helpers
// that wait for messages with bounded timeouts that fail loudly.
#include "actors/runtime.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>

namespace iocaf::test {

constexpr auto timeout = std::chrono::seconds(30);

class runtime_test : public ::testing::Test {
protected:
  void SetUp() override { start(); }

  void TearDown() override {
    if (!rt)
      return;
    auto report = rt->shutdown();
    auto s = rt->core()->stats();
    EXPECT_EQ(s.unexpected, 0u) << "unexpected packets";
    if (expect_clean_shutdown) {
      EXPECT_EQ(report.leaked, 0u);
      EXPECT_EQ(report.actors_killed, 0u);
      EXPECT_EQ(s.inflight, 0);
    }
    rt.reset();
    sys.reset();
  }

  void start(runtime_options opts = {}) {
    configure(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    rt = std::make_unique<runtime>(*sys, opts);
  }

  io_core& core() { return *rt->core(); }

  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<runtime> rt;
  bool expect_clean_shutdown = true;
};

// Receives one message of type T within the timeout, or fails the test.
template <class T>
std::optional<T> receive_one(caf::scoped_actor& self, std::chrono::milliseconds within = timeout) {
  std::optional<T> out;
  self->receive([&](T& x) { out = std::move(x); },
                caf::after(within) >> [&] { ADD_FAILURE() << "timed out waiting for a message"; });
  return out;
}

// Writes all of data to an overlapped handle from a non-actor thread,
// waiting at most `within`. Returns the Win32 code (0 on success).
inline unsigned long write_blocking(HANDLE h, const std::string& data,
                                    std::chrono::milliseconds within = timeout) {
  OVERLAPPED ov{};
  ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (ov.hEvent == nullptr)
    return GetLastError();
  unsigned long rc = 0;
  if (!WriteFile(h, data.data(), static_cast<DWORD>(data.size()), nullptr, &ov))
    rc = GetLastError() == ERROR_IO_PENDING ? 0 : GetLastError();
  if (rc == 0 && WaitForSingleObject(ov.hEvent, static_cast<DWORD>(within.count())) != WAIT_OBJECT_0) {
    CancelIoEx(h, &ov);
    rc = WAIT_TIMEOUT;
  }
  DWORD written = 0;
  if (!GetOverlappedResult(h, &ov, &written, TRUE) && rc == 0)
    rc = GetLastError();
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

} // namespace iocaf::test
