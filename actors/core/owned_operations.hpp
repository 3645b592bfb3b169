#pragma once
// The operations and waits one io actor owns. Lives in the actor's state
// (declare it after the handles it uses, so it is destroyed first).
//
// Normal path: start() puts an operation in flight, complete() matches the
// broker's io_completed to it; cancel_all() starts the cancel protocol.
// Abrupt path (the state is destroyed with operations pending, e.g. after
// exit_reason::kill): the destructor marks them orphaned and cancels them
// without waiting; the in-flight table keeps their memory until the packets
// arrive and the broker releases them (DESIGN.md §2.5).
#include "actors/core/io_core.hpp"

#include <memory>
#include <optional>
#include <unordered_map>

namespace iocaf {

// Which of several slots (each with an `op`, e.g. a listener's accepts in
// flight) an operation belongs to.
template <class Slots>
std::optional<std::size_t> slot_of(const Slots& slots, const io::operation_ptr& op) {
  for (std::size_t i = 0; i < slots.size(); ++i)
    if (slots[i].op == op)
      return i;
  return std::nullopt;
}

class owned_operations {
public:
  // CAF constructs actor states before the actor's arguments are at hand,
  // so the operations are attached to the runtime's core in a second step.
  owned_operations() = default;
  void attach(std::shared_ptr<io_core> core, caf::actor_addr owner);
  ~owned_operations();
  owned_operations(const owned_operations&) = delete;
  owned_operations& operator=(const owned_operations&) = delete;

  io_core& core() { return *core_; }
  const std::shared_ptr<io_core>& core_ptr() const { return core_; }

  io::operation_ptr make(io::op_kind kind, std::size_t buffer_size = 0) const {
    return std::make_shared<io::operation>(kind, buffer_size);
  }

  // Puts op in flight on handle h, then runs start(*op) (the Win32 call,
  // returning 0 when a packet will come, else the inline Win32 code). On an
  // inline result the operation is taken out of flight again and the code
  // returned: no packet will come for it. A start that must be refused (op
  // already in flight, the actor closing, an accept after shutdown began)
  // is refused before op is touched, with a code saying why.
  template <class Start>
  unsigned long start(const io::operation_ptr& op, HANDLE h, Start&& start) {
    if (auto refused = refuse_start(*op))
      return refused;
    op->prepare(h);
    if (!core_->put_in_flight(op, owner_)) {
      core_->log->critical("op#{}: a fresh start record is already in flight", op->id());
      return ERROR_INVALID_STATE;
    }
    pending_.emplace(op->id(), op);
    unsigned long code = start(*op);
    if (code != 0) {
      core_->table.erase(op->overlapped());
      pending_.erase(op->id());
    }
    return code;
  }

  // The single result path (as Asio's): the start's outcome reaches the
  // owner as io_completed whether a packet comes or the call failed inline
  // (then a synthetic completion carries the code), so the owner handles
  // errors in one place, its completion handler. A start refused before op
  // was touched (closing, shutdown) is delivered the same way, as
  // ERROR_OPERATION_ABORTED. Returns false only for a bug: op already in
  // flight (ERROR_BUSY, logged); nothing is delivered then.
  template <class Start>
  bool launch(const io::operation_ptr& op, HANDLE h, Start&& start_fn) {
    if (auto code = start(op, h, std::forward<Start>(start_fn))) {
      if (code == ERROR_BUSY && pending_.count(op->id()) > 0)
        return false;
      complete_inline(op, code);
    }
    return true;
  }

  // Under Wine the thread that issued an overlapped call runs part of its
  // completion (the wineserver hands the result to that thread), so a call
  // left pending by a sleeping CAF worker wakes that worker when it ends. On
  // the broker placement a completion's owner runs on the broker's thread,
  // which is awake in the port anyway: calls that may stay pending long (a
  // child's output reads) are better issued there. Off that thread, posts a
  // packet for `op` (op_kind::user, no handle) and returns true: its
  // completion runs the owner there, to issue them then. False: issue them
  // now (this is the broker's thread, or the workers placement).
  bool move_to_broker(const io::operation_ptr& op);

  // Waits for a kernel object to be signalled (e.g. a process handle, which
  // must stay open until the wait is released). Refused while closing
  // (ERROR_OPERATION_ABORTED), as a start is.
  io::result<io::wait_ptr> watch(HANDLE object);

  struct completion {
    io::operation_ptr op;
    io::wait_ptr wait;        // set for a wait's packets
    std::uint32_t bytes = 0;
    std::uint32_t error = 0;  // Win32 code; ERROR_OPERATION_ABORTED after a cancel
    // A cancelled wait's last packet (after its fired operation, aborted).
    // A wait that fired has one packet: the fired one.
    bool wait_released() const { return wait && op->kind() == io::op_kind::wait_unregistered; }
  };
  // Matches a completion to one of our operations. A wait that fired ends
  // with that completion (its callback released the registration).
  std::optional<completion> complete(const io_completed& msg);

  // Cancels every pending operation and ends every wait. Idempotent.
  // Several operations on one handle (a listener's accepts, a test's reads)
  // are cancelled with one call when no other actor has any in flight there.
  void cancel_all();
  // From how many of our operations pending on one handle cancel_all()
  // cancels them with one call (the table scan that proves no other actor
  // has one there is not worth it for a connection's read and write).
  static constexpr std::size_t per_handle_cancel_from = 4;
  // Operations and waits whose last packet has not been seen.
  std::size_t pending() const { return pending_.size() + waits_.size(); }
  bool in_flight(const io::operation_ptr& op) const { return pending_.count(op->id()) > 0; }

  bool closing() const { return closing_; }
  void set_closing() { closing_ = true; }

private:
  unsigned long refuse_start(const io::operation& op) const;
  void cancel_pending();
  void complete_inline(const io::operation_ptr& op, unsigned long code);

  std::shared_ptr<io_core> core_;
  caf::actor_addr owner_;
  std::unordered_map<std::uint64_t, io::operation_ptr> pending_; // by op id
  std::unordered_map<std::uint64_t, io::wait_ptr> waits_;         // by unregistered-op id
  bool closing_ = false;
};

} // namespace iocaf
