#pragma once
// The iocaf runtime: one completion port and its IO broker for an actor
// system. Create it after the actor_system and let it go before: its
// destructor runs the bounded shutdown (DESIGN.md §2.7).
#include "actors/core/io_core.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace iocaf {

struct runtime_options {
  // How long shutdown waits for io actors to drain and packets to arrive
  // before it kills what is left and leaks what is still in flight.
  std::chrono::milliseconds shutdown_bound{5000};
  // After io actors still draining at the bound were killed, how long the
  // broker waits for their cancelled operations' packets (on top of what is
  // left of shutdown_bound) before it leaks them.
  std::chrono::milliseconds kill_grace{1000};
  // Most packets one GetQueuedCompletionStatusEx call takes. The broker
  // asks for one while packets come alone (io::dequeue_size: under Wine a
  // batch costs a request per entry and one more for the empty queue).
  std::size_t batch_size = 64;
  // Where the actors a completion wakes run. true (the default): on the
  // broker's thread right after the dequeue, one at a time (its io actor,
  // then its handler, ...), as Asio runs handlers on its run() thread.
  // false: on CAF's workers (a sleeping worker is woken for them).
  // Measured under Wine (README, docs/design.md): true has the better
  // one-connection latency wherever hand-overs between threads are slow,
  // keeps I/O going when CPU-heavy actors occupy CAF's workers (4-75x the
  // round trips of false), and still led Asio at 16 and 64 connections;
  // false spreads busy connections over the workers, and a handler that
  // computes never holds up the dequeue (with true it does so three times:
  // broker_turn_limit). A handler that burns CPU or blocks holds up
  // whatever thread runs it: spawn it detached (docs/handlers.md).
  bool broker_runs_actors = true;
  // With broker_runs_actors: an actor whose turn on the broker's thread took
  // longer than this three times in a row (a handler that computes) runs on
  // CAF's workers from then on, so it does not hold up the dequeue on every
  // message. io actors stay: their turns are the I/O calls the placement
  // is for.
  // 0: every actor woken there stays.
  std::chrono::microseconds broker_turn_limit{1000};
};

struct shutdown_report {
  std::size_t actors_stopped = 0; // io actors that finished their cancel protocol
  std::size_t actors_killed = 0;  // io actors still draining at the bound, killed
  std::uint64_t leaked = 0;       // operations still in flight at the bound, leaked
  std::vector<std::string> leaked_operations; // one line each: "op#12 kind=read owner=actor#7"
  std::chrono::milliseconds took{0};
};

class runtime {
public:
  // Throws std::runtime_error naming the Win32 failure if the port cannot be made.
  explicit runtime(caf::actor_system& sys, runtime_options opts = {});
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  caf::actor_system& system() { return sys_; }
  const std::shared_ptr<io_core>& core() const { return core_; }
  const caf::actor& broker() const { return broker_; }

  // Asks the broker for its counters (bounded); on the broker's own thread
  // (an actor run there with broker_runs_actors) reads them directly.
  broker_stats stats();
  // Stops every io actor (also those spawned while it runs), then the
  // broker; bounded by shutdown_bound (+ kill_grace if it had to kill).
  // Idempotent. Throws std::logic_error at once when called on the broker's
  // own thread, which it would otherwise wait for.
  shutdown_report shutdown();

private:
  bool on_broker_thread() const;
  caf::actor_system& sys_;
  runtime_options opts_;
  std::shared_ptr<io_core> core_;
  caf::actor broker_;
  bool stopped_ = false;
  shutdown_report report_;
};

} // namespace iocaf
