#pragma once
// A thread-pool wait (RegisterWaitForSingleObject, one-shot) whose callback
// posts a packet to the completion port.
//
// How a wait ends (DESIGN.md §2.2). The atomic state decides, once, which
// packet is the wait's last:
//   armed --callback--> fired      : the fired packet is the last. The
//       callback takes the registration's handle, posts, and only then
//       releases the registration itself (UnregisterWaitEx with no event,
//       which the documentation allows inside the callback); it touches
//       nothing of ours after the post, so once that packet is dequeued no
//       callback can touch this object again. If the callback ran before
//       arm() stored the handle (the object was signalled already), arm()
//       releases it instead.
//   armed --cancel----> cancelled  : no fired packet will ever be posted.
//       The owner unregisters with an acknowledgement: UnregisterWaitEx with
//       an event that a second, one-shot wait turns into a packet, the last.
//       A callback that lost the race may still be running until then.
// The operations live inside this object and the in-flight table holds them
// through aliasing shared_ptrs, so the object is freed only after its last
// packet was dequeued.
#include "io/completion_port.hpp"
#include "io/error.hpp"
#include "io/handle.hpp"
#include "io/operation.hpp"

#include <atomic>
#include <functional>
#include <memory>

namespace iocaf::io {

class wait_registration : public std::enable_shared_from_this<wait_registration> {
public:
  enum state : int { armed, fired, cancelled };

  // Creates the registration object; nothing is registered yet. It keeps its
  // own copy of the port, so the port outlives every callback.
  explicit wait_registration(completion_port port);
  ~wait_registration();
  wait_registration(const wait_registration&) = delete;
  wait_registration& operator=(const wait_registration&) = delete;

  // Starts waiting for `object`. The registration waits on its own duplicate
  // of the handle, closed only after the acknowledgement, so the caller may
  // close its handle at any time. The fired operation is then in flight.
  error arm(HANDLE object);

  // Claims the wait for cancellation. Returns true if it was still armed: the
  // fired packet will never come. False: it fired (or was cancelled) already.
  bool try_cancel();

  // For a cancelled wait, exactly one caller wins the right to unregister
  // (returns true once).
  bool claim_unregister() { return !unregister_started_.exchange(true); }

  // Starts UnregisterWaitEx with the acknowledgement event; only for a
  // cancelled wait, by the caller that won claim_unregister(). Put
  // unregistered_op() in flight before: its packet may arrive before this
  // returns.
  error begin_unregister();

  // Called by the dequeuer when the acknowledgement packet arrives: releases
  // the one-shot wait on the event (non-blocking; ERROR_IO_PENDING, the
  // callback still returning, is success).
  error on_acknowledged();

  // Called on a thread-pool thread when a callback could not post its packet
  // (the packet will never come): the owner of the wait must complete `op`
  // by other means. Set before arm().
  using post_failed_fn = std::function<void(operation& op, const error& why)>;
  void on_post_failed(post_failed_fn fn) { post_failed_ = std::move(fn); }

  int current_state() const { return state_.load(); }
  operation& fired_op() { return fired_; }
  operation& unregistered_op() { return unregistered_; }
  std::shared_ptr<operation> fired_ptr() { return {shared_from_this(), &fired_}; }
  std::shared_ptr<operation> unregistered_ptr() { return {shared_from_this(), &unregistered_}; }

  // Wait registrations alive in this process (our objects).
  static std::int64_t live_count();
  // Thread-pool registrations made by arm() and not yet released with
  // UnregisterWaitEx (by the callback, by arm() or by begin_unregister);
  // failed releases are not counted as released.
  static std::int64_t registered_count();
  // Fired waits whose callback ran before arm() had stored the handle, so
  // that arm() released the registration (tests check this path runs).
  static std::int64_t released_at_arm();

private:
  static void CALLBACK on_signal(void* self, BOOLEAN timed_out);
  static void CALLBACK on_unregistered(void* self, BOOLEAN timed_out);
  static void release_fired(HANDLE registration);
  void post(operation& op);

  completion_port port_;
  post_failed_fn post_failed_;
  unique_handle object_;      // our duplicate of the waited-on handle
  std::atomic<int> state_{armed};
  std::atomic<bool> unregister_started_{false};
  // The RegisterWaitForSingleObject handle; taken (set to fired_mark) by the
  // callback, which then releases it, or by arm() if the callback came first.
  std::atomic<HANDLE> wait_{nullptr};
  HANDLE ack_wait_ = nullptr; // the one-shot wait on ack_event_
  unique_handle ack_event_;
  operation fired_{op_kind::wait_fired};
  operation unregistered_{op_kind::wait_unregistered};
};

using wait_ptr = std::shared_ptr<wait_registration>;

} // namespace iocaf::io
