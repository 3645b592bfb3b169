// Cancellation races from the asyncio history (DESIGN.md §3): cancel twice,
// cancel after completion, cancel racing completion, and OVERLAPPED address
// reuse while old packets may still be queued. The test thread owns the
// operations through a scoped actor, so it can interleave steps precisely.
#include "actors/core/owned_operations.hpp"
#include "support.hpp"

#include <atomic>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

using namespace iocaf;

namespace {

// Iterations per test; IOCAF_SOAK=N multiplies them.
const int twice_iterations = 2000 * test::soak_factor();
const int after_completion_iterations = 2000 * test::soak_factor();
const int racing_iterations = 8000 * test::soak_factor();
const int reuse_rounds = 100 * test::soak_factor();
constexpr int reuse_batch = 100;

class cancel : public test::runtime_test {
protected:
  // Starts a read of up to n bytes on h, owned by ops.
  io::operation_ptr start_read(owned_operations& ops, HANDLE h, std::size_t n = 64) {
    auto op = ops.make(io::op_kind::read, n);
    auto code = ops.start(op, h, [n](io::operation& o) { return io::start_read(o, o.target(), n); });
    EXPECT_EQ(code, 0u) << io::error("ReadFile", code).to_string();
    return op;
  }

  // The next io_completed for self, matched to its operation.
  std::optional<owned_operations::completion> next(caf::scoped_actor& self, owned_operations& ops) {
    auto msg = test::receive_one<io_completed>(self);
    if (!msg)
      return std::nullopt;
    auto c = ops.complete(*msg);
    EXPECT_TRUE(c) << "completion for an operation we do not own";
    return c;
  }

  // Posts a marker packet and checks it is the very next completion: proves
  // that no stray packet was queued before it.
  void expect_nothing_else_queued(caf::scoped_actor& self, owned_operations& ops) {
    auto marker = ops.make(io::op_kind::user);
    auto& port = core().port;
    ASSERT_EQ(ops.start(marker, nullptr, [&](io::operation& o) { return port.post(io::key_io, 7, o.overlapped()).code(); }), 0u);
    auto c = next(self, ops);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->op, marker) << "a stray completion arrived before the marker";
  }
};

TEST_F(cancel, twice) {
  caf::scoped_actor self{*sys};
  owned_operations ops;
  ops.attach(rt->core(), self->address());
  auto pipe = test::make_pipe_pair(core());
  ASSERT_TRUE(pipe);
  for (int i = 0; i < twice_iterations; ++i) {
    auto op = start_read(ops, pipe->server.get());
    // The kernel-level call twice, then iocaf's (idempotent) cancel twice.
    for (int k = 0; k < 2; ++k) {
      if (!CancelIoEx(pipe->server.get(), op->overlapped())) {
        ASSERT_EQ(GetLastError(), static_cast<DWORD>(ERROR_NOT_FOUND));
      }
    }
    EXPECT_EQ(op->cancel(), 0u);
    EXPECT_EQ(op->cancel(), 0u);
    auto c = next(self, ops);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->op, op);
    EXPECT_EQ(c->error, static_cast<std::uint32_t>(ERROR_OPERATION_ABORTED));
  }
  expect_nothing_else_queued(self, ops);
  EXPECT_EQ(ops.pending(), 0u);
  auto s = rt->stats();
  EXPECT_EQ(s.unexpected, 0u);
  EXPECT_EQ(s.inflight, 0);
  std::printf("cancel.twice: %d iterations, %llu packets, 0 unexpected\n", twice_iterations,
              static_cast<unsigned long long>(s.packets));
}

// cancel_all() with several reads on one handle: one CancelIoEx(h, NULL)
// instead of one each, and still one packet per read before the owner may
// go (the cancel protocol waits for each).
TEST_F(cancel, many_reads_on_one_handle_take_one_cancel_call_and_each_still_gets_its_packet) {
  caf::scoped_actor self{*sys};
  owned_operations ops;
  ops.attach(rt->core(), self->address());
  auto pipe = test::make_pipe_pair(core());
  ASSERT_TRUE(pipe);
  constexpr int reads = 16;
  std::unordered_map<io::operation*, bool> seen;
  for (int i = 0; i < reads; ++i)
    seen.emplace(start_read(ops, pipe->server.get()).get(), false);
  auto one_by_one = io::operation::cancels_one_by_one();
  auto per_handle = io::operation::cancels_per_handle();
  ops.cancel_all();
  EXPECT_EQ(io::operation::cancels_per_handle() - per_handle, 1);
  EXPECT_EQ(io::operation::cancels_one_by_one() - one_by_one, 0);
  for (int i = 0; i < reads; ++i) {
    auto c = next(self, ops);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->error, static_cast<std::uint32_t>(ERROR_OPERATION_ABORTED));
    auto s = seen.find(c->op.get());
    ASSERT_NE(s, seen.end());
    EXPECT_FALSE(s->second) << "two packets for one read";
    s->second = true;
  }
  EXPECT_EQ(ops.pending(), 0u);
  expect_nothing_else_queued(self, ops);
  EXPECT_EQ(rt->stats().unexpected, 0u);
}

// The one-call cancel must not reach another actor's operations on the same
// handle: the owner's reads are cancelled one by one, and the other's stay
// pending and then read data.
TEST_F(cancel, reads_another_owner_has_on_the_same_handle_are_not_cancelled) {
  caf::scoped_actor self{*sys};
  caf::scoped_actor other{*sys};
  owned_operations mine;
  owned_operations theirs;
  mine.attach(rt->core(), self->address());
  theirs.attach(rt->core(), other->address());
  auto pipe = test::make_pipe_pair(core());
  ASSERT_TRUE(pipe);
  constexpr int reads = 4;
  static_assert(reads >= owned_operations::per_handle_cancel_from);
  for (int i = 0; i < reads; ++i) {
    start_read(mine, pipe->server.get());
    start_read(theirs, pipe->server.get());
  }
  auto per_handle = io::operation::cancels_per_handle();
  mine.cancel_all();
  EXPECT_EQ(io::operation::cancels_per_handle() - per_handle, 0);
  for (int i = 0; i < reads; ++i) {
    auto c = next(self, mine);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->error, static_cast<std::uint32_t>(ERROR_OPERATION_ABORTED));
  }
  for (int i = 0; i < reads; ++i)
    ASSERT_EQ(test::write_blocking(pipe->client.get(), std::string(64, 'x')), 0u);
  for (int i = 0; i < reads; ++i) {
    auto c = next(other, theirs);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->error, 0u) << "another owner's read was cancelled: " << io::error("ReadFile", c->error).to_string();
    EXPECT_EQ(c->bytes, 64u);
  }
  EXPECT_EQ(theirs.pending(), 0u);
  EXPECT_EQ(rt->stats().unexpected, 0u);
}

TEST_F(cancel, after_completion) {
  caf::scoped_actor self{*sys};
  owned_operations ops;
  ops.attach(rt->core(), self->address());
  auto pipe = test::make_pipe_pair(core());
  ASSERT_TRUE(pipe);
  for (int i = 0; i < after_completion_iterations; ++i) {
    ASSERT_EQ(test::write_blocking(pipe->client.get(), "x"), 0u);
    auto op = start_read(ops, pipe->server.get());
    if (i % 2 == 0) {
      // Packet dequeued and delivered, then cancel.
      auto c = next(self, ops);
      ASSERT_TRUE(c);
      EXPECT_EQ(c->bytes, 1u);
      EXPECT_EQ(op->cancel(), 0u); // ERROR_NOT_FOUND is success here
    } else {
      // Completed at once (packet queued, not yet dequeued), then cancel.
      EXPECT_EQ(op->cancel(), 0u);
      auto c = next(self, ops);
      ASSERT_TRUE(c);
      EXPECT_EQ(c->bytes, 1u);
      EXPECT_EQ(c->error, 0u);
    }
  }
  expect_nothing_else_queued(self, ops);
  auto s = rt->stats();
  EXPECT_EQ(s.unexpected, 0u);
  std::printf("cancel.after_completion: %d iterations, 0 unexpected\n", after_completion_iterations);
}

TEST_F(cancel, racing_completion) {
  caf::scoped_actor self{*sys};
  owned_operations ops;
  ops.attach(rt->core(), self->address());
  auto pipe = test::make_pipe_pair(core());
  ASSERT_TRUE(pipe);

  // A writer thread feeds single bytes while reads are started and cancelled
  // at once: each read either completes with data or is aborted, never both.
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> written{0};
  std::atomic<unsigned long> writer_error{0};
  std::thread writer([&] {
    while (!stop.load()) {
      if (auto code = test::write_blocking(pipe->client.get(), "y")) {
        writer_error = code;
        return;
      }
      written.fetch_add(1);
    }
  });
  std::uint64_t received = 0;
  int aborted = 0;
  int completed = 0;
  for (int i = 0; i < racing_iterations; ++i) {
    auto op = start_read(ops, pipe->server.get());
    op->cancel();
    auto c = next(self, ops);
    ASSERT_TRUE(c);
    ASSERT_EQ(c->op, op);
    if (c->error == ERROR_OPERATION_ABORTED) {
      EXPECT_EQ(c->bytes, 0u);
      ++aborted;
    } else {
      ASSERT_EQ(c->error, 0u) << io::system_message(c->error);
      ASSERT_GT(c->bytes, 0u);
      received += c->bytes;
      ++completed;
    }
  }
  stop = true;
  writer.join();
  ASSERT_EQ(writer_error.load(), 0u);
  // Every byte written must still arrive: an aborted read consumed nothing.
  while (received < written.load()) {
    start_read(ops, pipe->server.get());
    auto c = next(self, ops);
    ASSERT_TRUE(c);
    ASSERT_EQ(c->error, 0u);
    received += c->bytes;
  }
  EXPECT_EQ(received, written.load());
  expect_nothing_else_queued(self, ops);
  EXPECT_EQ(rt->stats().unexpected, 0u);
  std::printf("cancel.racing_completion: %d iterations: %d completed with data, %d aborted, %llu bytes\n",
              racing_iterations, completed, aborted, static_cast<unsigned long long>(received));
}

// Thousands of short-lived operations whose memory is reused while old
// packets may still be queued, and operations restarted while a packet of
// their previous start is still queued: every completion must carry its own
// start's tag, every stale packet must be counted, none delivered.
TEST_F(cancel, address_reuse_with_packets_still_queued) {
  auto base = rt->stats();
  auto pipe = test::make_pipe_pair(core());
  ASSERT_TRUE(pipe);
  auto& port = core().port;
  constexpr DWORD stale_tag = 1; // real tags are >= 2
  std::uint64_t starts = 0;
  std::uint64_t forged = 0;
  std::uint64_t delivered = 0;
  for (int round = 0; round < reuse_rounds; ++round) {
    caf::scoped_actor owner{*sys};
    owned_operations ops;
    ops.attach(rt->core(), owner->address());
    std::unordered_map<std::uint64_t, DWORD> tag_of; // op id -> tag its current start posted
    std::vector<io::operation_ptr> users;
    auto post_tag = [&](const io::operation_ptr& op, DWORD tag) {
      tag_of[op->id()] = tag;
      ++starts;
      return ops.start(op, nullptr, [&](io::operation& o) { return port.post(io::key_io, tag, o.overlapped()).code(); });
    };
    for (int i = 0; i < reuse_batch; ++i) {
      if (i % 2 == 0) {
        users.push_back(ops.make(io::op_kind::user, 16));
        ASSERT_EQ(post_tag(users.back(), static_cast<DWORD>(2 + i)), 0u);
      } else {
        auto op = start_read(ops, pipe->server.get(), 16);
        ++starts;
        op->cancel();
      }
    }
    if (round % 2 == 1)
      continue; // the owner goes away with its packets possibly still queued: orphans
    auto collect = [&](int n) {
      for (int i = 0; i < n; ++i) {
        auto c = next(owner, ops);
        ASSERT_TRUE(c);
        if (c->op->kind() == io::op_kind::user) {
          ASSERT_NE(c->bytes, stale_tag) << "a stale packet was delivered";
          EXPECT_EQ(c->bytes, tag_of[c->op->id()]) << "a completion of another start";
        }
        ++delivered;
      }
    };
    collect(reuse_batch);
    // Restart every user operation while a duplicate packet of its previous
    // start is queued (its start record held, as a queued packet's would be).
    std::vector<io::start_record_ptr> previous;
    for (auto& op : users) {
      previous.push_back(op->current_start());
      ASSERT_EQ(ops.start(op, nullptr, [](io::operation&) { return 0ul; }), 0u);
      ++starts;
      ASSERT_FALSE(port.post(io::key_io, stale_tag, &previous.back()->ov));
      ++forged;
    }
    for (auto& op : users) {
      tag_of[op->id()] = static_cast<DWORD>(1000 + op->id() % 1000);
      ASSERT_FALSE(port.post(io::key_io, tag_of[op->id()], op->overlapped()));
    }
    collect(static_cast<int>(users.size()));
    EXPECT_EQ(ops.pending(), 0u);
  }
  expected_unexpected = forged;
  // Every start ends exactly once: delivered to its owner, or (owner gone
  // first) released by the broker as an orphan.
  ASSERT_TRUE(test::wait_for_stats(*rt, [&](const broker_stats& s) {
    return (s.completions - base.completions) + (s.orphans_released - base.orphans_released) == starts
           && s.inflight == 0;
  }));
  auto s = rt->stats();
  EXPECT_EQ(s.unexpected - base.unexpected, forged) << "a stale packet was not counted";
  EXPECT_EQ(s.live_operations, base.live_operations) << "operations leaked or freed twice";
  std::printf("cancel.address_reuse: %llu starts (%llu completed to their owners, %llu checked by tag, "
              "%llu released as orphans), %llu stale packets caught\n",
              static_cast<unsigned long long>(starts),
              static_cast<unsigned long long>(s.completions - base.completions),
              static_cast<unsigned long long>(delivered),
              static_cast<unsigned long long>(s.orphans_released - base.orphans_released),
              static_cast<unsigned long long>(forged));
}

} // namespace
