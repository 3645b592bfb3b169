#pragma once
// The IO broker: the only actor that blocks. A detached blocking actor that
// dequeues packets in batches with GetQueuedCompletionStatusEx, maps each to
// its operation through the in-flight table and sends the owner an
// io_completed. Control messages (stats_atom, stop_atom) are paired with a
// wake packet by the sender (runtime), so it never polls.
#include "actors/core/io_core.hpp"

#include <caf/blocking_actor.hpp>

#include <memory>

namespace iocaf {

// runs_actors: the actors a completion wakes (its io actor, then its
// handler, ...) run on the broker's thread, one at a time (broker_unit in
// io_broker.cpp); false: on CAF's workers (runtime_options).
void io_broker(caf::blocking_actor* self, std::shared_ptr<io_core> core, std::size_t batch_size,
               bool runs_actors);

} // namespace iocaf
