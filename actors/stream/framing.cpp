#include "actors/stream/framing.hpp"

#include <optional>

namespace iocaf {

namespace {

struct framing_state {
  caf::actor stream;
  caf::actor handler;
  std::size_t max_frame = proto::default_max_frame;
  std::optional<proto::frame_decoder> decoder;
  bool closing = false;  // a close was asked for: later sends are refused here
  bool reported = false; // frame_closed sent
  std::uint64_t frames_in = 0;
  std::uint64_t forwarded = 0;      // frames handed to the stream
  std::uint64_t stream_refused = 0; // of those, refused by the stream
  std::uint64_t own_refused = 0;    // refused here (too large, after the close)
};

using self_ptr = caf::stateful_actor<framing_state>*;

caf::actor me(self_ptr self) {
  return caf::actor_cast<caf::actor>(self);
}

void report_closed(self_ptr self, caf::error reason) {
  auto& st = self->state;
  if (st.reported)
    return;
  st.reported = true;
  self->send(st.handler, frame_closed{me(self), std::move(reason)});
}

// Refused here, not forwarded: the stream may be gone before a forwarded
// send reaches it, and the sender must hear about it either way.
void close_stream(self_ptr self) {
  self->state.closing = true;
  self->send(self->state.stream, close_atom::value);
}

void on_received(self_ptr self, stream_received& msg) {
  auto& st = self->state;
  std::vector<std::string> frames;
  auto err = st.decoder->feed(msg.data, frames);
  for (auto& f : frames) {
    ++st.frames_in;
    self->send(st.handler, frame_received{me(self), std::move(f)});
  }
  // Decoded frames are the handler's now: the credit goes back at once.
  self->send(st.stream, stream_consumed{msg.data.size()});
  if (err) {
    logger("framing")->warn("actor#{}: bad input from peer, disconnecting it: {}", self->id(), err->message);
    report_closed(self, make_error(errc::bad_input, err->message));
    st.closing = true;
    self->send(st.stream, stream_close{true});
  }
}

// The stream's last word, as the framed reason: a started frame means the
// peer left mid-frame; a clean end is an empty reason.
void on_stream_closed(self_ptr self, const stream_closed& msg) {
  auto& st = self->state;
  if (auto err = st.decoder->finish())
    return report_closed(self, make_error(errc::bad_input, "peer disconnected mid-frame: " + err->message));
  if (msg.error)
    return report_closed(self, msg.error);
  if (msg.reason == stream_close_reason::local_close || msg.reason == stream_close_reason::peer_eof)
    return report_closed(self, caf::error{});
  report_closed(self, make_error(errc::closing, std::string("stream closed: ") + to_string(msg.reason)));
}

caf::error refusal_error(send_refusal why) {
  switch (why) {
    case send_refusal::queue_full: return make_error(errc::queue_full, "write queue full");
    case send_refusal::too_large: return make_error(errc::bad_input, "frame larger than the write queue");
    case send_refusal::closing: break;
  }
  return make_error(errc::closing, "the connection is closing");
}

void on_send(self_ptr self, frame_send& msg) {
  auto& st = self->state;
  auto refuse = [&](caf::error reason) {
    ++st.own_refused;
    if (auto to = caf::actor_cast<caf::actor>(self->current_sender()))
      self->send(to, frame_refused{me(self), std::move(reason), msg.payload.size()});
  };
  if (st.reported || st.closing)
    return refuse(make_error(errc::closing, "the connection is closing"));
  std::string encoded;
  if (auto err = proto::encode_frame(msg.payload, encoded, st.max_frame))
    return refuse(make_error(errc::bad_input, err->message));
  ++st.forwarded;
  self->send(st.stream, stream_send{std::move(encoded)});
}

caf::result<frame_stats> on_stats(self_ptr self) {
  auto rp = self->make_response_promise<frame_stats>();
  self->request(self->state.stream, caf::infinite, stats_atom::value)
    .then(
      [self, rp](const stream_stats& s) mutable {
        auto& st = self->state;
        rp.deliver(frame_stats{st.frames_in, st.forwarded - st.stream_refused, s.bytes_received, s.bytes_sent,
                               s.queued_bytes, s.max_queued_seen, st.own_refused + st.stream_refused});
      },
      [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  return rp;
}

caf::behavior framing_actor(self_ptr self, stream_spawner spawn_stream, caf::actor handler, std::size_t max_frame) {
  auto& st = self->state;
  st.handler = std::move(handler);
  st.max_frame = max_frame;
  st.decoder.emplace(max_frame);
  self->monitor(st.handler);
  st.stream = spawn_stream(me(self));
  self->monitor(st.stream);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.stream.address())
      self->quit(); // its stream_closed came before this
    else if (msg.source == st.handler.address())
      close_stream(self); // flush what it queued, then go
  });
  return {
    [self](const stream_opened& m) {
      self->send(self->state.handler, frame_opened{me(self), m.local, m.remote, m.accepted});
    },
    [self](stream_received& m) { on_received(self, m); },
    [self](const stream_peer_eof&) { close_stream(self); },
    [](const stream_drained&) {},
    [self](const stream_send_refused& m) {
      auto& st = self->state;
      ++st.stream_refused;
      auto bytes = m.bytes >= proto::frame_header_size ? m.bytes - proto::frame_header_size : 0;
      self->send(st.handler, frame_refused{me(self), refusal_error(m.reason), bytes});
    },
    [self](const stream_closed& m) { on_stream_closed(self, m); },
    [self](frame_send& m) { on_send(self, m); },
    [self](close_atom) { close_stream(self); },
    [self](stats_atom) { return on_stats(self); },
  };
}

} // namespace

caf::actor spawn_framed(caf::actor_system& sys, stream_spawner spawn_stream, caf::actor handler,
                        std::size_t max_frame) {
  return sys.spawn(framing_actor, std::move(spawn_stream), std::move(handler), max_frame);
}

} // namespace iocaf
