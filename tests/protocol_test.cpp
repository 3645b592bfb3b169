// The cancel protocol (DESIGN.md §2.4, §2.5): an io actor terminated with K
// pending operations goes only after K acknowledgements, with the original
// reason; killed without the protocol, its operations become orphans that
// the broker releases when their packets arrive.
#include "actors/core/io_actor.hpp"
#include "actors/core/io_broker.hpp"
#include "io/socket.hpp"
#include "support.hpp"

#include <atomic>
#include <thread>
#include <vector>

using namespace iocaf;

namespace {

using ready_atom = caf::atom_constant<caf::atom("ready")>;
using fail_atom = caf::atom_constant<caf::atom("fail")>;

// An io actor with K reads pending on a pipe nobody writes to.
struct holder_state {
  io::unique_handle server;
  io::unique_handle client;
  owned_operations ops; // after the handles: destroyed (and cancelled) first
};

caf::behavior holder(caf::stateful_actor<holder_state>* self, std::shared_ptr<io_core> core, int k,
                     caf::actor observer) {
  install_cancel_protocol(self, core);
  auto fail = [=](const io::error& e) {
    self->send(observer, make_error(e));
    self->quit(make_error(e));
  };
  auto name = test::unique_pipe_name("holder");
  auto server = io::create_pipe_instance(name, {});
  if (!server)
    return fail(server.err()), caf::behavior{};
  auto client = io::open_pipe_client(name);
  if (!client)
    return fail(client.err()), caf::behavior{};
  self->state.server = std::move(*server);
  self->state.client = std::move(*client);
  if (auto code = test::accept_connected_client(self->state.server.get()))
    return fail(io::error("ConnectNamedPipe", code)), caf::behavior{};
  if (auto err = core->port.associate(self->state.server.get()))
    return fail(err), caf::behavior{};
  for (int i = 0; i < k; ++i) {
    auto op = self->state.ops.make(io::op_kind::read, 32);
    auto code = self->state.ops.start(op, self->state.server.get(),
                                      [](io::operation& o) { return io::start_read(o, o.target(), 32); });
    if (code != 0)
      return fail(io::error("ReadFile", code)), caf::behavior{};
  }
  self->send(observer, ready_atom::value, static_cast<int>(self->state.ops.pending()));
  return {
    [=](const io_completed& msg) { self->state.ops.complete(msg); },
    [=](close_atom) { shut_down(self, caf::exit_reason::normal); },
    [=](fail_atom) { shut_down(self, make_error(errc::bad_input, "the holder's own error")); },
  };
}

enum class ending { link_exit, close_message, own_error };

class protocol : public test::runtime_test,
                 public ::testing::WithParamInterface<std::tuple<int, ending>> {};

void expect_ready(caf::scoped_actor& self, int k) {
  bool ok = false;
  self->receive([&](ready_atom, int pending) { ok = pending == k; },
                [&](caf::error& e) { ADD_FAILURE() << describe(e); },
                caf::after(test::timeout) >> [] { ADD_FAILURE() << "holder not ready"; });
  ASSERT_TRUE(ok);
}

// Ends holder h the way `how` says; returns the reason its DOWN must carry.
caf::error end_holder(caf::scoped_actor& self, const caf::actor& h, ending how) {
  auto& sys = self->home_system();
  caf::error expected;
  switch (how) {
    case ending::link_exit: {
      // A linked actor dies with a reason of its own; the holder inherits it.
      expected = make_error(errc::bad_input, "linked peer failed");
      auto peer = sys.spawn([=](caf::event_based_actor* p) -> caf::behavior {
        p->link_to(h);
        return {[=](fail_atom) { p->quit(expected); }};
      });
      self->send(peer, fail_atom::value);
      break;
    }
    case ending::close_message:
      expected = caf::exit_reason::normal;
      self->send(h, close_atom::value);
      break;
    case ending::own_error:
      expected = make_error(errc::bad_input, "the holder's own error");
      self->send(h, fail_atom::value);
      break;
  }
  return expected;
}

// Spawns a holder with K operations pending, ends it the way `how` says and
// checks its DOWN carries the reason and comes only after `acknowledgements`
// completions were delivered (none released as an orphan).
template <class Holder>
void expect_down_after_acknowledgements(runtime& rt, Holder holder_fn, int k, ending how,
                                        std::uint64_t acknowledgements) {
  auto& sys = rt.system();
  auto base = rt.stats();
  caf::scoped_actor self{sys};
  auto h = sys.spawn(holder_fn, rt.core(), k, caf::actor{self});
  self->monitor(h);
  expect_ready(self, k);
  ASSERT_EQ(rt.stats().inflight, k) << "some operation completed before the holder ended";
  caf::error expected = end_holder(self, h, how);
  bool down = false;
  self->receive(
    [&](caf::down_msg& dm) {
      down = true;
      EXPECT_EQ(dm.reason, expected) << describe(dm.reason);
      auto s = rt.stats();
      EXPECT_EQ(s.completions - base.completions, acknowledgements);
      EXPECT_EQ(s.orphans_released - base.orphans_released, 0u);
      EXPECT_EQ(s.inflight, 0);
      EXPECT_EQ(s.pending_waits, base.pending_waits) << "a wait registration outlived its owner";
    },
    caf::after(test::timeout) >> [] { ADD_FAILURE() << "no DOWN"; });
  ASSERT_TRUE(down);
  EXPECT_EQ(rt.stats().live_operations, base.live_operations);
}

// The holder quits only after its K acknowledgements were delivered.
TEST_P(protocol, down_only_after_every_acknowledgement) {
  auto [k, how] = GetParam();
  expect_down_after_acknowledgements(*rt, holder, k, how, static_cast<std::uint64_t>(k));
}

INSTANTIATE_TEST_SUITE_P(k_pending, protocol,
                         ::testing::Combine(::testing::Values(1, 8, 64),
                                            ::testing::Values(ending::link_exit, ending::close_message,
                                                              ending::own_error)));

// An io actor with K operations of every kind pending at once: K/4 reads
// (nobody writes), K/4 writes (larger than the pipe's buffer, nobody reads),
// K/4 accepts (nobody connects) and K/4 process-style waits (events nobody
// sets).
struct mixed_state {
  io::unique_handle read_server, read_client, write_server, write_client;
  io::unique_socket listener;
  std::vector<io::unique_socket> accepted;
  std::vector<io::unique_handle> events;
  owned_operations ops; // after every handle and socket: released first
};

caf::behavior mixed_holder(caf::stateful_actor<mixed_state>* self, std::shared_ptr<io_core> core, int k,
                           caf::actor observer) {
  install_cancel_protocol(self, core);
  auto& st = self->state;
  auto fail = [=](const io::error& e) {
    self->send(observer, make_error(e));
    self->quit(make_error(e));
    return caf::behavior{};
  };
  auto reads = test::make_pipe_pair(*core, "mixed-read");
  auto writes = test::make_pipe_pair(*core, "mixed-write", 4096);
  if (!reads || !writes)
    return fail(io::error("pipe pair", ERROR_INVALID_HANDLE));
  st.read_server = std::move(reads->server);
  st.read_client = std::move(reads->client);
  st.write_server = std::move(writes->server);
  st.write_client = std::move(writes->client);
  if (auto err = io::winsock_init())
    return fail(err);
  auto addr = io::parse_address("127.0.0.1", 0);
  auto listener = io::open_tcp_socket(AF_INET);
  if (!listener)
    return fail(listener.err());
  st.listener = std::move(*listener);
  if (auto err = io::bind_socket(st.listener.get(), *addr))
    return fail(err);
  if (auto err = io::listen_socket(st.listener.get(), 16))
    return fail(err);
  if (auto err = core->port.associate(st.listener.handle()))
    return fail(err);
  for (int i = 0; i < k / 4; ++i) {
    auto read = st.ops.make(io::op_kind::read, 32);
    if (auto code = st.ops.start(read, st.read_server.get(), [](io::operation& o) { return io::start_read(o, o.target(), 32); }))
      return fail(io::error("ReadFile", code));
    auto write = st.ops.make(io::op_kind::write, 64 * 1024);
    if (auto code = st.ops.start(write, st.write_server.get(), [](io::operation& o) { return io::start_write(o, o.target(), o.buffer().size()); }))
      return fail(io::error("WriteFile", code));
    auto sock = io::open_tcp_socket(AF_INET);
    if (!sock)
      return fail(sock.err());
    auto accept = st.ops.make(io::op_kind::accept);
    SOCKET l = st.listener.get();
    SOCKET a = sock->get();
    st.accepted.push_back(std::move(*sock));
    if (auto code = st.ops.start(accept, st.listener.handle(), [l, a](io::operation& o) { return io::start_accept(o, l, a); }))
      return fail(io::error("AcceptEx", code));
    st.events.emplace_back(CreateEventW(nullptr, TRUE, FALSE, nullptr));
    if (!st.events.back())
      return fail(io::last_error("CreateEventW"));
    if (auto w = st.ops.watch(st.events.back().get()); !w)
      return fail(w.err());
  }
  self->send(observer, ready_atom::value, static_cast<int>(st.ops.pending()));
  return {
    [=](const io_completed& msg) { self->state.ops.complete(msg); },
    [=](close_atom) { shut_down(self, caf::exit_reason::normal); },
    [=](fail_atom) { shut_down(self, make_error(errc::bad_input, "the holder's own error")); },
  };
}

class protocol_mixed : public protocol {};

// Every operation acknowledged before the DOWN: one completion per read,
// write and accept; two per wait (its fired operation, aborted, and the
// unregistration's acknowledgement).
TEST_P(protocol_mixed, down_only_after_every_acknowledgement_of_reads_writes_accepts_and_waits) {
  auto [k, how] = GetParam();
  expect_down_after_acknowledgements(*rt, mixed_holder, k, how, static_cast<std::uint64_t>(k / 4 * 5));
}

INSTANTIATE_TEST_SUITE_P(k_pending, protocol_mixed,
                         ::testing::Combine(::testing::Values(4, 64),
                                            ::testing::Values(ending::link_exit, ending::close_message,
                                                              ending::own_error)));

// A scheduled io actor whose K reads race with data (the asyncio races with a
// scheduled owner, so ctest runs them on CAF's workers and, with
// broker_runs_actors, on the broker's own thread): a writer thread feeds
// bytes while the actor is ended; each read that completes with data is
// started again (the same operation, so its OVERLAPPED is reused) until the
// actor closes. A read may complete with data after the cancel was asked,
// and its packet may be queued when CancelIoEx finds nothing to cancel: the
// actor must still wait for it.
struct racer_state {
  std::shared_ptr<io::unique_handle> server;
  owned_operations ops; // after the handle: destroyed (and cancelled) first
};

void start_racing_read(caf::stateful_actor<racer_state>* self, const io::operation_ptr& op) {
  self->state.ops.launch(op, self->state.server->get(),
                         [](io::operation& o) { return io::start_read(o, o.target(), 32); });
}

caf::behavior racer(caf::stateful_actor<racer_state>* self, std::shared_ptr<io_core> core, int k,
                    caf::actor observer, std::shared_ptr<io::unique_handle> server) {
  install_cancel_protocol(self, core);
  self->state.server = std::move(server);
  for (int i = 0; i < k; ++i)
    start_racing_read(self, self->state.ops.make(io::op_kind::read, 32));
  self->send(observer, ready_atom::value, static_cast<int>(self->state.ops.pending()));
  return {
    [=](const io_completed& msg) {
      auto c = self->state.ops.complete(msg);
      if (c && c->error == 0 && c->bytes > 0)
        start_racing_read(self, c->op);
    },
    [=](close_atom) { shut_down(self, caf::exit_reason::normal); },
    [=](fail_atom) { shut_down(self, make_error(errc::bad_input, "the holder's own error")); },
  };
}

class protocol_race : public test::runtime_test {};

TEST_F(protocol_race, scheduled_owner_ended_while_data_completes_its_reads_goes_only_after_every_acknowledgement) {
  constexpr int k = 64;
  const int rounds = 400 * test::soak_factor();
  const ending endings[] = {ending::close_message, ending::link_exit, ending::own_error};
  std::uint64_t completions = 0;
  std::uint64_t writes = 0;
  caf::scoped_actor self{*sys};
  for (int round = 0; round < rounds; ++round) {
    auto pipe = test::make_pipe_pair(core(), "racer");
    ASSERT_TRUE(pipe);
    auto base = rt->stats();
    auto h = sys->spawn(racer, rt->core(), k, caf::actor{self},
                        std::make_shared<io::unique_handle>(std::move(pipe->server)));
    self->monitor(h);
    expect_ready(self, k);
    // Writes until told to stop or the actor's end of the pipe is gone.
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> written{0};
    std::thread writer([&] {
      while (!stop.load() && test::write_blocking(pipe->client.get(), "r") == 0)
        written.fetch_add(1);
    });
    // End it after 0 to 15 bytes, so the end falls at different points of the race.
    auto want = static_cast<std::uint64_t>(round % 16);
    auto until = std::chrono::steady_clock::now() + test::timeout;
    while (written.load() < want && std::chrono::steady_clock::now() < until)
      SwitchToThread();
    EXPECT_GE(written.load(), want) << "round " << round << ": the writer stopped early";
    caf::error expected = end_holder(self, h, endings[round % 3]);
    bool down = false;
    self->receive(
      [&](caf::down_msg& dm) {
        down = true;
        auto s = rt->stats();
        EXPECT_EQ(dm.reason, expected) << describe(dm.reason);
        EXPECT_EQ(s.inflight, 0) << "round " << round << ": the actor went with operations in flight";
        EXPECT_EQ(s.orphans_released - base.orphans_released, 0u) << "round " << round;
        EXPECT_EQ(s.unexpected - base.unexpected, 0u) << "round " << round;
        EXPECT_GE(s.completions - base.completions, static_cast<std::uint64_t>(k)) << "round " << round;
        completions += s.completions - base.completions;
      },
      caf::after(test::timeout) >> [] { ADD_FAILURE() << "no DOWN"; });
    stop = true;
    writer.join();
    writes += written.load();
    ASSERT_TRUE(down) << "round " << round;
    EXPECT_EQ(rt->stats().live_operations, base.live_operations) << "round " << round;
    if (HasFailure())
      break;
  }
  std::printf("protocol_race: %d scheduled owners with %d reads each, ended while %llu bytes raced in: "
              "%llu completions, 0 orphans, 0 unexpected\n",
              rounds, k, static_cast<unsigned long long>(writes), static_cast<unsigned long long>(completions));
}

class abrupt : public test::runtime_test {};

TEST_F(abrupt, kill_with_pending_io_releases_orphans) {
  constexpr int k = 16;
  auto base = rt->stats();
  caf::scoped_actor self{*sys};
  auto h = sys->spawn(holder, rt->core(), k, caf::actor{self});
  self->monitor(h);
  expect_ready(self, k);
  self->send_exit(h, caf::exit_reason::kill);
  self->receive([&](caf::down_msg& dm) { EXPECT_EQ(dm.reason, caf::error{caf::exit_reason::kill}); },
                caf::after(test::timeout) >> [] { ADD_FAILURE() << "no DOWN after kill"; });
  ASSERT_TRUE(test::wait_for_stats(*rt, [&](const broker_stats& s) {
    return s.orphans_released - base.orphans_released == k && s.inflight == 0;
  }));
  auto s = rt->stats();
  EXPECT_EQ(s.unexpected, 0u);
  EXPECT_EQ(s.live_operations, base.live_operations);
}

TEST_F(abrupt, draining_actor_refuses_requests) {
  // An operation that never completes keeps the holder draining; a request
  // in that state gets errc::closing at once instead of hanging.
  caf::scoped_actor self{*sys};
  auto h = sys->spawn([core = rt->core()](caf::stateful_actor<holder_state>* s) -> caf::behavior {
    install_cancel_protocol(s, core);
    auto op = s->state.ops.make(io::op_kind::user);
    s->state.ops.start(op, nullptr, [](io::operation&) { return 0ul; }); // no packet until we post one
    return {[=](const io_completed& msg) { s->state.ops.complete(msg); },
            [=](close_atom) { shut_down(s, caf::exit_reason::normal); }};
  });
  self->send(h, close_atom::value);
  self->send(h, ready_atom::value); // a plain message: dropped, not answered
  caf::error got;
  self->request(h, test::timeout, ready_atom::value).receive([](ready_atom) { ADD_FAILURE() << "answered"; },
                                                            [&](caf::error& e) { got = e; });
  EXPECT_TRUE(is(got, errc::closing)) << describe(got);
  // An error for the plain message would have arrived before that reply.
  EXPECT_TRUE(self->mailbox().empty()) << "the draining actor answered a plain message";
  // Let it finish: post the packet its operation was waiting for.
  auto ops = rt->core()->table.snapshot();
  ASSERT_EQ(ops.size(), 1u);
  self->monitor(h);
  ASSERT_FALSE(rt->core()->port.post(io::key_io, 0, ops[0].op->overlapped()));
  self->receive([](caf::down_msg&) {}, caf::after(test::timeout) >> [] { ADD_FAILURE() << "no DOWN"; });
}

} // namespace

namespace {

class moved_starts : public test::runtime_test {};

// owned_operations::move_to_broker: a process actor's output reads are issued
// from the thread that dequeues their completions, because under Wine the
// issuing thread runs part of each completion (a worker left them: that
// worker was woken for each). On the broker placement a call off the
// broker's thread posts a packet whose completion runs the owner there; on
// the workers placement (and on the broker's thread) nothing is posted.
TEST_F(moved_starts, move_to_broker_runs_the_owner_next_on_the_broker_thread_and_on_workers_posts_nothing) {
  using moved_atom = caf::atom_constant<caf::atom("moved")>;
  using arrived_atom = caf::atom_constant<caf::atom("arrived")>;
  for (bool on_broker : {true, false}) {
    SCOPED_TRACE(on_broker ? "broker placement" : "workers placement");
    restart_on(on_broker);
    auto core = rt->core();
    caf::scoped_actor self{*sys};
    auto h = sys->spawn([core, dest = caf::actor{self}](caf::stateful_actor<holder_state>* s) -> caf::behavior {
      install_cancel_protocol(s, core);
      auto op = s->state.ops.make(io::op_kind::user);
      bool started_on_broker = std::this_thread::get_id() == core->broker_thread.load();
      bool moved = s->state.ops.move_to_broker(op);
      s->send(dest, moved_atom::value, started_on_broker, moved, core->table.size());
      return {[=](const io_completed& msg) {
        auto c = s->state.ops.complete(msg);
        bool now_on_broker = std::this_thread::get_id() == core->broker_thread.load();
        s->send(dest, arrived_atom::value, c && c->op == op, c ? c->error : 0xFFFFFFFFu, now_on_broker);
      }};
    });
    self->monitor(h);
    bool moved = false;
    self->receive(
      [&](moved_atom, bool started_on_broker, bool m, std::size_t inflight) {
        moved = m;
        EXPECT_FALSE(started_on_broker) << "a spawned actor's first turn ran on the broker's thread";
        EXPECT_EQ(m, on_broker);
        EXPECT_EQ(inflight, on_broker ? 1u : 0u) << "posted packets in flight right after the call";
      },
      caf::after(test::timeout) >> [] { ADD_FAILURE() << "the actor did not start"; });
    if (moved)
      self->receive(
        [&](arrived_atom, bool ours, std::uint32_t error, bool now_on_broker) {
          EXPECT_TRUE(ours);
          EXPECT_EQ(error, 0u);
          EXPECT_TRUE(now_on_broker) << "the owner's turn after the move ran off the broker's thread";
        },
        caf::after(test::timeout) >> [] { ADD_FAILURE() << "the move's packet never arrived"; });
    self->send_exit(h, caf::exit_reason::user_shutdown);
    self->receive([](caf::down_msg&) {}, caf::after(test::timeout) >> [] { ADD_FAILURE() << "no DOWN"; });
    EXPECT_EQ(rt->stats().unexpected, 0u);
  }
}

} // namespace

namespace {

// Sends one word to a test when run; one reference, taken by the unit.
class word_job final : public caf::resumable, public caf::ref_counted {
public:
  word_job(caf::actor dest, std::string word) : dest_(std::move(dest)), word_(std::move(word)) {}
  subtype_t subtype() const override { return function_object; }
  resume_result resume(caf::execution_unit*, size_t) override {
    caf::anon_send(dest_, word_);
    return done;
  }
  void intrusive_ptr_add_ref_impl() override { ref(); }
  void intrusive_ptr_release_impl() override { deref(); }

private:
  caf::actor dest_;
  std::string word_;
};

class broker_unit_order : public test::runtime_test {};

// runs_after_turn on the broker's thread: a job queued with exec_after_turn
// runs once the turn's actors are done, before the port is looked at; one
// queued with exec_after_look (a pipe's next read) only after the broker
// looked at the port again, so a packet already queued then (a pipe write's)
// reaches its owner first.
TEST_F(broker_unit_order, a_job_after_look_runs_after_a_packet_already_queued_and_one_after_turn_before_it) {
  restart_on(true);
  auto core = rt->core();
  caf::scoped_actor self{*sys};
  auto h = sys->spawn([core, dest = caf::actor{self}](caf::stateful_actor<holder_state>* s) -> caf::behavior {
    install_cancel_protocol(s, core);
    auto move = s->state.ops.make(io::op_kind::user);
    auto queued = s->state.ops.make(io::op_kind::user);
    if (!s->state.ops.move_to_broker(move))
      s->send(dest, std::string{"not moved to the broker's thread"});
    return {[=](const io_completed& msg) {
      auto c = s->state.ops.complete(msg);
      if (!c) {
        s->send(dest, std::string{"a completion that is not ours"});
      } else if (c->op == move) {
        auto* here = dynamic_cast<runs_after_turn*>(s->context());
        if (here == nullptr) {
          s->send(dest, std::string{"not on the broker's unit"});
          return;
        }
        auto& port = core->port;
        if (s->state.ops.start(queued, nullptr, [&port](io::operation& o) {
              return port.post(io::key_io, 0, o.overlapped()).code();
            }) != 0) {
          s->send(dest, std::string{"post failed"});
          return;
        }
        here->exec_after_look(new word_job(dest, "after look"));
        here->exec_after_turn(new word_job(dest, "after turn"));
      } else if (c->op == queued) {
        s->send(dest, std::string{"packet"});
      }
    }};
  });
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i)
    self->receive([&](const std::string& word) { order.push_back(word); },
                  caf::after(test::timeout) >> [&] { order.push_back("(nothing within the timeout)"); });
  EXPECT_EQ(order, (std::vector<std::string>{"after turn", "packet", "after look"}));
  self->monitor(h);
  self->send_exit(h, caf::exit_reason::user_shutdown);
  self->receive([](caf::down_msg&) {}, caf::after(test::timeout) >> [] { ADD_FAILURE() << "no DOWN"; });
  EXPECT_EQ(rt->stats().unexpected, 0u);
}

} // namespace
