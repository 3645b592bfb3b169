#pragma once
// The IO broker: the only actor that blocks. A detached blocking actor that
// dequeues packets in batches with GetQueuedCompletionStatusEx, maps each to
// its operation through the in-flight table and sends the owner an
// io_completed. Control messages (stats_atom, stop_atom) are paired with a
// wake packet by the sender (runtime), so it never polls.
#include "actors/core/io_core.hpp"
#include "actors/core/runtime.hpp"

#include <caf/blocking_actor.hpp>
#include <caf/resumable.hpp>

#include <memory>

namespace iocaf {

// The broker's thread as an execution unit (runs_actors) runs a job queued
// here after the actors its turn woke, as a work-stealing worker runs the
// jobs queued from its own turn last (actors/stream/read_after_handler.cpp).
class runs_after_turn {
public:
  virtual void exec_after_turn(caf::resumable* job) = 0; // takes one reference
  // Later still: once the broker has looked at the port again, so a packet
  // already queued (a pipe write's) is handled first (takes one reference).
  virtual void exec_after_look(caf::resumable* job) = 0;

protected:
  ~runs_after_turn() = default;
};

// Uses opts.batch_size, broker_runs_actors (the actors a completion wakes,
// its io actor, then its handler, ..., run on the broker's thread, one at a
// time: broker_unit in io_broker.cpp) and broker_turn_limit.
void io_broker(caf::blocking_actor* self, std::shared_ptr<io_core> core, runtime_options opts);

} // namespace iocaf
