#pragma once
// Outgoing TCP connections: ConnectEx on a bound overlapped socket, bounded by
// options.connect_timeout. Returns the connection actor at once; the handler
// then gets stream_opened, or stream_closed with reason connect_failed and an error:
//   errc::not_found  refused (WSAECONNREFUSED / ERROR_CONNECTION_REFUSED) or unreachable
//   errc::timeout    no answer within connect_timeout
//   errc::bad_input  not a numeric address (returned here, nothing is spawned)
#include "actors/tcp/tcp_connection.hpp"

#include <string>

namespace iocaf {

caf::expected<caf::actor> spawn_tcp_connect(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                            const std::string& address, std::uint16_t port, caf::actor handler,
                                            tcp_connection_options opts = {});

} // namespace iocaf
