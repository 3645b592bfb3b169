#include "io/wait.hpp"

#include "io/fault.hpp"
#include "io/log.hpp"

namespace iocaf::io {

namespace {
std::atomic<std::int64_t> live_waits{0};
std::atomic<std::int64_t> registered_waits{0};
std::atomic<std::int64_t> arm_releases{0};
// What the callback leaves in wait_ when it took the handle.
const HANDLE fired_mark = reinterpret_cast<HANDLE>(std::intptr_t{-2});
} // namespace

wait_registration::wait_registration(completion_port port) : port_(std::move(port)) {
  live_waits.fetch_add(1);
}

wait_registration::~wait_registration() {
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

error wait_registration::arm(HANDLE object) {
  HANDLE dup = nullptr;
  if (!DuplicateHandle(GetCurrentProcess(), object, GetCurrentProcess(), &dup, SYNCHRONIZE, FALSE, 0))
    return last_error("DuplicateHandle(wait object)");
  object_.reset(dup);
  HANDLE registration = nullptr;
  if (!RegisterWaitForSingleObject(&registration, dup, &on_signal, this, INFINITE,
                                   WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD))
    return last_error("RegisterWaitForSingleObject");
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

error wait_registration::begin_unregister() {
  HANDLE ev = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (ev == nullptr)
    return last_error("CreateEventW");
  ack_event_.reset(ev);
  // Observe the event through the port first, so the acknowledgement cannot be missed.
  if (!RegisterWaitForSingleObject(&ack_wait_, ev, &on_unregistered, this, INFINITE,
                                   WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD))
    return last_error("RegisterWaitForSingleObject(unregister event)");
  unsigned long injected = 0;
  bool fake = fault::take(fault::point::unregister_wait, injected);
  if (fake || !UnregisterWaitEx(wait_.load(), ev)) {
    DWORD code = fake ? injected : GetLastError();
    // ERROR_IO_PENDING: a callback is still running; the event fires when it returns.
    if (code != ERROR_IO_PENDING)
      return error{"UnregisterWaitEx", code};
  }
  registered_waits.fetch_sub(1);
  return {};
}

void CALLBACK wait_registration::on_unregistered(void* ctx, BOOLEAN) {
  auto* self = static_cast<wait_registration*>(ctx);
  self->post(self->unregistered_);
}

error wait_registration::on_acknowledged() {
  // The one-shot callback has posted and touches nothing of ours after that;
  // a NULL completion event makes this call non-blocking.
  HANDLE w = std::exchange(ack_wait_, nullptr);
  if (w != nullptr && !UnregisterWaitEx(w, nullptr)) {
    DWORD code = GetLastError();
    if (code != ERROR_IO_PENDING)
      return error{"UnregisterWaitEx(acknowledgement wait)", code};
  }
  return {};
}

} // namespace iocaf::io
