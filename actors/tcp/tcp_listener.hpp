#pragma once
// A TCP listener as an io actor: binds IPv4 or IPv6, keeps `accepts_posted`
// AcceptEx operations in flight, and turns every accepted socket into a
// connection actor (actors/tcp/tcp_connection.hpp) talking to its handler
// (the listener's connection_handler: one actor for all, or one per connection).
//
// It keeps serving through failed accepts (io::classify_accept_error): a
// client that reset before its accept completed is counted and the accept
// re-posted at once; a shortage of sockets, buffers or memory (WSAEMFILE,
// WSAENOBUFS, ...) re-posts that accept after a backoff of 10 ms doubling to
// 1 s; only an unusable listening socket stops it. Each failure is logged at
// warn level.
//
// Binding happens in spawn_tcp_listener itself (it never blocks), so a port
// in use or a bad address is an error value right there, and port 0 reports
// the port the system picked.
#include "actors/stream/connection_handler.hpp"
#include "actors/tcp/tcp_connection.hpp"

#include <string>

namespace iocaf {

struct tcp_listener_options {
  std::string address = "127.0.0.1"; // numeric IPv4 or IPv6 ("::1")
  std::uint16_t port = 0;            // 0: any free port (see tcp_listener::local)
  int backlog = SOMAXCONN;
  std::size_t accepts_posted = 8;    // AcceptEx operations kept in flight
  tcp_connection_options connection;
};

struct tcp_listener {
  caf::actor actor;         // send close_atom (or an exit) to stop accepting
  io::socket_address local; // the bound address, with the port the system picked for port 0
};

// Errors: errc::in_use (address already in use), errc::bad_input (not a
// numeric address, an address this machine does not have, or no handler),
// errc::win32.
caf::expected<tcp_listener> spawn_tcp_listener(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                               tcp_listener_options opts, connection_handler handler);

// Listener statistics (answer to stats_atom).
struct tcp_listener_stats {
  std::uint64_t accepted = 0;
  std::uint64_t accept_errors = 0;    // every failed accept, of any kind below
  std::uint64_t resets = 0;           // of those: the client reset or left before its accept completed
  std::uint64_t transient_errors = 0; // of those: short of resources (WSAEMFILE, WSAENOBUFS, ...), backed off
  std::uint64_t posted = 0;           // AcceptEx operations in flight now
  std::uint64_t backing_off = 0;      // accept slots waiting out a backoff now
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tcp_listener_stats& x) {
  return f(caf::meta::type_name("tcp_listener_stats"), x.accepted, x.accept_errors, x.resets, x.transient_errors,
           x.posted, x.backing_off);
}

} // namespace iocaf
