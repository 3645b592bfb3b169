#pragma once
// One TCP connection as an io actor: overlapped WSARecv/WSASend, typed
// messages to and from a handler actor, bounded memory both ways.
//
// Reading is credit-based: the connection delivers at most `read_credit`
// bytes that the handler has not yet acknowledged with tcp_consumed; past
// that it stops posting reads (TCP flow control then slows the peer).
// Writing goes through a queue bounded by `max_queued_bytes`: past it a send
// is refused (tcp_send_refused to the handler) or, with the disconnect
// policy, the connection is dropped as a slow consumer. tcp_drained tells
// the handler the queue emptied after it had been half full or refused.
//
// Handler protocol (every event carries the connection actor):
//   tcp_opened        connected/accepted, reading starts
//   tcp_received      data; answer with tcp_consumed{bytes} when done with it
//   tcp_peer_eof      the peer half-closed (a 0-byte read); we may still send
//   tcp_send_refused, tcp_drained   write backpressure
//   tcp_closed        the last event: why the connection ended
// Handler -> connection: tcp_send, tcp_consumed, tcp_close.
#include "actors/core/io_actor.hpp"
#include "actors/core/messages.hpp"
#include "io/socket.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace iocaf {

enum class write_full_policy : std::uint8_t {
  refuse,     // tcp_send_refused to the handler, the data is dropped
  disconnect, // abortive close with reason slow_consumer
};

struct tcp_connection_options {
  std::size_t read_chunk = 16 * 1024;          // bytes per WSARecv
  std::size_t read_credit = 256 * 1024;        // delivered but unconsumed bytes before reads pause
  std::size_t max_queued_bytes = 1024 * 1024;  // write queue bound
  std::size_t write_chunk = 64 * 1024;         // bytes per WSASend
  write_full_policy when_full = write_full_policy::refuse;
  std::chrono::milliseconds idle_timeout{0};   // 0: none; no data either way for this long -> close
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds close_bound{5000}; // graceful close: flush + wait for peer EOF at most this long
  bool no_delay = true;                        // TCP_NODELAY
};

enum class tcp_close_reason : std::uint8_t {
  local_close,    // tcp_close from the handler (graceful or abortive)
  peer_eof,       // closed after the peer's half-close
  peer_reset,     // WSAECONNRESET / aborted by the peer
  idle_timeout,
  connect_failed, // see the error (refused, unreachable, timeout)
  slow_consumer,  // write queue full under write_full_policy::disconnect
  handler_down,   // the handler actor terminated
  shutdown,       // exit message (runtime shutdown, link)
  error,          // any other failure, see the error
};
const char* to_string(tcp_close_reason r);

// --- connection -> handler ---------------------------------------------------
struct tcp_opened {
  caf::actor connection;
  std::string local;
  std::string remote;
};
struct tcp_received {
  caf::actor connection;
  std::string data;
};
struct tcp_peer_eof {
  caf::actor connection;
};
struct tcp_send_refused {
  caf::actor connection;
  std::uint64_t bytes = 0;   // the refused send's size
  std::uint64_t queued = 0;  // bytes queued at the time
};
struct tcp_drained {
  caf::actor connection;
};
struct tcp_closed {
  caf::actor_addr connection;
  tcp_close_reason reason = tcp_close_reason::error;
  caf::error error;                    // set for failures (connect_failed, error, ...)
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
};

// --- handler -> connection ---------------------------------------------------
struct tcp_send {
  std::string data;
};
struct tcp_consumed {
  std::uint64_t bytes = 0;
};
struct tcp_close {
  bool abortive = false; // true: SO_LINGER 0, RST, queued data dropped
};

// Queued/credit figures for tests and tools (request with stats_atom).
struct tcp_connection_stats {
  std::uint64_t queued_bytes = 0;
  std::uint64_t unconsumed_bytes = 0;
  std::uint64_t max_queued_seen = 0;
  std::uint64_t max_unconsumed_seen = 0;
  bool reading = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tcp_opened& x) {
  return f(caf::meta::type_name("tcp_opened"), x.connection, x.local, x.remote);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tcp_received& x) {
  return f(caf::meta::type_name("tcp_received"), x.connection, x.data);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tcp_peer_eof& x) {
  return f(caf::meta::type_name("tcp_peer_eof"), x.connection);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tcp_send_refused& x) {
  return f(caf::meta::type_name("tcp_send_refused"), x.connection, x.bytes, x.queued);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tcp_drained& x) {
  return f(caf::meta::type_name("tcp_drained"), x.connection);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tcp_closed& x) {
  return f(caf::meta::type_name("tcp_closed"), x.connection, x.reason, x.error, x.bytes_received, x.bytes_sent);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tcp_send& x) {
  return f(caf::meta::type_name("tcp_send"), x.data);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tcp_consumed& x) {
  return f(caf::meta::type_name("tcp_consumed"), x.bytes);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tcp_close& x) {
  return f(caf::meta::type_name("tcp_close"), x.abortive);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tcp_connection_stats& x) {
  return f(caf::meta::type_name("tcp_connection_stats"), x.queued_bytes, x.unconsumed_bytes, x.max_queued_seen,
           x.max_unconsumed_seen, x.reading);
}

// Spawns a connection actor for an accepted (or already connected) socket.
// The socket is associated with the port here. `handler` gets tcp_opened first.
caf::actor spawn_tcp_connection(caf::actor_system& sys, std::shared_ptr<io_core> core, io::unique_socket sock,
                                caf::actor handler, tcp_connection_options opts);

namespace detail {
// The connect path (actors/tcp_connect.cpp) spawns the same actor in its
// connecting phase.
caf::actor spawn_tcp_connecting(caf::actor_system& sys, std::shared_ptr<io_core> core, io::socket_address to,
                                caf::actor handler, tcp_connection_options opts);
} // namespace detail

} // namespace iocaf
