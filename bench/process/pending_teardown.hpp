#pragma once
// An io actor with 64 operations pending, from the exit message to its DOWN:
// every operation cancelled and acknowledged, every wait unregistered and
// acknowledged (the cancel protocol), against the same Win32 calls made by
// hand on one thread (one CancelIoEx(h, NULL) for the reads, which share one
// handle, as the actor's does; GetQueuedCompletionStatusEx for their
// packets; a blocking UnregisterWaitEx per wait). Part of bench_process because a
// process actor's teardown runs the same protocol.
#include "actors/core/io_actor.hpp"
#include "actors/core/runtime.hpp"
#include "io/process.hpp"
#include "percentile.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace iocaf::bench {

using held_atom = caf::atom_constant<caf::atom("held")>;

struct holder_state {
  io::unique_handle reads_from; // the overlapped end of a pipe nobody writes to
  io::unique_handle writer;
  std::vector<io::unique_handle> events; // waited on, never set
  owned_operations ops;                  // last: released first
};

[[noreturn]] inline void bench_fail(const io::error& e) {
  std::fprintf(stderr, "pending teardown: %s\n", e.to_string().c_str());
  std::exit(1);
}

inline caf::behavior holder(caf::stateful_actor<holder_state>* self, std::shared_ptr<io_core> core, int reads, int waits,
                     caf::actor observer) {
  install_cancel_protocol(self, core);
  auto& st = self->state;
  auto pipe = io::create_stdio_pipe(true, 4096);
  if (!pipe)
    bench_fail(pipe.err());
  st.reads_from = std::move(pipe->parent);
  st.writer = std::move(pipe->child);
  if (auto err = core->port.associate(st.reads_from.get()))
    bench_fail(err);
  for (int i = 0; i < reads; ++i) {
    auto op = st.ops.make(io::op_kind::read, 32);
    if (auto code = st.ops.start(op, st.reads_from.get(), [](io::operation& o) { return io::start_read(o, o.target(), 32); }))
      bench_fail(io::error("ReadFile", code));
  }
  for (int i = 0; i < waits; ++i) {
    st.events.emplace_back(CreateEventW(nullptr, TRUE, FALSE, nullptr));
    if (!st.events.back())
      bench_fail(io::last_error("CreateEventW"));
    if (auto w = st.ops.watch(st.events.back().get()); !w)
      bench_fail(w.err());
  }
  self->send(observer, held_atom::value);
  return {[=](const io_completed& msg) { self->state.ops.complete(msg); }};
}

// Milliseconds from send_exit to DOWN, one actor at a time.
inline std::vector<double> actor_pending_teardown(caf::actor_system& sys, runtime& rt, int reads, int waits,
                                                  int rounds) {
  std::vector<double> ms;
  caf::scoped_actor self{sys};
  auto fail = [](const char* what) {
    std::fprintf(stderr, "pending teardown: %s\n", what);
    std::exit(1);
  };
  for (int i = 0; i < rounds; ++i) {
    auto h = sys.spawn(holder, rt.core(), reads, waits, caf::actor{self});
    self->monitor(h);
    self->receive([](held_atom) {}, caf::after(std::chrono::seconds(30)) >> [&] { fail("holder not ready"); });
    auto t0 = std::chrono::steady_clock::now();
    self->send_exit(h, caf::exit_reason::user_shutdown);
    self->receive([](caf::down_msg&) {}, caf::after(std::chrono::seconds(30)) >> [&] { fail("no DOWN"); });
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return ms;
}

inline void CALLBACK ignore_wait(void*, BOOLEAN) {}

// The same teardown by hand: cancel the reads and dequeue their packets from
// a port of our own; unregister each wait, blocking until its callback cannot run.
inline std::vector<double> raw_pending_teardown(int reads, int waits, int rounds) {
  std::vector<double> ms;
  for (int i = 0; i < rounds; ++i) {
    auto port = io::completion_port::create();
    auto pipe = io::create_stdio_pipe(true, 4096);
    if (!port)
      bench_fail(port.err());
    if (!pipe)
      bench_fail(pipe.err());
    if (auto err = port->associate(pipe->parent.get()))
      bench_fail(err);
    std::vector<OVERLAPPED> ovs(static_cast<std::size_t>(reads));
    std::vector<char> buf(32 * ovs.size());
    for (std::size_t r = 0; r < ovs.size(); ++r)
      if (!ReadFile(pipe->parent.get(), buf.data() + 32 * r, 32, nullptr, &ovs[r]) && GetLastError() != ERROR_IO_PENDING)
        bench_fail(io::last_error("ReadFile"));
    std::vector<io::unique_handle> events;
    std::vector<HANDLE> registered;
    for (int w = 0; w < waits; ++w) {
      events.emplace_back(CreateEventW(nullptr, TRUE, FALSE, nullptr));
      HANDLE wait = nullptr;
      if (!RegisterWaitForSingleObject(&wait, events.back().get(), &ignore_wait, nullptr, INFINITE,
                                       WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD))
        bench_fail(io::last_error("RegisterWaitForSingleObject"));
      registered.push_back(wait);
    }
    auto t0 = std::chrono::steady_clock::now();
    if (!CancelIoEx(pipe->parent.get(), nullptr))
      bench_fail(io::last_error("CancelIoEx"));
    for (HANDLE w : registered)
      if (!UnregisterWaitEx(w, INVALID_HANDLE_VALUE))
        bench_fail(io::last_error("UnregisterWaitEx"));
    std::size_t got = 0;
    OVERLAPPED_ENTRY entries[64];
    while (got < ovs.size()) {
      auto n = port->dequeue(entries, 64, 30000);
      if (!n)
        bench_fail(n.err());
      if (*n == 0)
        bench_fail(io::error("GetQueuedCompletionStatusEx (no packet in 30 s)", WAIT_TIMEOUT));
      got += *n;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return ms;
}

inline void print_pending_teardown(caf::actor_system& sys, runtime& rt, int rounds) {
  std::printf("\nan io actor with 64 pending operations, exit message to DOWN (%d rounds; ms; goal: under 5)\n", rounds);
  std::printf("%-22s %9s %9s %9s %9s %12s\n", "operations", "raw p50", "raw p99", "actor p50", "actor p99",
              "actor/raw p50");
  struct mix {
    const char* name;
    int reads, waits;
  };
  for (auto m : {mix{"64 reads", 64, 0}, mix{"48 reads + 16 waits", 48, 16}}) {
    auto raw = raw_pending_teardown(m.reads, m.waits, rounds);
    auto actor = actor_pending_teardown(sys, rt, m.reads, m.waits, rounds);
    double raw50 = percentile(raw, 0.5);
    double actor50 = percentile(actor, 0.5);
    std::printf("%-22s %9.2f %9.2f %9.2f %9.2f %12.2f\n", m.name, raw50, percentile(raw, 0.99), actor50,
                percentile(actor, 0.99), actor50 / raw50);
  }
}

} // namespace iocaf::bench
