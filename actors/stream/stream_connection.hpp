#pragma once
// The stream-connection core shared by named pipes and TCP: one io actor per
// connection, speaking stream_messages.hpp with one handler actor, over a
// stream_transport. It monitors the handler (handler down: abortive close).
#include "actors/core/io_core.hpp"
#include "actors/stream/stream_messages.hpp"
#include "actors/stream/stream_transport.hpp"

#include <memory>

namespace iocaf {

// Spawns the connection; the handler hears stream_opened first (or, if the
// transport cannot be prepared or connected, only stream_closed).
caf::actor spawn_stream_connection(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                   std::unique_ptr<stream_transport> transport, caf::actor handler,
                                   stream_options opts);

} // namespace iocaf
