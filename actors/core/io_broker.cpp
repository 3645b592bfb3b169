#include "actors/core/io_broker.hpp"

#include <caf/abstract_actor.hpp>
#include <caf/execution_unit.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include <chrono>
#include <optional>
#include <unordered_map>
#include <unordered_set>
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
// is looked at again; jobs queued with exec_after_look wait for one more look
// at the port first (a pipe's next read after its write's packet). An actor
// whose turns here take longer than the turn limit (a handler that computes)
// holds up the dequeue and every connection meanwhile: after a few such
// turns in a row it is sent to the scheduler whenever it is woken. io actors
// are never sent away: their turns are the I/O calls.
class broker_unit : public caf::execution_unit, public runs_after_turn {
public:
  broker_unit(caf::actor_system& sys, const io_core& core, std::chrono::microseconds turn_limit)
    : caf::execution_unit(&sys), core_(core), log_(logger("broker")),
      throughput_(sys.scheduler().max_throughput()), turn_limit_(turn_limit) {}

  ~broker_unit() override { hand_over(); }

  void exec_later(caf::resumable* job) override {
    if (next_ == nullptr && !sent_away(job))
      next_ = job;
    else
      system().scheduler().enqueue(job);
  }

  void exec_after_turn(caf::resumable* job) override { after_.push_back(job); }
  void exec_after_look(caf::resumable* job) override { after_look_.push_back(job); }

  bool idle() const { return next_ == nullptr && after_.empty() && after_look_.empty() && looked_.empty(); }

  // The port was looked at: what waited for that may run in this turn.
  void port_looked() {
    looked_.insert(looked_.end(), after_look_.begin(), after_look_.end());
    after_look_.clear();
  }

  // Runs the waiting actor and those it wakes, each for one throughput
  // slice, up to max_turn of them; then the port is looked at again.
  void run_turn() {
    for (std::size_t n = 0; n < max_turn && !idle(); ++n) {
      caf::resumable* job = std::exchange(next_, nullptr);
      if (job == nullptr) { // the woken actors are done: what waited for them
        auto& from = !after_.empty() ? after_ : looked_;
        if (from.empty())
          break; // only what waits for the next look at the port is left
        job = from.back();
        from.pop_back();
      }
      auto started = clock::now();
      auto result = job->resume(this, throughput_);
      if (turn_limit_.count() > 0)
        judge_turn(job, clock::now() - started);
      switch (result) {
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
    for (auto* jobs : {&after_, &after_look_, &looked_}) {
      for (auto* job : *jobs)
        system().scheduler().enqueue(job);
      jobs->clear();
    }
  }

private:
  static caf::actor_id actor_id_of(caf::resumable* job) {
    auto* actor = dynamic_cast<caf::abstract_actor*>(job); // null for a plain job
    return actor != nullptr ? actor->id() : caf::invalid_actor_id;
  }

  bool sent_away(caf::resumable* job) const {
    return !sent_away_.empty() && sent_away_.count(actor_id_of(job)) != 0;
  }

  // Under load a short turn is now and then preempted past the limit (one
  // long turn as the rule sent 51 light echo handlers away in one benchmark
  // run), so only long_turns_in_a_row long turns in a row send one away.
  void judge_turn(caf::resumable* job, clock::duration took) {
    if (took <= turn_limit_) {
      if (!long_turns_.empty())
        long_turns_.erase(actor_id_of(job));
      return;
    }
    auto id = actor_id_of(job);
    if (id == caf::invalid_actor_id || core_.is_io_actor(id))
      return;
    if (long_turns_.size() >= max_tracked)
      long_turns_.clear(); // bounded: a dead actor's count goes too
    if (++long_turns_[id] < long_turns_in_a_row)
      return;
    long_turns_.erase(id);
    if (sent_away_.size() >= max_tracked)
      sent_away_.clear(); // bounded: the dead ones' ids go too; a live one comes back until it runs long again
    sent_away_.insert(id);
    log_->info("actor#{} ran over {} us on the broker's thread {} turns in a row (the last {} us): it runs on"
               " CAF's workers from now on",
               id, turn_limit_.count(), long_turns_in_a_row,
               std::chrono::duration_cast<std::chrono::microseconds>(took).count());
  }

  static constexpr std::size_t max_turn = 16;
  static constexpr std::size_t max_tracked = 4096;
  static constexpr int long_turns_in_a_row = 3;
  const io_core& core_;
  std::shared_ptr<spdlog::logger> log_;
  std::size_t throughput_;
  std::chrono::microseconds turn_limit_;
  caf::resumable* next_ = nullptr;
  std::vector<caf::resumable*> after_;      // run once nothing else waits
  std::vector<caf::resumable*> after_look_; // moved to looked_ when the port was looked at
  std::vector<caf::resumable*> looked_;     // run once nothing else waits
  std::unordered_map<caf::actor_id, int> long_turns_; // actors whose last turns here ran long: how many
  std::unordered_set<caf::actor_id> sent_away_;      // actors that ran long long_turns_in_a_row times
};

class broker_loop {
public:
  broker_loop(caf::blocking_actor* self, std::shared_ptr<io_core> core, const runtime_options& opts)
    : self_(self), core_(std::move(core)), log_(logger("broker")), dequeue_size_(opts.batch_size) {
    if (opts.broker_runs_actors)
      unit_.emplace(self->home_system(), *core_, opts.broker_turn_limit);
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
      if (unit_)
        unit_->port_looked();
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

void io_broker(caf::blocking_actor* self, std::shared_ptr<io_core> core, runtime_options opts) {
  broker_loop{self, std::move(core), opts}.run();
}

} // namespace iocaf
