#include "io/wait.hpp"

namespace iocaf::io {

namespace {
std::atomic<std::int64_t> live_waits{0};
} // namespace

wait_registration::wait_registration(HANDLE port) : port_(port) {
  live_waits.fetch_add(1);
}

wait_registration::~wait_registration() {
  live_waits.fetch_sub(1);
}

std::int64_t wait_registration::live_count() {
  return live_waits.load();
}

error wait_registration::arm(HANDLE object) {
  HANDLE dup = nullptr;
  if (!DuplicateHandle(GetCurrentProcess(), object, GetCurrentProcess(), &dup, SYNCHRONIZE, FALSE, 0))
    return last_error("DuplicateHandle(wait object)");
  object_.reset(dup);
  if (!RegisterWaitForSingleObject(&wait_, dup, &on_signal, this, INFINITE,
                                   WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD))
    return last_error("RegisterWaitForSingleObject");
  return {};
}

// Thread-pool thread. Touches `this` only before posting: after the post the
// dequeuer may already be releasing the wait.
void CALLBACK wait_registration::on_signal(void* ctx, BOOLEAN) {
  auto* self = static_cast<wait_registration*>(ctx);
  int expected = armed;
  if (!self->state_.compare_exchange_strong(expected, fired))
    return; // cancelled: the unregistration owns the last packet
  HANDLE port = self->port_;
  OVERLAPPED* ov = self->fired_.overlapped();
  PostQueuedCompletionStatus(port, 0, key_io, ov);
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
  if (!UnregisterWaitEx(wait_, ev)) {
    DWORD code = GetLastError();
    // ERROR_IO_PENDING: a callback is still running; the event fires when it returns.
    if (code != ERROR_IO_PENDING)
      return error{"UnregisterWaitEx", code};
  }
  return {};
}

void CALLBACK wait_registration::on_unregistered(void* ctx, BOOLEAN) {
  auto* self = static_cast<wait_registration*>(ctx);
  HANDLE port = self->port_;
  OVERLAPPED* ov = self->unregistered_.overlapped();
  PostQueuedCompletionStatus(port, 0, key_io, ov);
}

void wait_registration::on_acknowledged() {
  // The one-shot callback has posted and touches nothing of ours after that;
  // a NULL completion event makes this call non-blocking.
  if (ack_wait_ != nullptr) {
    UnregisterWaitEx(ack_wait_, nullptr);
    ack_wait_ = nullptr;
  }
}

} // namespace iocaf::io
