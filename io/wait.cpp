#include "io/wait.hpp"

#include "io/fault.hpp"
#include "io/log.hpp"

#include <cassert>
#include <mutex>
#include <vector>

namespace iocaf::io {

// An auto-reset event and the thread-pool wait registered on it (repeating:
// each UnregisterWaitEx that sets the event runs the callback once).
// `borrower` is set before the event can be set for it and taken by the
// callback, which then touches only the borrower.
struct wait_registration::ack_slot {
  unique_handle event;
  HANDLE registration = nullptr;
  std::atomic<wait_registration*> borrower{nullptr};

  // Slots not lent out. Never destroyed, like the slots: a pool callback may
  // run during static destruction.
  struct idle_list {
    std::mutex mtx;
    std::vector<ack_slot*> slots;
  };
  static idle_list& idle() {
    static auto* list = new idle_list;
    return *list;
  }
};

namespace {
std::atomic<std::int64_t> live_waits{0};
std::atomic<std::int64_t> registered_waits{0};
std::atomic<std::int64_t> arm_releases{0};
std::atomic<std::int64_t> registrations{0};
std::atomic<std::int64_t> slots{0};
std::atomic<std::int64_t> lent{0};
// What the callback leaves in wait_ when it took the handle.
const HANDLE fired_mark = reinterpret_cast<HANDLE>(std::intptr_t{-2});
} // namespace

wait_registration::wait_registration(completion_port port) : port_(std::move(port)) {
  live_waits.fetch_add(1);
}

wait_registration::~wait_registration() {
  // A lent slot names us until its packet was dequeued (endgame check).
  assert(ack_ == nullptr && "a wait freed while an acknowledgement slot may still name it");
  live_waits.fetch_sub(1);
}

std::int64_t wait_registration::live_count() {
  return live_waits.load();
}

std::int64_t wait_registration::registered_count() {
  return registered_waits.load();
}

std::int64_t wait_registration::released_at_arm() {
  return arm_releases.load();
}

std::int64_t wait_registration::registrations_made() {
  return registrations.load();
}

std::int64_t wait_registration::slots_made() {
  return slots.load();
}

std::int64_t wait_registration::slots_lent() {
  return lent.load();
}

error wait_registration::arm(HANDLE object) {
  HANDLE dup = nullptr;
  if (!DuplicateHandle(GetCurrentProcess(), object, GetCurrentProcess(), &dup, SYNCHRONIZE, FALSE, 0))
    return last_error("DuplicateHandle(wait object)");
  object_.reset(dup);
  HANDLE registration = nullptr;
  if (!RegisterWaitForSingleObject(&registration, dup, &on_signal, this, INFINITE,
                                   WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD))
    return last_error("RegisterWaitForSingleObject");
  registrations.fetch_add(1);
  registered_waits.fetch_add(1);
  if (unsigned long ms = 0; fault::take(fault::point::arm_delay, ms))
    Sleep(ms);
  // The object may have been signalled already and the callback run before
  // the handle was stored: it then left the release to us.
  if (wait_.exchange(registration) == fired_mark) {
    arm_releases.fetch_add(1);
    release_fired(registration);
  }
  return {};
}

// Thread-pool thread. Touches `this` only before posting: after the post the
// dequeuer may already be freeing the wait. The registration is released
// after the post, through a copy of its handle: the packet does not wait for
// UnregisterWaitEx (a wineserver call, slow while a killed child is torn down).
void CALLBACK wait_registration::on_signal(void* ctx, BOOLEAN) {
  auto* self = static_cast<wait_registration*>(ctx);
  int expected = armed;
  if (!self->state_.compare_exchange_strong(expected, fired))
    return; // cancelled: the unregistration owns the last packet
  HANDLE registration = self->wait_.exchange(fired_mark); // null: arm() releases it
  self->post(self->fired_);
  if (registration != nullptr)
    release_fired(registration);
}

// A one-shot wait that fired: release it without waiting for its callback
// (which may be the caller); nothing of ours is touched by the pool any more.
void wait_registration::release_fired(HANDLE registration) {
  DWORD code = UnregisterWaitEx(registration, nullptr) ? 0 : GetLastError();
  // ERROR_IO_PENDING: its callback is still returning; the pool frees it then.
  if (code == 0 || code == ERROR_IO_PENDING) {
    registered_waits.fetch_sub(1);
    return;
  }
  static auto log = logger("io.wait");
  log->error("releasing a fired wait: {}; its thread-pool registration is leaked",
             error{"UnregisterWaitEx", code}.to_string());
}

// Thread-pool thread. A failed post means no packet: the failure handler
// completes the operation instead, so its owner never waits forever.
void wait_registration::post(operation& op) {
  unsigned long code = 0;
  error err;
  if (fault::take(fault::point::wait_post, code))
    err = error{"PostQueuedCompletionStatus", code};
  else
    err = port_.post(key_io, 0, op.overlapped());
  if (err && post_failed_)
    post_failed_(op, err);
}

bool wait_registration::try_cancel() {
  int expected = armed;
  return state_.compare_exchange_strong(expected, cancelled);
}

result<wait_registration::ack_slot*> wait_registration::borrow_slot() {
  {
    auto& pool = ack_slot::idle();
    std::lock_guard<std::mutex> guard{pool.mtx};
    if (!pool.slots.empty()) {
      auto* slot = pool.slots.back();
      pool.slots.pop_back();
      return slot;
    }
  }
  auto slot = std::make_unique<ack_slot>();
  slot->event.reset(CreateEventW(nullptr, FALSE, FALSE, nullptr));
  if (!slot->event)
    return last_error("CreateEventW(acknowledgement slot)");
  if (!RegisterWaitForSingleObject(&slot->registration, slot->event.get(), &on_slot_signalled, slot.get(), INFINITE,
                                   WT_EXECUTEINWAITTHREAD))
    return last_error("RegisterWaitForSingleObject(acknowledgement slot)");
  registrations.fetch_add(1);
  slots.fetch_add(1);
  return slot.release(); // for the life of the process
}

error wait_registration::begin_unregister() {
  auto slot = borrow_slot();
  if (!slot)
    return slot.err();
  lent.fetch_add(1);
  ack_ = *slot;
  ack_->borrower.store(this);
  unsigned long injected = 0;
  bool fake = fault::take(fault::point::unregister_wait, injected);
  if (fake || !UnregisterWaitEx(wait_.load(), ack_->event.get())) {
    DWORD code = fake ? injected : GetLastError();
    // ERROR_IO_PENDING: a callback is still running; the event is set when it returns.
    if (code != ERROR_IO_PENDING) {
      // Whether the event may still be set is unknown: the slot is retired,
      // and a late signal finds no borrower.
      std::exchange(ack_, nullptr)->borrower.store(nullptr);
      lent.fetch_sub(1);
      return error{"UnregisterWaitEx", code};
    }
  }
  registered_waits.fetch_sub(1);
  return {};
}

// Thread-pool thread. Only the borrower is touched, and only before the post.
void CALLBACK wait_registration::on_slot_signalled(void* ctx, BOOLEAN) {
  auto* self = static_cast<ack_slot*>(ctx)->borrower.exchange(nullptr);
  if (self == nullptr) {
    static auto log = logger("io.wait");
    log->error("an acknowledgement slot was signalled with no wait lent to it; ignored");
    return;
  }
  self->post(self->unregistered_);
}

void wait_registration::on_acknowledged() {
  auto* slot = std::exchange(ack_, nullptr);
  if (slot == nullptr)
    return;
  lent.fetch_sub(1);
  auto& pool = ack_slot::idle();
  std::lock_guard<std::mutex> guard{pool.mtx};
  pool.slots.push_back(slot);
}

} // namespace iocaf::io
