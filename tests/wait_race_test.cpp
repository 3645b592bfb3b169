// The bpo-23095 race, hammered: a thread-pool wait on a real child process is
// unregistered while the process exits, in every order. Each wait must end
// with exactly one acknowledgement, its memory released exactly once, and no
// packet may arrive for memory that is gone.
#include "actors/owned_operations.hpp"
#include "support.hpp"

#include <random>
#include <string>
#include <vector>

using namespace iocaf;

namespace {

constexpr int children = 608; // 38 batches of 16
constexpr int in_flight = 16;

std::wstring helper_path(const wchar_t* exe) {
  wchar_t self[MAX_PATH];
  DWORD n = GetModuleFileNameW(nullptr, self, MAX_PATH);
  std::wstring dir(self, n);
  return dir.substr(0, dir.find_last_of(L"\\/") + 1) + exe;
}

io::result<io::unique_handle> spawn_exit_after(int ms, unsigned code) {
  std::wstring cmd = L"\"" + helper_path(L"iocaf_exit_after.exe") + L"\" " + std::to_wstring(ms) + L" "
                     + std::to_wstring(code);
  STARTUPINFOW si{};
  si.cb = sizeof(si);
  PROCESS_INFORMATION pi{};
  if (!CreateProcessW(nullptr, cmd.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi))
    return io::last_error("CreateProcessW");
  CloseHandle(pi.hThread);
  return io::unique_handle{pi.hProcess};
}

// How the test ends a wait relative to the child's exit.
enum class order {
  exit_first,      // child has exited (maybe the callback ran, maybe its packet is queued) before we unregister
  unregister_first,// we unregister while the child still runs
  racing,          // child exits at about the moment we unregister
};

struct tracked {
  io::unique_handle process;
  io::wait_ptr wait;
  bool fired = false;
  bool aborted = false;
  bool released = false;
};

class wait_race : public test::runtime_test {};

TEST_F(wait_race, unregister_while_process_exits) {
  auto base_waits = io::wait_registration::live_count();
  caf::scoped_actor self{*sys};
  owned_operations ops;
  ops.attach(rt->core(), self->address());
  std::mt19937 rng{12345};
  int fired_then_unregistered = 0;
  int cancelled_before_fire = 0;
  int unregistered_with_fire_queued = 0;

  for (int done = 0; done < children; done += in_flight) {
    std::vector<tracked> batch(in_flight);
    std::vector<order> orders(in_flight);
    for (int i = 0; i < in_flight; ++i) {
      orders[i] = static_cast<order>((done + i) % 3);
      int delay = orders[i] == order::unregister_first ? 200 : orders[i] == order::racing ? int(rng() % 3) : 0;
      auto p = spawn_exit_after(delay, static_cast<unsigned>(i));
      ASSERT_TRUE(p) << p.err().to_string();
      batch[i].process = std::move(*p);
      auto w = ops.watch(batch[i].process.get());
      ASSERT_TRUE(w) << w.err().to_string();
      batch[i].wait = *w;
    }
    for (int i = 0; i < in_flight; ++i) {
      auto& t = batch[i];
      if (orders[i] == order::exit_first) {
        ASSERT_EQ(WaitForSingleObject(t.process.get(), 30000), WAIT_OBJECT_0);
      } else if (orders[i] == order::racing) {
        for (volatile unsigned spin = rng() % 20000; spin > 0; spin = spin - 1) {
        }
      }
      bool claimed_armed = t.wait->current_state() == io::wait_registration::armed;
      core().end_wait(t.wait, self->address(), false);
      if (!claimed_armed && t.wait->current_state() == io::wait_registration::fired)
        ++unregistered_with_fire_queued; // fired, its packet not yet seen by us
      // Closing our handle now is allowed: the wait holds its own duplicate.
      t.process.reset();
    }
    // Every wait yields: fired (ok or aborted) and then its release.
    int open = in_flight;
    while (open > 0) {
      auto msg = test::receive_one<io_completed>(self);
      ASSERT_TRUE(msg);
      auto c = ops.complete(*msg);
      ASSERT_TRUE(c);
      ASSERT_TRUE(c->wait);
      tracked* t = nullptr;
      for (auto& x : batch)
        if (x.wait == c->wait)
          t = &x;
      ASSERT_NE(t, nullptr);
      if (c->wait_released()) {
        ASSERT_FALSE(t->released) << "wait released twice";
        ASSERT_TRUE(t->fired || t->aborted) << "release before the fired operation ended";
        t->released = true;
        --open;
      } else if (c->error == ERROR_OPERATION_ABORTED) {
        ASSERT_FALSE(t->fired || t->aborted);
        t->aborted = true;
        ++cancelled_before_fire;
      } else {
        ASSERT_EQ(c->error, 0u);
        ASSERT_FALSE(t->fired || t->aborted);
        t->fired = true;
        ++fired_then_unregistered;
      }
    }
  }
  EXPECT_EQ(ops.pending(), 0u);
  ASSERT_TRUE(test::wait_for_stats(*rt, [&](const broker_stats& s) {
    return s.inflight == 0 && s.pending_waits == base_waits;
  }));
  auto s = rt->stats();
  EXPECT_EQ(s.unexpected, 0u);
  EXPECT_EQ(io::wait_registration::live_count(), base_waits) << "wait memory leaked or freed twice";
  EXPECT_GT(fired_then_unregistered, 0);
  EXPECT_GT(cancelled_before_fire, 0);
  EXPECT_GT(unregistered_with_fire_queued, 0);
  std::printf("wait_race: %d children: %d fired then unregistered (%d with the fired packet still queued), "
              "%d cancelled before firing; 0 unexpected\n",
              children, fired_then_unregistered, unregistered_with_fire_queued, cancelled_before_fire);
}

TEST_F(wait_race, owner_gone_with_waits_armed_and_fired) {
  // The abrupt path: the owner's operations are destroyed with waits armed
  // (children still running) and fired (children exited, packets queued).
  auto base = rt->stats();
  std::vector<io::unique_handle> processes;
  {
    caf::scoped_actor owner{*sys};
    owned_operations ops;
    ops.attach(rt->core(), owner->address());
    for (int i = 0; i < 32; ++i) {
      auto p = spawn_exit_after(i % 2 == 0 ? 0 : 300, 0);
      ASSERT_TRUE(p) << p.err().to_string();
      auto w = ops.watch(p->get());
      ASSERT_TRUE(w) << w.err().to_string();
      if (i % 2 == 0) {
        ASSERT_EQ(WaitForSingleObject(p->get(), 30000), WAIT_OBJECT_0);
      }
      processes.push_back(std::move(*p));
    }
  } // ops destroyed: every wait orphaned and unregistered by whoever gets there
  processes.clear();
  ASSERT_TRUE(test::wait_for_stats(*rt, [&](const broker_stats& s) {
    return s.inflight == 0 && s.pending_waits == base.pending_waits;
  }));
  auto s = rt->stats();
  EXPECT_EQ(s.unexpected, 0u);
  // At least every acknowledgement went to the dead owner.
  EXPECT_GE(s.orphans_released - base.orphans_released, 32u);
}

} // namespace
