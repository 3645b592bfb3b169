#include "actors/pipe/pipe_connection.hpp"

#include "actors/core/io_actor.hpp"

#include <deque>
#include <optional>

namespace iocaf {

namespace {

using close_deadline_atom = caf::atom_constant<caf::atom("closedead")>;

struct pipe_connection_state {
  io::unique_handle pipe;
  owned_operations ops; // after the handle: drained before it closes

  std::string name;
  caf::actor handler;
  pipe_connection_options opts;
  std::shared_ptr<spdlog::logger> log;

  io::operation_ptr read_op;
  io::operation_ptr write_op;
  bool reading = false;
  bool writing = false;
  std::size_t writing_bytes = 0;   // bytes handed to the pending WriteFile
  std::deque<std::string> queue;   // encoded frames not yet handed to WriteFile
  std::optional<proto::frame_decoder> decoder;

  bool closing = false;  // graceful close: flush, then go
  bool finished = false; // pipe_closed sent, cancel protocol started
  pipe_connection_stats stats;
};

using self_ptr = caf::stateful_actor<pipe_connection_state>*;

caf::actor me(self_ptr self) {
  return caf::actor_cast<caf::actor>(self);
}

// A frame that will not be written: its sender hears why.
void refuse_write(self_ptr self, const pipe_write& msg, caf::error reason) {
  ++self->state.stats.refused;
  if (auto sender = caf::actor_cast<caf::actor>(self->current_sender()))
    self->send(sender, pipe_refused{me(self), std::move(reason), msg.payload.size()});
}

// Every way out: tell the handler once, then the cancel protocol.
void finish(self_ptr self, caf::error reason) {
  auto& st = self->state;
  if (st.finished)
    return;
  st.finished = true;
  if (reason)
    st.log->debug("actor#{} {}: closing: {}", self->id(), st.name, describe(reason));
  self->send(st.handler, pipe_closed{me(self), reason});
  auto exit_reason = reason;
  shut_down(self, std::move(reason)); // an empty reason is a normal exit
  if (st.ops.pending() == 0)
    return; // it quit
  // Draining: the cancel protocol drops plain messages, but a writer must
  // learn that its frame was not written (as before the close began).
  caf::message_handler refuse{[self](pipe_write& msg) {
    refuse_write(self, msg, make_error(errc::closing, "the connection is closing"));
  }};
  self->become(refuse.or_else(draining(self, std::move(exit_reason))));
}

bool idle(const pipe_connection_state& st) {
  return !st.writing && st.queue.empty();
}

void start_read(self_ptr self);
void on_peer_closed(self_ptr self);

// The codes with which reads and writes fail once the other end has closed.
bool peer_gone(unsigned long code) {
  return code == ERROR_BROKEN_PIPE || code == ERROR_PIPE_NOT_CONNECTED || code == ERROR_NO_DATA;
}

void pump_writes(self_ptr self) {
  auto& st = self->state;
  if (st.writing || st.queue.empty() || st.finished)
    return;
  // Coalesce queued frames into one WriteFile (at least one frame).
  auto& buf = st.write_op->buffer();
  buf.clear();
  std::uint64_t frames = 0;
  while (!st.queue.empty() && (buf.empty() || buf.size() + st.queue.front().size() <= st.opts.write_batch)) {
    auto& f = st.queue.front();
    buf.insert(buf.end(), f.begin(), f.end());
    st.queue.pop_front();
    ++frames;
  }
  st.writing_bytes = buf.size();
  auto n = buf.size();
  auto code = st.ops.start(st.write_op, st.pipe.get(), [n](io::operation& o) { return io::start_write(o, o.target(), n); });
  if (code != 0) {
    if (peer_gone(code)) {
      st.log->debug("actor#{} {}: peer gone with {} bytes unwritten", self->id(), st.name, st.stats.queued_bytes);
      on_peer_closed(self);
    } else {
      finish(self, make_error(io::error{"WriteFile", code}));
    }
    return;
  }
  st.writing = true;
  st.stats.frames_out += frames;
}

void on_write_done(self_ptr self, std::uint32_t bytes, std::uint32_t error) {
  auto& st = self->state;
  st.writing = false;
  if (peer_gone(error)) {
    st.log->debug("actor#{} {}: peer gone with {} bytes unwritten", self->id(), st.name, st.stats.queued_bytes);
    on_peer_closed(self);
    return;
  }
  if (error != 0) {
    finish(self, make_error(io::error{"WriteFile", error}));
    return;
  }
  st.stats.bytes_out += bytes;
  st.stats.queued_bytes -= st.writing_bytes;
  if (bytes < st.writing_bytes) {
    // A short write: the rest goes out first next time.
    auto& buf = st.write_op->buffer();
    st.queue.emplace_front(buf.begin() + bytes, buf.begin() + st.writing_bytes);
    st.stats.queued_bytes += st.writing_bytes - bytes;
  }
  st.writing_bytes = 0;
  pump_writes(self);
  if (st.closing && idle(st))
    finish(self, caf::error{});
}

// The peer went away (end of stream): a started frame means it was truncated.
void on_peer_closed(self_ptr self) {
  auto& st = self->state;
  if (auto err = st.decoder->finish()) {
    st.log->warn("actor#{} {}: peer disconnected mid-frame: {}", self->id(), st.name, err->message);
    finish(self, make_error(errc::bad_input, "peer disconnected mid-frame: " + err->message));
    return;
  }
  finish(self, caf::error{});
}

void on_read_done(self_ptr self, std::uint32_t bytes, std::uint32_t error) {
  auto& st = self->state;
  st.reading = false;
  if (peer_gone(error) || (error == 0 && bytes == 0)) {
    on_peer_closed(self);
    return;
  }
  if (error != 0) {
    finish(self, make_error(io::error{"ReadFile", error}));
    return;
  }
  st.stats.bytes_in += bytes;
  std::vector<std::string> frames;
  auto err = st.decoder->feed(std::string_view{st.read_op->buffer().data(), bytes}, frames);
  for (auto& f : frames) {
    ++st.stats.frames_in;
    self->send(st.handler, pipe_frame{me(self), std::move(f)});
  }
  if (err) {
    st.log->warn("actor#{} {}: bad input from peer, disconnecting it: {}", self->id(), st.name, err->message);
    finish(self, make_error(errc::bad_input, err->message));
    return;
  }
  start_read(self);
}

void start_read(self_ptr self) {
  auto& st = self->state;
  if (st.reading || st.finished)
    return;
  auto n = st.opts.read_size;
  auto code = st.ops.start(st.read_op, st.pipe.get(), [n](io::operation& o) { return io::start_read(o, o.target(), n); });
  if (code == 0) {
    st.reading = true;
    return;
  }
  // Inline failure: no packet will come.
  if (peer_gone(code))
    on_peer_closed(self);
  else
    finish(self, make_error(io::error{"ReadFile", code}));
}

void on_write_request(self_ptr self, pipe_write& msg) {
  auto& st = self->state;
  auto refuse = [&](caf::error reason) { refuse_write(self, msg, std::move(reason)); };
  if (st.closing || st.finished) {
    refuse(make_error(errc::closing, "the connection is closing"));
    return;
  }
  std::string encoded;
  if (auto err = proto::encode_frame(msg.payload, encoded, st.opts.max_frame)) {
    refuse(make_error(errc::bad_input, err->message));
    return;
  }
  if (st.stats.queued_bytes + encoded.size() > st.opts.max_queued_bytes) {
    auto why = "write queue full (" + std::to_string(st.stats.queued_bytes) + " bytes queued, limit "
               + std::to_string(st.opts.max_queued_bytes) + ")";
    if (st.opts.when_full == write_queue_policy::refuse) {
      st.log->debug("actor#{} {}: refusing a frame: {}", self->id(), st.name, why);
      refuse(make_error(errc::queue_full, why));
    } else {
      ++st.stats.refused;
      st.log->warn("actor#{} {}: disconnecting a slow reader: {}", self->id(), st.name, why);
      finish(self, make_error(errc::queue_full, "slow reader disconnected: " + why));
    }
    return;
  }
  st.stats.queued_bytes += encoded.size();
  if (st.stats.queued_bytes > st.stats.max_queued_bytes)
    st.stats.max_queued_bytes = st.stats.queued_bytes;
  st.queue.push_back(std::move(encoded));
  pump_writes(self);
}

void on_close_request(self_ptr self) {
  auto& st = self->state;
  if (st.closing || st.finished)
    return;
  st.closing = true;
  if (idle(st)) {
    finish(self, caf::error{});
    return;
  }
  // Anonymous: if the actor is draining by then, its refusal has nobody to go to.
  caf::delayed_anon_send(me(self), st.opts.close_grace, close_deadline_atom::value);
}

// The handler is gone (a crashed chat room, a client actor that quit): flush
// what it queued, bounded by close_grace, then disconnect. Nobody would read
// further frames.
void on_handler_down(self_ptr self, const caf::error& reason) {
  auto& st = self->state;
  st.log->debug("actor#{} {}: handler down ({}); closing", self->id(), st.name,
                reason ? describe(reason) : std::string("normal"));
  on_close_request(self);
}

caf::behavior pipe_connection_actor(self_ptr self, std::shared_ptr<io_core> core, HANDLE pipe, std::string name,
                                    bool server_side, pipe_connection_options opts, caf::actor handler) {
  install_cancel_protocol(self, core);
  auto& st = self->state;
  st.pipe.reset(pipe);
  st.name = std::move(name);
  st.handler = std::move(handler);
  st.opts = opts;
  st.log = logger("pipe");
  st.read_op = st.ops.make(io::op_kind::read, opts.read_size);
  st.write_op = st.ops.make(io::op_kind::write);
  st.decoder.emplace(opts.max_frame);
  // Exits (links, runtime shutdown) go the same way as every other end, so
  // the handler always hears pipe_closed.
  self->set_exit_handler([self](caf::exit_msg& msg) { finish(self, std::move(msg.reason)); });
  if (!st.handler) {
    st.log->error("{}: a pipe connection without a handler; closing it", st.name);
    finish(self, make_error(errc::bad_input, "pipe connection: no handler actor"));
    return {};
  }
  self->monitor(st.handler);
  self->set_down_handler([self](caf::down_msg& msg) {
    if (msg.source == self->state.handler.address())
      on_handler_down(self, msg.reason);
  });
  self->send(st.handler, pipe_opened{me(self), st.name, server_side});
  start_read(self);
  return {
    [self](const io_completed& msg) {
      auto c = self->state.ops.complete(msg);
      if (!c)
        return;
      if (c->op == self->state.read_op)
        on_read_done(self, c->bytes, c->error);
      else if (c->op == self->state.write_op)
        on_write_done(self, c->bytes, c->error);
    },
    [self](pipe_write& msg) { on_write_request(self, msg); },
    [self](close_atom) { on_close_request(self); },
    [self](close_deadline_atom) {
      auto& st = self->state;
      auto why = "graceful close could not flush " + std::to_string(st.stats.queued_bytes) + " bytes within "
                 + std::to_string(st.opts.close_grace.count()) + " ms";
      st.log->warn("actor#{} {}: {}", self->id(), st.name, why);
      finish(self, make_error(errc::timeout, why));
    },
    [self](stats_atom) { return self->state.stats; },
  };
}

} // namespace

caf::actor spawn_pipe_connection(caf::actor_system& sys, std::shared_ptr<io_core> core, io::unique_handle pipe,
                                 std::string name, bool server_side, pipe_connection_options opts,
                                 caf::actor handler) {
  return sys.spawn(pipe_connection_actor, std::move(core), pipe.release(), std::move(name), server_side, opts,
                   std::move(handler));
}

} // namespace iocaf
