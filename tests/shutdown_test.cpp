// Bounded, honest shutdown (DESIGN.md §2.7): stopping with operations pending
// neither hangs nor frees live memory; what cannot finish is named and leaked.
#include "actors/io_actor.hpp"
#include "support.hpp"

using namespace iocaf;

namespace {

using ready_atom = caf::atom_constant<caf::atom("ready")>;

struct reads_state {
  io::unique_handle server;
  io::unique_handle client;
  owned_operations ops;
};

// K reads pending on a fresh pipe (real I/O: CancelIoEx completes them).
caf::behavior pending_reads(caf::stateful_actor<reads_state>* self, std::shared_ptr<io_core> core, int k,
                            caf::actor observer) {
  install_cancel_protocol(self, core);
  auto pipe = test::make_pipe_pair(*core, "shutdown");
  if (!pipe) {
    self->quit(make_error(errc::win32, "pipe"));
    return {};
  }
  self->state.server = std::move(pipe->server);
  self->state.client = std::move(pipe->client);
  for (int i = 0; i < k; ++i) {
    auto op = self->state.ops.make(io::op_kind::read, 16);
    self->state.ops.start(op, self->state.server.get(), [](io::operation& o) { return io::start_read(o, o.target(), 16); });
  }
  self->send(observer, ready_atom::value);
  return {[=](const io_completed& msg) { self->state.ops.complete(msg); }};
}

// K operations no packet will ever come for (a driver that ignores cancel).
caf::behavior stuck(caf::stateful_actor<reads_state>* self, std::shared_ptr<io_core> core, int k,
                    caf::actor observer) {
  install_cancel_protocol(self, core);
  for (int i = 0; i < k; ++i) {
    auto op = self->state.ops.make(io::op_kind::user);
    self->state.ops.start(op, nullptr, [](io::operation&) { return 0ul; });
  }
  self->send(observer, ready_atom::value);
  return {[=](const io_completed& msg) { self->state.ops.complete(msg); }};
}

class shutdown : public test::runtime_test {
protected:
  void SetUp() override {} // each test starts its own runtime with its own bound

  void await_ready(caf::scoped_actor& self, int n) {
    for (int i = 0; i < n; ++i)
      self->receive([](ready_atom) {}, caf::after(test::timeout) >> [] { ADD_FAILURE() << "not ready"; });
  }
};

TEST_F(shutdown, io_actors_drain_before_the_broker_stops) {
  start(runtime_options{std::chrono::milliseconds(5000)});
  {
    caf::scoped_actor self{*sys};
    for (int i = 0; i < 4; ++i)
      sys->spawn(pending_reads, rt->core(), 8, caf::actor{self});
    await_ready(self, 4);
  }
  EXPECT_EQ(rt->stats().inflight, 32);
  auto report = rt->shutdown();
  EXPECT_EQ(report.actors_stopped, 4u);
  EXPECT_EQ(report.actors_killed, 0u);
  EXPECT_EQ(report.leaked, 0u);
  EXPECT_LT(report.took.count(), 5000);
  std::printf("shutdown with 32 pending reads in 4 actors: %lld ms\n", static_cast<long long>(report.took.count()));
}

TEST_F(shutdown, bounded_when_operations_never_complete) {
  constexpr auto bound = std::chrono::milliseconds(500);
  start(runtime_options{bound});
  expect_clean_shutdown = false; // leaking is the expected, honest outcome here
  std::vector<std::uint64_t> ids;
  {
    caf::scoped_actor self{*sys};
    sys->spawn(stuck, rt->core(), 5, caf::actor{self});
    sys->spawn(pending_reads, rt->core(), 3, caf::actor{self});
    await_ready(self, 2);
    for (auto& e : rt->core()->table.snapshot())
      if (e.op->kind() == io::op_kind::user)
        ids.push_back(e.op->id());
  }
  ASSERT_EQ(ids.size(), 5u);
  auto start_time = std::chrono::steady_clock::now();
  auto report = rt->shutdown();
  auto took = std::chrono::steady_clock::now() - start_time;
  EXPECT_LT(took, bound + std::chrono::seconds(3)) << "shutdown not bounded";
  EXPECT_EQ(report.actors_stopped, 1u); // the one with real reads
  EXPECT_EQ(report.actors_killed, 1u);  // the stuck one
  EXPECT_EQ(report.leaked, 5u);
  ASSERT_EQ(report.leaked_operations.size(), 5u);
  for (auto id : ids) {
    bool named = false;
    for (auto& line : report.leaked_operations)
      named = named || line.find("op#" + std::to_string(id) + " ") != std::string::npos;
    EXPECT_TRUE(named) << "op#" << id << " missing from the leak report";
  }
  EXPECT_EQ(rt->core()->stats().unexpected, 0u);
}

} // namespace
