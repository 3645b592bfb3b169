#include "actors/stream/stream_state.hpp"

#include <algorithm>

namespace iocaf {

using namespace stream_detail;

namespace {

void opened(self_ptr self) {
  auto& st = self->state;
  st.ph = phase::open;
  std::string local, remote;
  st.transport->opened(local, remote);
  st.where = local + " <-> " + remote;
  touch(self);
  tell_opened(self, local, remote);
  if (st.opts.idle_timeout.count() > 0)
    arm_timer(self, timer_kind::idle, st.opts.idle_timeout);
  if (st.transport->reads_now() && st.opts.release_read_buffer_after.count() > 0)
    st.rbuf = read_buffer::released; // nothing to read yet
  post_read(self);
  post_write(self); // sends queued while connecting
}

void on_connect(self_ptr self, std::uint32_t error) {
  auto& st = self->state;
  ++st.timer_generation; // the connect timer is void
  if (auto err = st.transport->finish_connect(*st.connect_op, error, st.connect_timed_out)) {
    finish(self, stream_close_reason::connect_failed, std::move(err), true);
    return;
  }
  opened(self);
}

void on_idle_timer(self_ptr self) {
  auto& st = self->state;
  auto idle = clock::now() - st.last_activity;
  if (idle >= st.opts.idle_timeout) {
    auto why = "no data either way for " + std::to_string(st.opts.idle_timeout.count()) + " ms";
    finish(self, stream_close_reason::idle_timeout, make_error(errc::timeout, why), true);
    return;
  }
  arm_timer(self, timer_kind::idle,
            std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.idle_timeout - idle)
              + std::chrono::milliseconds(1));
}

void on_timer(self_ptr self, const stream_timer& t) {
  auto& st = self->state;
  if (t.generation != st.timer_generation || is_done(st))
    return;
  switch (t.kind) {
    case timer_kind::idle: on_idle_timer(self); return;
    case timer_kind::close_bound: {
      auto why = "graceful close could not finish (" + std::to_string(st.stats.queued_bytes)
                 + " bytes unwritten) within " + std::to_string(st.opts.close_bound.count()) + " ms; reset";
      st.log->warn("connection actor#{} {}: {}", self->id(), st.where, why);
      finish(self, stream_close_reason::local_close, make_error(errc::timeout, why), true);
      return;
    }
    case timer_kind::release_read_buffer: on_release_read_buffer_timer(self); return;
    case timer_kind::connect:
      if (st.ph == phase::connecting && !st.connect_timed_out) {
        st.connect_timed_out = true;
        if (auto code = st.connect_op->cancel())
          st.log->warn("{}", io::error{"CancelIoEx", code}.to_string());
      }
      return;
  }
}

void on_completed(self_ptr self, const io_completed& msg) {
  auto c = self->state.ops.complete(msg);
  if (!c)
    return;
  auto& st = self->state;
  if (c->op == st.read_op)
    on_read(self, c->bytes, c->error);
  else if (c->op == st.write_op)
    on_write(self, c->bytes, c->error);
  else if (c->op == st.connect_op)
    on_connect(self, c->error);
}

// What both kinds of connection understand.
caf::message_handler common(self_ptr self) {
  return {
    [self](const io_completed& msg) { on_completed(self, msg); },
    [self](const stream_close& msg) { begin_close(self, msg.abortive); },
    [self](close_atom) { begin_close(self, false); },
    [self](const stream_timer& t) { on_timer(self, t); },
    [self](stats_atom) { return stats_of(self); },
    [self](read_again_atom) { on_read_again(self); },
  };
}

caf::behavior bytes_running(self_ptr self) {
  caf::message_handler data{
    [self](stream_send& msg) {
      auto consumed = msg.consumed;
      enqueue(self, {}, std::move(msg.data));
      if (consumed > 0)
        on_consumed(self, consumed);
    },
    [self](const stream_consumed& msg) { on_consumed(self, msg.bytes); },
  };
  return data.or_else(common(self));
}

caf::behavior frames_running(self_ptr self) {
  caf::message_handler data{
    [self](frame_send& msg) { on_frame_send(self, msg); },
  };
  return data.or_else(common(self));
}

// Its outcome, an inline failure too, arrives in on_connect.
void start_connect(self_ptr self) {
  auto& st = self->state;
  st.ph = phase::connecting;
  st.connect_op = st.ops.make(io::op_kind::connect);
  auto* t = st.transport.get();
  st.ops.launch(st.connect_op, t->handle(), [t](io::operation& op) { return t->start_connect(op); });
  if (t->connect_timeout().count() > 0)
    arm_timer(self, timer_kind::connect, t->connect_timeout());
}

caf::behavior stream_connection_behavior(self_ptr self, std::shared_ptr<io_core> core, stream_transport* transport,
                                      caf::actor handler, stream_options opts, std::size_t max_frame) {
  auto& st = self->state;
  if (max_frame > 0)
    st.framing.emplace(max_frame);
  st.transport.reset(transport);
  install_cancel_protocol(self, core);
  st.handler = std::move(handler);
  st.opts = opts;
  st.opts.read_size = std::max<std::size_t>(1, st.opts.read_size);
  st.opts.read_credit = std::max<std::size_t>(1, st.opts.read_credit);
  st.opts.write_batch = std::max<std::size_t>(1, st.opts.write_batch);
  st.opts.idle_read_size = std::clamp<std::size_t>(st.opts.idle_read_size, 1, st.opts.read_size);
  st.log = logger("stream");
  // Buffers grow on first use: a connection that never writes holds no write
  // buffer, an idle TCP connection only its idle read's.
  st.read_op = st.ops.make(io::op_kind::read);
  st.write_op = st.ops.make(io::op_kind::write);
  // Runtime shutdown or a link: reset the connection (no flush), then cancel.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    finish(self, stream_close_reason::shutdown, std::move(msg.reason), true);
  });
  if (!st.handler) {
    self->quit(make_error(errc::bad_input, "stream connection: no handler actor"));
    return {};
  }
  self->monitor(st.handler);
  self->set_down_handler([self](caf::down_msg& msg) {
    if (msg.source != self->state.handler.address())
      return;
    if (self->state.framing) // flush what it queued, then go
      begin_close(self, false);
    else
      finish(self, stream_close_reason::handler_down, std::move(msg.reason), true);
  });
  if (auto err = st.transport->prepare(*core)) {
    auto why = st.transport->connects() ? stream_close_reason::connect_failed : stream_close_reason::error;
    finish(self, why, std::move(err), true);
    return {};
  }
  if (st.transport->connects()) {
    start_connect(self);
  } else {
    opened(self);
  }
  // finish() may have run already (it set the draining behaviour or quit):
  // an empty behaviour keeps that.
  if (is_done(st))
    return {};
  return st.framing ? frames_running(self) : bytes_running(self);
}

} // namespace


caf::actor spawn_stream_connection(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                   std::unique_ptr<stream_transport> transport, caf::actor handler,
                                   stream_options opts) {
  return sys.spawn(stream_connection_behavior, std::move(core), transport.release(), std::move(handler), opts,
                   std::size_t{0});
}

caf::actor spawn_framed_connection(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                   std::unique_ptr<stream_transport> transport, caf::actor handler,
                                   framed_options opts) {
  auto max_frame = std::max<std::size_t>(1, opts.max_frame);
  return sys.spawn(stream_connection_behavior, std::move(core), transport.release(), std::move(handler),
                   static_cast<stream_options>(opts), max_frame);
}

} // namespace iocaf
