#pragma once
// One TCP connection: the stream core (actors/stream) over a socket
// transport. What is TCP's own stays here: WSARecv/WSASend, ConnectEx with a
// timeout, the half-close (our FIN after the queue flushed, then the peer's
// EOF) and the abortive close (SO_LINGER 0).
//
// The handler protocol is the stream vocabulary (stream_messages.hpp).
#include "actors/stream/stream_connection.hpp"
#include "io/socket.hpp"

#include <caf/all.hpp>

#include <chrono>

namespace iocaf {

struct tcp_connection_options : stream_options {
  std::chrono::milliseconds connect_timeout{10000};
  bool no_delay = true; // TCP_NODELAY
};


// Spawns a connection actor for an accepted (or already connected) socket.
// The socket is associated with the port here. `handler` gets stream_opened first.
caf::actor spawn_tcp_connection(caf::actor_system& sys, std::shared_ptr<io_core> core, io::unique_socket sock,
                                caf::actor handler, tcp_connection_options opts);

namespace detail {
// The connect path (tcp_connect.cpp) spawns the same actor in its connecting phase.
caf::actor spawn_tcp_connecting(caf::actor_system& sys, std::shared_ptr<io_core> core, io::socket_address to,
                                caf::actor handler, tcp_connection_options opts);
} // namespace detail

} // namespace iocaf
