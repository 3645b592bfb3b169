#pragma once
// Outgoing TCP connections: ConnectEx on a bound overlapped socket, bounded by
// options.connection.connect_timeout. Returns the connection actor at once;
// the handler then gets stream_opened, or stream_closed with reason
// connect_failed and an error:
//   errc::not_found  refused (WSAECONNREFUSED / ERROR_CONNECTION_REFUSED) or unreachable
//   errc::timeout    no answer within connect_timeout
//   errc::bad_input  not a numeric address, or no handler (returned here, nothing is spawned)
#include "actors/tcp/tcp_connection.hpp"

#include <string>

namespace iocaf {

struct tcp_connect_options {
  std::string address = "127.0.0.1"; // numeric IPv4 or IPv6 ("::1")
  std::uint16_t port = 0;
  tcp_connection_options connection; // connect_timeout among them
};

caf::expected<caf::actor> spawn_tcp_connect(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                            tcp_connect_options opts, caf::actor handler);

} // namespace iocaf
