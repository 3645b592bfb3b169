#pragma once
// The one vocabulary of stream connections (named pipes and TCP alike).
//
//   connection -> handler   stream_opened (first), stream_received..., stream_peer_eof,
//                           stream_drained, stream_closed (always last)
//   connection -> sender    stream_send_refused (queue_full, too_large, closing)
//   anyone -> connection    stream_send{data, consumed}, stream_consumed{bytes}, stream_close{abortive},
//                           close_atom (graceful), stats_atom (answers stream_stats)
//
// Reading is credit-based: at most read_credit bytes delivered and not yet
// acknowledged with stream_consumed; past that reads pause. Writing goes
// through a queue bounded by max_queued_bytes.
//
// Both directions are typed interfaces: events name the connection as a
// stream_connection_actor (a wrong message to it does not compile), and a
// handler may be a stream_handler_actor (every event must be handled).
#include "actors/core/messages.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace iocaf {

enum class when_full_policy : std::uint8_t {
  refuse,     // stream_send_refused{queue_full} to the sender, the data is dropped
  disconnect, // abortive close with reason slow_consumer
};

struct stream_options {
  std::size_t read_size = 16 * 1024;           // bytes per read
  std::size_t read_credit = 256 * 1024;        // delivered but unconsumed bytes before reads pause
  std::size_t max_queued_bytes = 1024 * 1024;  // write queue bound
  std::size_t write_batch = 64 * 1024;         // queued sends gathered into one write
  when_full_policy when_full = when_full_policy::refuse;
  std::chrono::milliseconds idle_timeout{0};   // 0: none; no data either way this long -> close
  std::chrono::milliseconds close_bound{5000}; // graceful close: flush (+ peer EOF) at most this long
  // Transports that can (TCP): a connection that read nothing this long gives
  // its read buffer back and waits for data with a read of idle_read_size
  // bytes, as does a new connection, so idle connections cost little memory.
  // 0: keep it.
  std::chrono::milliseconds release_read_buffer_after{1000};
  std::size_t idle_read_size = 512; // 1..read_size; a message this size or smaller takes one receive
};

enum class stream_close_reason : std::uint8_t {
  local_close,    // stream_close / close_atom (graceful or abortive)
  peer_eof,       // closed after the peer's end of stream
  peer_reset,     // reset or broken by the peer
  idle_timeout,
  connect_failed, // see the error (refused, unreachable, timeout)
  slow_consumer,  // write queue full under when_full_policy::disconnect
  handler_down,   // the handler actor terminated
  shutdown,       // exit message (runtime shutdown, link)
  bad_input,      // a layer above found malformed input
  error,          // any other failure, see the error
};
const char* to_string(stream_close_reason r);

enum class send_refusal : std::uint8_t { queue_full, too_large, closing };
const char* to_string(send_refusal r);

// --- anyone -> connection ----------------------------------------------------
struct stream_send {
  std::string data;
  // Received bytes this send also hands back, as a stream_consumed would: an
  // echo-like handler answers with one message instead of two.
  std::uint64_t consumed = 0;
};
struct stream_consumed {
  std::uint64_t bytes = 0;
};
struct stream_close {
  bool abortive = false; // true: queued data dropped (TCP: RST)
};

struct stream_stats {
  std::uint64_t queued_bytes = 0;
  std::uint64_t unconsumed_bytes = 0;
  std::uint64_t max_queued_seen = 0;
  std::uint64_t max_unconsumed_seen = 0;
  bool reading = false; // a read is pending
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t refused = 0; // sends refused (any reason)
  std::uint64_t buffer_bytes = 0; // read and write buffers held now (an idle TCP connection: its idle read's)
  std::uint64_t writes_at_once = 0;  // writes the kernel took at once (TCP): no packet
  std::uint64_t writes_overlapped = 0; // overlapped writes started (each ends with a packet)
  std::uint64_t reads_at_once = 0; // non-blocking reads that took data (TCP: what a full idle read left)
};

// The connection as its handler (and anyone else) sees it: the messages it
// accepts. Sending it anything else is a compile error.
using stream_connection_actor =
  caf::typed_actor<caf::reacts_to<stream_send>, caf::reacts_to<stream_consumed>, caf::reacts_to<stream_close>,
                   caf::reacts_to<close_atom>, caf::replies_to<stats_atom>::with<stream_stats>>;

// --- connection -> handler ---------------------------------------------------
struct stream_opened {
  stream_connection_actor connection;
  std::string local;  // TCP: address:port; pipe: the pipe's name
  std::string remote; // TCP: address:port; pipe: "server" or "client" (the other end)
  bool accepted = false; // the accepting (server) end
};
struct stream_received {
  stream_connection_actor connection;
  std::string data;
};
struct stream_peer_eof {
  stream_connection_actor connection;
};
struct stream_drained {
  stream_connection_actor connection;
};
struct stream_send_refused {
  stream_connection_actor connection;
  std::uint64_t bytes = 0;  // the refused send's size
  std::uint64_t queued = 0; // bytes queued at the time
  send_refusal reason = send_refusal::queue_full;
};
struct stream_closed {
  caf::actor_addr connection;
  stream_close_reason reason = stream_close_reason::error;
  caf::error error; // set for failures
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
};


// What a byte-stream handler hears. A handler written as a typed actor
// (stream_handler_actor::behavior_type) must handle every one of these, or it
// does not compile; a dynamically typed handler (caf::behavior) works too.
using stream_handler_actor =
  caf::typed_actor<caf::reacts_to<stream_opened>, caf::reacts_to<stream_received>, caf::reacts_to<stream_peer_eof>,
                   caf::reacts_to<stream_drained>, caf::reacts_to<stream_send_refused>,
                   caf::reacts_to<stream_closed>>;

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_opened& x) {
  return f(caf::meta::type_name("stream_opened"), x.connection, x.local, x.remote, x.accepted);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_received& x) {
  return f(caf::meta::type_name("stream_received"), x.connection, x.data);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_peer_eof& x) {
  return f(caf::meta::type_name("stream_peer_eof"), x.connection);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_drained& x) {
  return f(caf::meta::type_name("stream_drained"), x.connection);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_send_refused& x) {
  return f(caf::meta::type_name("stream_send_refused"), x.connection, x.bytes, x.queued, x.reason);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_closed& x) {
  return f(caf::meta::type_name("stream_closed"), x.connection, x.reason, x.error, x.bytes_received, x.bytes_sent);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_send& x) {
  return f(caf::meta::type_name("stream_send"), x.data, x.consumed);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_consumed& x) {
  return f(caf::meta::type_name("stream_consumed"), x.bytes);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_close& x) {
  return f(caf::meta::type_name("stream_close"), x.abortive);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_stats& x) {
  return f(caf::meta::type_name("stream_stats"), x.queued_bytes, x.unconsumed_bytes, x.max_queued_seen,
           x.max_unconsumed_seen, x.reading, x.bytes_received, x.bytes_sent, x.refused, x.buffer_bytes,
           x.writes_at_once, x.writes_overlapped, x.reads_at_once);
}

} // namespace iocaf
