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
//       the event of an acknowledgement slot lent to this wait, whose
//       callback turns it into a packet, the last. A callback that lost the
//       race may still be running until then.
// An acknowledgement slot is an auto-reset event with a thread-pool wait
// registered on it once for the life of the process (never released, so its
// callback can never touch freed memory). Slots are lent one wait at a time
// and taken back when that wait's last packet is dequeued, so a signal names
// the wait it was lent to. They cost what the peak of concurrent
// unregistrations costs, once; a registration per acknowledgement (and its
// release) was most of an io actor's teardown under Wine.
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

  // Borrows an acknowledgement slot and starts UnregisterWaitEx with its
  // event; only for a cancelled wait, by the caller that won
  // claim_unregister(). Put unregistered_op() in flight before: its packet
  // may arrive before this returns. On failure no packet comes, and the slot
  // is retired (never lent again: the call's effect is unknown).
  error begin_unregister();

  // Called by the dequeuer once the acknowledgement packet arrived (or was
  // made without one): the slot goes back to be lent again.
  void on_acknowledged();

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
  // Every RegisterWaitForSingleObject this process made through this class
  // (the waits' own, and what their acknowledgements cost).
  static std::int64_t registrations_made();
  // Acknowledgement slots made in this process (each holds one registration
  // for good), and those lent out now.
  static std::int64_t slots_made();
  static std::int64_t slots_lent();

private:
  struct ack_slot;
  static result<ack_slot*> borrow_slot();
  static void CALLBACK on_signal(void* self, BOOLEAN timed_out);
  static void CALLBACK on_slot_signalled(void* slot, BOOLEAN timed_out);
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
  ack_slot* ack_ = nullptr; // lent from begin_unregister to on_acknowledged
  operation fired_{op_kind::wait_fired};
  operation unregistered_{op_kind::wait_unregistered};
};

using wait_ptr = std::shared_ptr<wait_registration>;

} // namespace iocaf::io
