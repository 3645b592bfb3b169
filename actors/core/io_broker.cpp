#include "actors/core/io_broker.hpp"

#include <caf/execution_unit.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include <chrono>
#include <optional>
#include <utility>
#include <vector>

namespace iocaf {

namespace {

using clock = std::chrono::steady_clock;

// The broker's thread as a CAF execution unit (runtime_options::
// broker_runs_actors), as Asio runs handlers on its run() thread. The actor a
// completion wakes (its io actor) runs here right after the dequeue, then the
// actor that one wakes (its handler), and so on, one at a time: no CAF
// worker must be woken from its sleep first (a wineserver round trip under
// Wine, ~90 us per hop measured), and CPU-heavy actors on the workers cannot
// hold the I/O up. Only one actor waits here at a time: a second one woken
// meanwhile goes to CAF's scheduler, so many busy connections still spread
// over the workers (with every woken io actor kept here, 250 ping-pong
// connections took 28 s instead of ~9). An actor runs in one place at a time
// whichever unit woke it (its mailbox guarantees that), so an actor a
// worker's message wakes runs on a worker. Jobs queued with exec_after_turn
// (a connection's next read) run once no woken actor waits, before the port
// is looked at again.
class broker_unit : public caf::execution_unit, public runs_after_turn {
public:
  explicit broker_unit(caf::actor_system& sys)
    : caf::execution_unit(&sys), throughput_(sys.scheduler().max_throughput()) {}

  ~broker_unit() override { hand_over(); }

  void exec_later(caf::resumable* job) override {
    if (next_ == nullptr)
      next_ = job;
    else
      system().scheduler().enqueue(job);
  }

  void exec_after_turn(caf::resumable* job) override { after_.push_back(job); }

  bool idle() const { return next_ == nullptr && after_.empty(); }

  // Runs the waiting actor and those it wakes, each for one throughput
  // slice, up to max_turn of them; then the port is looked at again.
  void run_turn() {
    for (std::size_t n = 0; n < max_turn && !idle(); ++n) {
      caf::resumable* job = std::exchange(next_, nullptr);
      if (job == nullptr) { // the woken actors are done: what waited for them
        job = after_.back();
        after_.pop_back();
      }
      switch (job->resume(this, throughput_)) {
        case caf::resumable::resume_later:
          exec_later(job); // keeps the reference its waker took
          break;
        case caf::resumable::done:
        case caf::resumable::awaiting_message:
          intrusive_ptr_release(job);
          break;
        case caf::resumable::shutdown_execution_unit:
          break; // only the scheduler's own shutdown jobs say this; none come here
      }
    }
  }

  // The broker stops: what still waits here runs on CAF's scheduler.
  void hand_over() {
    if (auto* job = std::exchange(next_, nullptr))
      system().scheduler().enqueue(job);
    for (auto* job : after_)
      system().scheduler().enqueue(job);
    after_.clear();
  }

private:
  static constexpr std::size_t max_turn = 16;
  std::size_t throughput_;
  caf::resumable* next_ = nullptr;
  std::vector<caf::resumable*> after_; // run once nothing else waits
};

class broker_loop {
public:
  broker_loop(caf::blocking_actor* self, std::shared_ptr<io_core> core, bool runs_actors, std::size_t batch_size)
    : self_(self), core_(std::move(core)), log_(logger("broker")), dequeue_size_(batch_size) {
    if (runs_actors)
      unit_.emplace(self->home_system());
  }

  void run() {
    core_->broker_thread.store(std::this_thread::get_id());
    std::vector<OVERLAPPED_ENTRY> entries(dequeue_size_.batch());
    log_->debug("running, batch size {}", entries.size());
    for (;;) {
      DWORD timeout = unit_ && !unit_->idle() ? 0 : INFINITE;
      if (stopping_ && timeout != 0) {
        if (core_->table.size() == 0)
          break;
        auto now = clock::now();
        if (now >= deadline_)
          break;
        timeout = static_cast<DWORD>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now).count() + 1);
      }
      auto n = core_->port.dequeue(entries.data(), dequeue_size_.next(), timeout);
      if (!n) {
        log_->critical("{}; the broker stops", n.err().to_string());
        break;
      }
      dequeue_size_.got(*n);
      std::size_t wakes = 0;
      for (std::size_t i = 0; i < *n; ++i)
        wakes += dispatch(entries[i]) ? 1 : 0;
      if (wakes > 0)
        read_mailbox(wakes);
      if (unit_)
        unit_->run_turn();
    }
    if (unit_)
      unit_->hand_over();
    report_leftovers();
    core_->broker_thread.store(std::thread::id{});
  }

private:
  // Returns true for a wake packet (a control message waits in the mailbox).
  bool dispatch(const OVERLAPPED_ENTRY& e) {
    if (e.lpOverlapped == nullptr) {
      if (e.lpCompletionKey == io::key_wake) {
        core_->wakes.fetch_add(1);
        return true;
      }
      core_->unexpected.fetch_add(1);
      log_->error("unexpected packet without OVERLAPPED, key {}", e.lpCompletionKey);
      return false;
    }
    core_->packets.fetch_add(1);
    auto entry = core_->table.take(e.lpOverlapped);
    if (!entry) {
      core_->unexpected.fetch_add(1);
      log_->error("unexpected packet: unknown OVERLAPPED {} (key {}, {} bytes)",
                  static_cast<void*>(e.lpOverlapped), e.lpCompletionKey,
                  e.dwNumberOfBytesTransferred);
      return false;
    }
    // The packet's OVERLAPPED names one start record; the operation must
    // still be at that start. Otherwise the packet belongs to an earlier start.
    auto& op = *entry->op;
    if (!op.alive() || op.generation() != entry->generation) {
      core_->unexpected.fetch_add(1);
      core_->stale.fetch_add(1);
      log_->error("stale packet: op#{} is at generation {}, the packet's start was generation {}", op.id(),
                  op.generation(), entry->generation);
      return false;
    }
    auto error = io::win32_from_status(static_cast<long>(e.lpOverlapped->Internal));
    core_->complete(*entry, e.dwNumberOfBytesTransferred, static_cast<std::uint32_t>(error),
                    unit_ ? &*unit_ : nullptr);
    return false;
  }

  // Every control message is sent before its wake packet is posted, so when
  // a wake is dequeued its message is already in the mailbox: read exactly
  // that many, each without waiting. Never receive on an empty mailbox: CAF
  // turns after(0) into a timed wait, and under Wine every timed wait lasts a
  // whole timer tick (~1.2 ms, DESIGN.md §4), which once sat on every packet.
  void read_mailbox(std::size_t messages) {
    for (std::size_t i = 0; i < messages && !self_->mailbox().empty(); ++i)
      self_->receive(
        [&](stats_atom) { return core_->stats(); },
        [&](stop_atom, std::int64_t bound_ms) { begin_stop(bound_ms); },
        caf::after(std::chrono::seconds(0)) >> [&] {
          log_->warn("a wake packet without its control message");
        });
  }

  void begin_stop(std::int64_t bound_ms) {
    if (stopping_)
      return;
    stopping_ = true;
    deadline_ = clock::now() + std::chrono::milliseconds(bound_ms);
    auto inflight = core_->table.snapshot();
    log_->debug("stopping: {} operations in flight, bound {} ms", inflight.size(), bound_ms);
    // Owners should have cancelled already; this covers the ones that could not.
    for (auto& entry : inflight) {
      if (entry.wait)
        core_->end_wait(entry.wait, caf::actor_cast<caf::actor_addr>(entry.owner), false);
      else if (auto code = entry.op->cancel())
        log_->warn("cancelling op#{} at shutdown: {}", entry.op->id(),
                   io::error{"CancelIoEx", code}.to_string());
    }
  }

  void report_leftovers() {
    if (core_->leak_in_flight("when the shutdown bound was reached") == 0)
      log_->debug("stopped, nothing in flight");
  }

  caf::blocking_actor* self_;
  std::shared_ptr<io_core> core_;
  std::shared_ptr<spdlog::logger> log_;
  io::dequeue_size dequeue_size_;
  std::optional<broker_unit> unit_;
  bool stopping_ = false;
  clock::time_point deadline_;
};

} // namespace

void io_broker(caf::blocking_actor* self, std::shared_ptr<io_core> core, std::size_t batch_size,
               bool runs_actors) {
  broker_loop{self, std::move(core), runs_actors, batch_size}.run();
}

} // namespace iocaf
