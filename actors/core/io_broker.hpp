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

void io_broker(caf::blocking_actor* self, std::shared_ptr<io_core> core, std::size_t batch_size);

} // namespace iocaf
