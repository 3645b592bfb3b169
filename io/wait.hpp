#pragma once
// A thread-pool wait (RegisterWaitForSingleObject) whose callback posts a
// packet to the completion port, and whose unregistration is acknowledged
// through the port too.
//
// "A wait dies twice" (DESIGN.md §2.2): the registration's memory may be
// touched by the thread-pool callback until UnregisterWaitEx has completed,
// which we learn from an event that a second, one-shot wait turns into a
// packet. The atomic state decides which packets will come:
//   armed --callback--> fired      : the fired packet is posted
//   armed --cancel----> cancelled  : no fired packet will ever be posted
// Exactly one unregistration runs per wait (after firing or on cancel); its
// acknowledgement packet is the last one the wait receives. The operations
// live inside this object and the in-flight table holds them through aliasing
// shared_ptrs, so the object is freed only after every packet was dequeued.
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

  // Exactly one caller wins the right to unregister (returns true once).
  bool claim_unregister() { return !unregister_started_.exchange(true); }
  bool unregister_claimed() const { return unregister_started_.load(); }

  // Starts UnregisterWaitEx with the acknowledgement event; only the caller
  // that won claim_unregister(). Put unregistered_op() in flight before: its
  // packet may arrive before this returns. Allowed in any state: if the wait
  // fired, its packet was posted before the acknowledgement can be.
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

  // Wait registrations alive in this process.
  static std::int64_t live_count();

private:
  static void CALLBACK on_signal(void* self, BOOLEAN timed_out);
  static void CALLBACK on_unregistered(void* self, BOOLEAN timed_out);
  void post(operation& op);

  completion_port port_;
  post_failed_fn post_failed_;
  unique_handle object_;      // our duplicate of the waited-on handle
  std::atomic<int> state_{armed};
  std::atomic<bool> unregister_started_{false};
  HANDLE wait_ = nullptr;     // the RegisterWaitForSingleObject handle
  HANDLE ack_wait_ = nullptr; // the one-shot wait on ack_event_
  unique_handle ack_event_;
  operation fired_{op_kind::wait_fired};
  operation unregistered_{op_kind::wait_unregistered};
};

using wait_ptr = std::shared_ptr<wait_registration>;

} // namespace iocaf::io
