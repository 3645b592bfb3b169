// The next read after the handler's turn. A read that completed with data
// is handed to the handler and the next read is posted; on CAF's workers
// the handler runs only once the connection's turn ends, so a read posted
// right away (a Win32 call, ~50 us under Wine) delays every answer by that
// much. Posted after the handler instead, the answer's write goes out
// first. Nothing waits on the handler: a job queued on this worker before
// the handler runs after it, answered or not, and posts the read.
#include "actors/core/io_broker.hpp"
#include "actors/stream/stream_state.hpp"

#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/worker.hpp>

namespace iocaf::stream_detail {

namespace {

// Tells the connection to post its read; runs once, as a job of its own.
class read_again_job final : public caf::resumable, public caf::ref_counted {
public:
  explicit read_again_job(caf::strong_actor_ptr connection) : connection_(std::move(connection)) {}

  subtype_t subtype() const override { return function_object; }

  resume_result resume(caf::execution_unit* here, size_t) override {
    connection_->enqueue(caf::make_mailbox_element(nullptr, caf::make_message_id(), {}, read_again_atom::value),
                         here);
    return done;
  }

  void intrusive_ptr_add_ref_impl() override { ref(); }
  void intrusive_ptr_release_impl() override { deref(); }

private:
  caf::strong_actor_ptr connection_;
};

using worker = caf::scheduler::worker<caf::policy::work_stealing>;

} // namespace

bool defer_read_past_handler(self_ptr self) {
  // A work-stealing worker runs the jobs queued from its own turn last in,
  // first out: queued now, before the handler is woken, this job runs after
  // it (and after the connection's turn the handler's answer starts). The
  // broker's unit runs it once the actors its turn woke are done. On any
  // other execution unit (another scheduler) read now.
  if (auto* here = dynamic_cast<worker*>(self->context())) {
    here->exec_later(new read_again_job(self->ctrl())); // the worker owns its one reference
    return true;
  }
  if (auto* here = dynamic_cast<runs_after_turn*>(self->context())) {
    here->exec_after_turn(new read_again_job(self->ctrl()));
    return true;
  }
  return false;
}

// On the broker's thread a write that did not complete at once (a pipe's)
// has its packet queued by now: the read waits for one more look at the
// port, so that packet is dequeued first, as Asio posts its read after the
// write's completion. Posted first, the read found nothing yet, and under
// Wine a read that waits is finished later by a kernel APC on the issuing
// thread before its packet is queued (pipe pings 0.92x / 1.04x Asio before,
// 0.98x / 1.13x / 1.05x / 1.11x after: medians of 3-5 rounds). A TCP write
// is taken at once (no packet): its read goes at once, as another look
// would find nothing (one connection 0.88x / 0.85x -> 0.80x / 0.79x Asio
// when it waited too).
void on_read_again(self_ptr self) {
  auto& st = self->state;
  if (st.wr == write_state::pending && !st.read_waited_for_look) {
    if (auto* here = dynamic_cast<runs_after_turn*>(self->context())) {
      st.read_waited_for_look = true;
      here->exec_after_look(new read_again_job(self->ctrl()));
      return;
    }
  }
  st.read_waited_for_look = false;
  post_read(self);
}

} // namespace iocaf::stream_detail
