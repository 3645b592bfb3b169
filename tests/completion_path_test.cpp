// The completion path's holes, each as the test that proves it closed:
// stale packets are caught, ERROR_MORE_DATA is a partial read (a packet
// comes), a refused double start leaves the in-flight operation untouched.
// The test thread owns the operations through a scoped actor, so it can
// interleave each step with the broker's packets precisely.
#include "actors/core/owned_operations.hpp"
#include "support.hpp"

#include <map>

using namespace iocaf;

namespace {

class completion_path : public test::runtime_test {
protected:
  void SetUp() override {
    start();
    self.emplace(*sys);
    ops.attach(rt->core(), (*self)->address());
  }

  void TearDown() override {
    self.reset();
    runtime_test::TearDown();
  }

  // The next io_completed for us, within `within`, matched to its operation.
  std::optional<owned_operations::completion> next(std::chrono::milliseconds within = test::timeout) {
    auto msg = test::receive_one<io_completed>(*self, within);
    if (!msg)
      return std::nullopt;
    auto c = ops.complete(*msg);
    EXPECT_TRUE(c) << "completion for an operation we do not own: op#" << msg->op_id;
    return c;
  }

  // Starts an operation whose packet the test posts itself (bytes = n).
  io::operation_ptr post_now(DWORD n) {
    auto op = ops.make(io::op_kind::user);
    auto& port = core().port;
    EXPECT_EQ(ops.start(op, nullptr, [&](io::operation& o) { return port.post(io::key_io, n, o.overlapped()).code(); }),
              0u);
    return op;
  }

  std::optional<caf::scoped_actor> self;
  owned_operations ops;
};

// DESIGN.md §2.3: each start has its own generation and the packet carries
// it. A packet from an earlier start of the same operation, still queued when
// the operation was started again, must be caught, never taken for the new
// start's completion.
TEST_F(completion_path, stale_packet_after_restart_is_never_delivered) {
  auto& port = core().port;
  auto op = ops.make(io::op_kind::user);
  // Held, as a queued packet's start record would be held by the table.
  io::start_record_ptr first_start;
  ASSERT_EQ(ops.start(op, nullptr, [&](io::operation& o) {
    first_start = o.current_start();
    return port.post(io::key_io, 1, o.overlapped()).code();
  }), 0u);
  auto c = next();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->bytes, 1u);

  // Second start: in flight, no packet yet.
  ASSERT_EQ(ops.start(op, nullptr, [](io::operation&) { return 0ul; }), 0u);
  // A packet of the first start arrives now (a duplicate, or one a buggy path
  // forgot): it names the first start's OVERLAPPED.
  ASSERT_FALSE(port.post(io::key_io, 99, &first_start->ov));
  // A marker behind it: FIFO, so had the stale packet been delivered, its
  // completion would come first.
  auto marker = post_now(7);
  auto got = next();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->op, marker) << "the stale packet was delivered as the new start's completion ("
                             << got->bytes << " bytes)";
  EXPECT_EQ(rt->stats().unexpected, 1u) << "the stale packet was not counted";
  expected_unexpected = 1;

  // The second start still completes with its own packet.
  if (got->op != marker)
    return;
  ASSERT_FALSE(port.post(io::key_io, 2, op->overlapped()));
  auto second = next();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->op, op);
  EXPECT_EQ(second->bytes, 2u);
}

// A message-mode pipe read into a buffer smaller than the message: ReadFile
// reports ERROR_MORE_DATA, a warning, and a packet comes. The owner gets it as
// a partial read and continues until the message is complete.
TEST_F(completion_path, more_data_on_message_pipe) {
  auto name = io::pipe_path(test::unique_pipe_name("message"));
  io::unique_handle server{CreateNamedPipeW(name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                                            PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, 1, 4096,
                                            4096, 0, nullptr)};
  ASSERT_TRUE(server) << io::last_error("CreateNamedPipeW").to_string();
  io::unique_handle client{CreateFileW(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                                       FILE_FLAG_OVERLAPPED, nullptr)};
  ASSERT_TRUE(client) << io::last_error("CreateFileW").to_string();
  ASSERT_EQ(test::accept_connected_client(server.get()), 0u);
  ASSERT_FALSE(core().port.associate(server.get()));

  constexpr std::size_t chunk = 16;
  for (int round = 0; round < 50; ++round) {
    std::string message;
    for (int i = 0; i < 100 + round; ++i)
      message.push_back(static_cast<char>('a' + (i + round) % 26));
    ASSERT_EQ(test::write_blocking(client.get(), message), 0u);
    std::string got;
    auto op = ops.make(io::op_kind::read, chunk);
    for (;;) {
      auto code = ops.start(op, server.get(), [](io::operation& o) { return io::start_read(o, o.target(), chunk); });
      ASSERT_EQ(code, 0u) << "ERROR_MORE_DATA taken for an inline failure: "
                          << io::error("ReadFile", code).to_string();
      auto c = next();
      ASSERT_TRUE(c);
      ASSERT_EQ(c->op, op);
      got.append(op->buffer().data(), c->bytes);
      if (c->error == 0)
        break;
      ASSERT_EQ(c->error, static_cast<std::uint32_t>(ERROR_MORE_DATA)) << io::system_message(c->error);
      ASSERT_EQ(c->bytes, chunk) << "a partial read fills the buffer";
    }
    ASSERT_EQ(got, message) << "round " << round;
  }
  EXPECT_EQ(rt->stats().unexpected, 0u);
}

// Starting an operation that is already in flight is refused, and the
// refusal must not touch it: its packet still completes it normally.
TEST_F(completion_path, double_start_refused_without_touching_the_operation) {
  auto pipe = test::make_pipe_pair(core(), "double");
  ASSERT_TRUE(pipe);
  auto op = ops.make(io::op_kind::read, 16);
  auto read = [](io::operation& o) { return io::start_read(o, o.target(), 16); };
  ASSERT_EQ(ops.start(op, pipe->server.get(), read), 0u);
  bool second_call_ran = false;
  auto refused = ops.start(op, pipe->server.get(), [&](io::operation& o) {
    second_call_ran = true;
    return read(o);
  });
  EXPECT_NE(refused, 0u) << "a second start of an operation in flight was accepted";
  EXPECT_FALSE(second_call_ran) << "the Win32 call of a refused start ran";
  ASSERT_EQ(test::write_blocking(pipe->client.get(), "abc"), 0u);
  auto c = next(std::chrono::seconds(5));
  ASSERT_TRUE(c) << "the in-flight operation never completed after the refused start";
  EXPECT_EQ(c->op, op);
  EXPECT_EQ(c->error, 0u);
  EXPECT_EQ(c->bytes, 3u);
  EXPECT_EQ(std::string(op->buffer().data(), 3), "abc");
  EXPECT_EQ(ops.pending(), 0u);
}

// Asio's single result path: a start that fails inline reaches its owner
// as an io_completed like a packet would, and stays pending until then (so
// the owner cannot quit before it has heard).
TEST_F(completion_path, inline_failure_arrives_as_a_completion) {
  auto pipe = test::make_pipe_pair(core(), "inline");
  ASSERT_TRUE(pipe);
  pipe->client.reset(); // a read on the server end now fails inline: broken pipe
  auto before = rt->stats().inline_results;
  auto op = ops.make(io::op_kind::read, 16);
  ASSERT_TRUE(ops.launch(op, pipe->server.get(), [](io::operation& o) { return io::start_read(o, o.target(), 16); }));
  EXPECT_EQ(ops.pending(), 1u) << "an inline failure was forgotten before its owner heard of it";
  auto c = next(std::chrono::seconds(5));
  ASSERT_TRUE(c) << "the inline failure never reached the owner";
  EXPECT_EQ(c->op, op);
  EXPECT_EQ(c->error, static_cast<std::uint32_t>(ERROR_BROKEN_PIPE)) << io::error{"ReadFile", c->error}.to_string();
  EXPECT_EQ(ops.pending(), 0u);
  EXPECT_EQ(rt->stats().inline_results - before, 1u);
  EXPECT_EQ(rt->stats().unexpected, 0u);
}

// The one start launch() refuses without a completion is a bug: the same
// operation started twice. The first start is untouched.
TEST_F(completion_path, launch_of_an_operation_in_flight_is_refused) {
  auto pipe = test::make_pipe_pair(core(), "launch2");
  ASSERT_TRUE(pipe);
  auto op = ops.make(io::op_kind::read, 16);
  auto read = [](io::operation& o) { return io::start_read(o, o.target(), 16); };
  ASSERT_TRUE(ops.launch(op, pipe->server.get(), read));
  EXPECT_FALSE(ops.launch(op, pipe->server.get(), read)) << "a second launch of an operation in flight was accepted";
  ASSERT_EQ(test::write_blocking(pipe->client.get(), "xy"), 0u);
  // A completion made for the refused launch would have been sent at once,
  // so it would come before the read's.
  auto c = next(std::chrono::seconds(5));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->error, 0u) << "the refused launch produced a completion";
  EXPECT_EQ(c->bytes, 2u);
  EXPECT_EQ(ops.pending(), 0u);
}

// A closing owner starts nothing, waits included: a wait registered after
// the cancel protocol began would not be ended by it (seen: a process actor
// whose start ran after the runtime began to stop registered its exit wait
// after it had already quit).
TEST_F(completion_path, watch_is_refused_once_the_owner_is_closing) {
  io::unique_handle ev{CreateEventW(nullptr, TRUE, FALSE, nullptr)};
  ASSERT_TRUE(ev) << io::last_error("CreateEventW").to_string();
  auto registered = io::wait_registration::registered_count();
  ops.set_closing();
  auto w = ops.watch(ev.get());
  ASSERT_FALSE(w) << "a closing owner registered a wait";
  EXPECT_EQ(w.err().code(), static_cast<unsigned long>(ERROR_OPERATION_ABORTED)) << w.err().to_string();
  EXPECT_EQ(ops.pending(), 0u);
  EXPECT_EQ(io::wait_registration::registered_count(), registered);
}

// A cancelled wait's unregistration is acknowledged through an event that
// io::wait_registration lends it from a set kept registered for the process,
// not through a wait registered for that acknowledgement alone (under Wine a
// registration and its release are several wineserver requests and wake-ups
// of the pool's wait thread: the teardown of an actor with 16 waits spent
// most of its time there). Ending waits one after another therefore makes
// one registration each, its own, plus at most one for a new slot.
TEST_F(completion_path, ending_waits_one_by_one_registers_nothing_for_their_acknowledgements) {
  io::unique_handle ev{CreateEventW(nullptr, TRUE, FALSE, nullptr)};
  ASSERT_TRUE(ev) << io::last_error("CreateEventW").to_string();
  constexpr int waits = 20;
  auto made = io::wait_registration::registrations_made();
  for (int i = 0; i < waits; ++i) {
    auto w = ops.watch(ev.get());
    ASSERT_TRUE(w) << w.err().to_string();
    ops.cancel_all();
    // The fired operation (aborted) and the acknowledged unregistration.
    for (int packet = 0; packet < 2; ++packet) {
      auto c = next();
      ASSERT_TRUE(c) << "wait " << i << ": no completion " << packet;
      EXPECT_EQ(c->wait_released(), packet == 1) << "wait " << i;
    }
    ASSERT_EQ(ops.pending(), 0u);
  }
  EXPECT_LE(io::wait_registration::registrations_made() - made, waits + 1)
    << "each acknowledgement registered a wait of its own";
}

// Many waits ended at once borrow as many slots; each acknowledgement must
// reach the wait its slot was lent to (a slot lent again before its packet
// was dequeued would name the wrong wait: one would be released twice,
// another never), and every slot comes back, so later rounds make none.
TEST_F(completion_path, waits_ended_at_once_each_get_their_own_acknowledgement_and_the_slots_come_back) {
  io::unique_handle ev{CreateEventW(nullptr, TRUE, FALSE, nullptr)};
  ASSERT_TRUE(ev) << io::last_error("CreateEventW").to_string();
  constexpr int waits = 64, rounds = 10;
  auto slots_before = io::wait_registration::slots_made();
  for (int round = 0; round < rounds; ++round) {
    std::map<std::uint64_t, int> released; // the wait's unregistered op id -> acknowledgements
    for (int i = 0; i < waits; ++i) {
      auto w = ops.watch(ev.get());
      ASSERT_TRUE(w) << w.err().to_string();
      released[(*w)->unregistered_op().id()] = 0;
    }
    ops.cancel_all();
    for (int packet = 0; packet < 2 * waits; ++packet) {
      auto c = next();
      ASSERT_TRUE(c) << "round " << round << ": " << packet << " of " << 2 * waits << " completions";
      if (c->wait_released())
        ++released[c->op->id()];
    }
    for (auto& [id, n] : released)
      ASSERT_EQ(n, 1) << "round " << round << ": the wait with op#" << id << " was acknowledged " << n << " times";
    ASSERT_EQ(ops.pending(), 0u);
    EXPECT_EQ(io::wait_registration::slots_lent(), slots_lent_at_start) << "round " << round;
  }
  EXPECT_LE(io::wait_registration::slots_made() - slots_before, waits) << "slots were not lent again";
}

} // namespace

// Under Wine each entry a dequeue asks for is one wineserver request and one
// more finds the queue empty: the broker asks for one packet while packets
// come alone (no second request before a lone packet is handled), and for
// its whole batch again when a periodic probe finds more than one.
TEST(dequeue_size, asks_for_one_packet_after_a_lone_one_and_batches_again_when_a_probe_finds_more) {
  io::dequeue_size size{64};
  EXPECT_EQ(size.next(), 64u) << "starts with the whole batch";
  size.got(40);
  EXPECT_EQ(size.next(), 64u) << "a full batch keeps batching";
  size.got(1);
  for (std::size_t i = 1; i < io::dequeue_size::probe_every; ++i) {
    ASSERT_EQ(size.next(), 1u) << "dequeue " << i << " after a lone packet";
    size.got(1);
  }
  EXPECT_EQ(size.next(), 64u) << "the probe";
  size.got(3);
  EXPECT_EQ(size.next(), 64u) << "a probe that found more batches again";
  size.got(0); // a timeout or a poll that found nothing
  EXPECT_EQ(size.next(), 1u);
}
