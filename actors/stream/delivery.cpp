// What a stream connection's handler hears: bytes (stream_messages.hpp) or,
// on a framed connection, frames (framing.hpp). The data path and the close
// logic (stream_io.cpp) call these and never send to the handler themselves.
#include "actors/stream/stream_state.hpp"

#include <algorithm>

namespace iocaf::stream_detail {

void tell_opened(self_ptr self, std::string local, std::string remote) {
  auto& st = self->state;
  bool accepted = st.transport->accepted();
  if (st.framing)
    self->send(st.handler, frame_opened{as_frames(self), std::move(local), std::move(remote), accepted});
  else
    self->send(st.handler, stream_opened{as_stream(self), std::move(local), std::move(remote), accepted});
}

// Framed: every frame completed by these bytes goes to the handler, and the
// read credit is given back at once (the frames are the handler's now).
static void tell_frames(self_ptr self, std::string_view data) {
  auto& st = self->state;
  std::vector<std::string> frames;
  auto err = st.framing->decoder.feed(data, frames);
  for (auto& f : frames) {
    ++st.framing->frames_in;
    self->send(st.handler, frame_received{as_frames(self), std::move(f)});
  }
  if (err) {
    // Debug: the handler hears why (frame_closed) and words it for its users.
    st.log->debug("connection actor#{} {}: bad input from the peer, disconnecting it: {}", self->id(), st.where,
                  err->message);
    finish(self, stream_close_reason::bad_input, make_error(errc::bad_input, err->message), true);
  }
}

void tell_received(self_ptr self, std::string data) {
  auto& st = self->state;
  if (st.framing) {
    tell_frames(self, data);
    return;
  }
  st.unconsumed += data.size();
  st.stats.max_unconsumed_seen = std::max<std::uint64_t>(st.stats.max_unconsumed_seen, st.unconsumed);
  self->send(st.handler, stream_received{as_stream(self), std::move(data)});
}

void tell_received(self_ptr self, const char* data, std::size_t n) {
  if (self->state.framing)
    tell_frames(self, std::string_view{data, n});
  else
    tell_received(self, std::string(data, n));
}

// Framed: the peer's end of stream is the end of the conversation (a
// graceful close flushes what is queued; TCP then waits for nothing more).
void tell_peer_eof(self_ptr self) {
  auto& st = self->state;
  if (st.framing)
    begin_close(self, false);
  else
    self->send(st.handler, stream_peer_eof{as_stream(self)});
}

static caf::error refusal_error(send_refusal why) {
  switch (why) {
    case send_refusal::queue_full: return make_error(errc::queue_full, "write queue full");
    case send_refusal::too_large: return make_error(errc::bad_input, "frame larger than the write queue");
    case send_refusal::closing: break;
  }
  return make_error(errc::closing, "the connection is closing");
}

// To the refused send's sender, else the handler.
void tell_refused(self_ptr self, std::uint64_t bytes, send_refusal why) {
  auto& st = self->state;
  ++st.stats.refused;
  auto to = caf::actor_cast<caf::actor>(self->current_sender());
  if (!to)
    to = st.handler;
  if (!to)
    return;
  if (st.framing)
    self->send(to, frame_refused{as_frames(self), refusal_error(why), bytes});
  else
    self->send(to, stream_send_refused{as_stream(self), bytes, st.stats.queued_bytes, why});
}

void tell_drained(self_ptr self) {
  auto& st = self->state;
  if (!st.framing) // a framed sender learns of a full queue from frame_refused
    self->send(st.handler, stream_drained{as_stream(self)});
}

// Framed: the close as one reason; empty when the peer closed cleanly or a
// graceful close finished, bad_input when the peer left mid-frame.
void tell_closed(self_ptr self, stream_close_reason reason, const caf::error& err) {
  auto& st = self->state;
  if (!st.handler)
    return;
  if (!st.framing) {
    self->send(st.handler, stream_closed{self->address(), reason, err, st.stats.bytes_received, st.stats.bytes_sent});
    return;
  }
  caf::error why;
  if (auto cut = st.framing->decoder.finish(); cut && reason != stream_close_reason::bad_input)
    why = make_error(errc::bad_input, "peer disconnected mid-frame: " + cut->message);
  else if (err)
    why = err;
  else if (reason != stream_close_reason::local_close && reason != stream_close_reason::peer_eof)
    why = make_error(errc::closing, std::string("stream closed: ") + to_string(reason));
  self->send(st.handler, frame_closed{self->address(), std::move(why)});
}

void on_frame_send(self_ptr self, frame_send& msg) {
  auto& st = self->state;
  std::string header;
  if (auto err = proto::encode_frame_header(msg.payload.size(), header, st.framing->decoder.max_frame())) {
    ++st.stats.refused;
    if (auto to = caf::actor_cast<caf::actor>(self->current_sender()))
      self->send(to, frame_refused{as_frames(self), make_error(errc::bad_input, err->message), msg.payload.size()});
    return;
  }
  auto refused_before = st.stats.refused;
  enqueue(self, std::move(header), std::move(msg.payload));
  if (st.stats.refused == refused_before && !is_done(st))
    ++st.framing->frames_out;
}

caf::message stats_of(self_ptr self) {
  auto& st = self->state;
  auto s = st.stats;
  if (!st.framing) {
    s.buffer_bytes = st.read_op->buffer().capacity() + st.write_op->buffer().capacity();
    s.unconsumed_bytes = st.unconsumed;
    s.reading = st.rd == read_state::pending;
    return caf::make_message(s);
  }
  return caf::make_message(frame_stats{st.framing->frames_in, st.framing->frames_out, s.bytes_received,
                                       s.bytes_sent, s.queued_bytes, s.max_queued_seen, s.refused});
}

} // namespace iocaf::stream_detail
