// Faults on a wait's path (DESIGN.md §2.2, §2.4): when UnregisterWaitEx or a
// wait callback's PostQueuedCompletionStatus fails, no packet will come. The
// owner must still get a completion for each of its operations and finish its
// cancel protocol; the registration is leaked (counted), never freed while a
// callback may run. Faults are injected through io/fault.hpp.
#include "actors/core/io_actor.hpp"
#include "io/fault.hpp"
#include "support.hpp"

using namespace iocaf;

namespace {

using ready_atom = caf::atom_constant<caf::atom("ready")>;
using fired_atom = caf::atom_constant<caf::atom("fired")>;

struct watcher_state {
  io::unique_handle event;
  owned_operations ops; // after the handle: released first
};

// An io actor that watches an event and reports each wait completion to the observer.
caf::behavior watcher(caf::stateful_actor<watcher_state>* self, std::shared_ptr<io_core> core, caf::actor observer) {
  install_cancel_protocol(self, core);
  self->state.event.reset(CreateEventW(nullptr, TRUE, FALSE, nullptr));
  if (!self->state.event) {
    self->quit(make_error(io::last_error("CreateEventW")));
    return {};
  }
  if (auto w = self->state.ops.watch(self->state.event.get()); !w) {
    self->quit(make_error(w.err()));
    return {};
  }
  self->send(observer, ready_atom::value, reinterpret_cast<std::uintptr_t>(self->state.event.get()));
  return {
    [=](const io_completed& msg) {
      auto c = self->state.ops.complete(msg);
      if (c && !c->wait_released())
        self->send(observer, fired_atom::value, c->error);
    },
    [=](close_atom) { shut_down(self, caf::exit_reason::normal); },
  };
}

class wait_fault : public test::runtime_test {
protected:
  void TearDown() override {
    io::fault::inject(io::fault::point::unregister_wait, 0, 0);
    io::fault::inject(io::fault::point::wait_post, 0, 0);
    runtime_test::TearDown();
  }

  // Spawns a watcher; returns it and its event.
  std::pair<caf::actor, HANDLE> spawn_watcher(caf::scoped_actor& self) {
    auto a = sys->spawn(watcher, rt->core(), caf::actor{self});
    self->monitor(a);
    HANDLE ev = nullptr;
    self->receive([&](ready_atom, std::uintptr_t h) { ev = reinterpret_cast<HANDLE>(h); },
                  caf::after(test::timeout) >> [] { ADD_FAILURE() << "watcher not ready"; });
    return {a, ev};
  }

  // After one fault: exactly one synthetic completion and one registration
  // (with its two operations) leaked on purpose, its callback may still run.
  void expect_one_synthetic_completion_and_leak(const broker_stats& base) {
    auto s = rt->stats();
    EXPECT_EQ(s.synthetic - base.synthetic, 1u);
    EXPECT_EQ(s.leaked_waits - base.leaked_waits, 1u);
    EXPECT_EQ(s.inflight, 0);
    live_waits_at_start += 1;
    live_operations_at_start += 2;
  }

  void expect_down(caf::scoped_actor& self, const char* what) {
    bool down = false;
    self->receive([&](caf::down_msg& dm) { down = !dm.reason || dm.reason == caf::exit_reason::normal; },
                  caf::after(std::chrono::seconds(10)) >> [&] { ADD_FAILURE() << "no DOWN: " << what; });
    EXPECT_TRUE(down) << what;
  }
};

TEST_F(wait_fault, unregister_fails_owner_still_finishes) {
  caf::scoped_actor self{*sys};
  auto base = rt->stats();
  auto [a, ev] = spawn_watcher(self);
  ASSERT_NE(ev, nullptr);
  io::fault::inject(io::fault::point::unregister_wait, ERROR_INVALID_HANDLE);
  // Cancel: the wait is armed, so it is unregistered. The owner drains its
  // fired operation (aborted) and the acknowledgement, both synthetic.
  self->send(a, close_atom::value);
  expect_down(self, "the owner hung after UnregisterWaitEx failed");
  expect_one_synthetic_completion_and_leak(base);
}

TEST_F(wait_fault, completion_post_fails_owner_still_finishes) {
  caf::scoped_actor self{*sys};
  auto base = rt->stats();
  auto [a, ev] = spawn_watcher(self);
  ASSERT_NE(ev, nullptr);
  io::fault::inject(io::fault::point::wait_post, ERROR_NOT_ENOUGH_MEMORY);
  ASSERT_TRUE(SetEvent(ev));
  // The fired packet could not be posted: the owner still learns the wait ended, with the post's error.
  self->receive([&](fired_atom, std::uint32_t error) { EXPECT_EQ(error, static_cast<std::uint32_t>(ERROR_NOT_ENOUGH_MEMORY)); },
                caf::after(std::chrono::seconds(10)) >> [] { ADD_FAILURE() << "the fired wait never completed"; });
  self->send(a, close_atom::value);
  expect_down(self, "the owner hung after the fired packet could not be posted");
  expect_one_synthetic_completion_and_leak(base);
}

TEST_F(wait_fault, acknowledgement_post_fails_owner_still_finishes) {
  caf::scoped_actor self{*sys};
  auto base = rt->stats();
  auto [a, ev] = spawn_watcher(self);
  ASSERT_NE(ev, nullptr);
  io::fault::inject(io::fault::point::wait_post, ERROR_NOT_ENOUGH_MEMORY);
  self->send(a, close_atom::value); // unregistration acknowledged, but its packet cannot be posted
  expect_down(self, "the owner hung after the acknowledgement could not be posted");
  expect_one_synthetic_completion_and_leak(base);
}

} // namespace
