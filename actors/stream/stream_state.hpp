#pragma once
// Internal to actors/stream: the stream connection's state, shared by
// stream_io.cpp (data path, close) and stream_connection.cpp (the actor:
// open, connect, timers, behaviour).
#include "actors/core/io_actor.hpp"
#include "actors/stream/framing.hpp"
#include "actors/stream/stream_connection.hpp"

#include <chrono>
#include <deque>
#include <optional>

namespace iocaf::stream_detail {

using clock = std::chrono::steady_clock;

// The connection's lifecycle, and one state per direction.
enum class phase : std::uint8_t { connecting, open, closing, finished };
enum class read_state : std::uint8_t { idle, pending, paused, eof };
enum class write_state : std::uint8_t { idle, pending };
// Whether reads hold a read_size buffer (a transport that reads_now): held
// while data flows; released after opts.release_read_buffer_after without
// any (reads are then idle_read_size bytes); releasing while the pending
// buffered read is being cancelled to get there.
enum class read_buffer : std::uint8_t { held, releasing, released };

// Timers are sent anonymously: one that arrives while the actor drains has
// no sender to answer, so nothing bounces back and forth.
enum class timer_kind : std::uint8_t { idle, close_bound, connect, release_read_buffer };
struct stream_timer {
  timer_kind kind = timer_kind::idle;
  std::uint64_t generation = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_timer& x) {
  return f(caf::meta::type_name("stream_timer"), x.kind, x.generation);
}

// Set on a framed connection (framing.hpp): the handler hears frames, not bytes.
struct framing_state {
  explicit framing_state(std::size_t max_frame) : decoder(max_frame) {}
  proto::frame_decoder decoder;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0; // frames queued (not refused)
};

struct stream_state {
  std::unique_ptr<stream_transport> transport;
  owned_operations ops; // after the transport: destroyed (orphaned) before its handle closes

  caf::actor handler;
  stream_options opts;
  std::shared_ptr<spdlog::logger> log;

  io::operation_ptr read_op;
  io::operation_ptr write_op;
  io::operation_ptr connect_op;
  phase ph = phase::open;
  read_state rd = read_state::idle;
  write_state wr = write_state::idle;
  read_buffer rbuf = read_buffer::held;
  bool release_timer_armed = false;
  bool connect_timed_out = false;
  bool sent_fin = false;
  bool eof_before_close = false;
  bool notify_drained = false;
  bool read_waited_for_look = false; // on_read_again deferred the read once already

  std::deque<std::string> queue; // front() is partly written by `front_offset`
  std::size_t front_offset = 0;
  std::size_t unconsumed = 0;
  std::size_t read_asked = 0; // the pending read's size (an idle read that came back full: more may wait)
  stream_stats stats;

  clock::time_point last_activity = clock::now();
  clock::time_point last_read; // data last received (epoch: never)
  std::uint64_t timer_generation = 0;
  std::string where; // "local <-> remote" for log lines
  std::optional<framing_state> framing;
};

using self_ptr = caf::stateful_actor<stream_state>*;

// The connection's own typed handle, as its events name it.
inline stream_connection_actor as_stream(self_ptr self) {
  return caf::actor_cast<stream_connection_actor>(self);
}
inline frame_connection_actor as_frames(self_ptr self) {
  return caf::actor_cast<frame_connection_actor>(self);
}

inline bool is_done(const stream_state& st) {
  return st.ph == phase::finished;
}

// stream_io.cpp
void finish(self_ptr self, stream_close_reason reason, caf::error err, bool abortive);
void arm_timer(self_ptr self, timer_kind kind, std::chrono::milliseconds after);
void touch(self_ptr self);
void post_read(self_ptr self);
void post_write(self_ptr self);
void on_read(self_ptr self, std::uint32_t bytes, std::uint32_t error);
void on_write(self_ptr self, std::uint32_t bytes, std::uint32_t error);
// Queues header + data as one send (header: a frame's, or empty), or
// refuses it; `data`'s size is what a refusal reports.
void enqueue(self_ptr self, std::string header, std::string data);
void on_consumed(self_ptr self, std::uint64_t bytes);
void on_release_read_buffer_timer(self_ptr self);
void begin_close(self_ptr self, bool abortive);

// read_after_handler.cpp: on a CAF worker, queues a job that sends the
// connection read_again_atom after the handler's turn; false elsewhere.
using read_again_atom = caf::atom_constant<caf::atom("readagain")>;
bool defer_read_past_handler(self_ptr self);
// The connection's read_again_atom: posts the read, or on the broker's
// thread with a write pending first waits for one more look at the port.
void on_read_again(self_ptr self);

// delivery.cpp: what the handler hears, as bytes (stream_*) or frames (frame_*)
void tell_opened(self_ptr self, std::string local, std::string remote);
void tell_received(self_ptr self, const char* data, std::size_t n);
void tell_received(self_ptr self, std::string data);
void tell_peer_eof(self_ptr self);
void tell_refused(self_ptr self, std::uint64_t bytes, send_refusal why);
void tell_drained(self_ptr self);
void tell_closed(self_ptr self, stream_close_reason reason, const caf::error& err);
void on_frame_send(self_ptr self, frame_send& msg);
caf::message stats_of(self_ptr self);

} // namespace iocaf::stream_detail
