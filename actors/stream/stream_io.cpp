// The stream connection's data path (reads with credit, the gathered and
// bounded write queue) and its ways out (graceful and abortive close).
#include "actors/stream/stream_state.hpp"

#include <algorithm>
#include <vector>

namespace iocaf::stream_detail {

// The one way out: tell the handler why, then run the cancel protocol.
void finish(self_ptr self, stream_close_reason reason, caf::error err, bool abortive) {
  auto& st = self->state;
  if (is_done(st))
    return;
  st.ph = phase::finished;
  if (abortive)
    st.transport->abort();
  st.log->debug("connection actor#{} {} closes: {} {}", self->id(), st.where, to_string(reason),
                err ? describe(err) : std::string{});
  tell_closed(self, reason, err);
  bool clean = reason == stream_close_reason::local_close || reason == stream_close_reason::peer_eof;
  caf::error exit_reason;
  if (clean)
    exit_reason = caf::exit_reason::normal;
  else if (err)
    exit_reason = err;
  else
    exit_reason = make_error(errc::closing, std::string("stream connection closed: ") + to_string(reason));
  shut_down(self, exit_reason);
  if (self->state.ops.pending() == 0)
    return; // it quit
  // Draining: the cancel protocol drops plain messages, but a sender must
  // learn that its data was not written (as before the close began).
  caf::message_handler refuse{
    [self](stream_send& msg) { tell_refused(self, msg.data.size(), send_refusal::closing); },
    [self](frame_send& msg) { tell_refused(self, msg.payload.size(), send_refusal::closing); },
  };
  self->become(refuse.or_else(draining(self, std::move(exit_reason))));
}

static void fail_with(self_ptr self, const char* call, unsigned long code) {
  auto& t = *self->state.transport;
  auto reason = t.is_reset(code) || t.is_eof(code) ? stream_close_reason::peer_reset : stream_close_reason::error;
  finish(self, reason, make_error(io::error{call, code}), true);
}

void touch(self_ptr self) {
  self->state.last_activity = clock::now();
}

void arm_timer(self_ptr self, timer_kind kind, std::chrono::milliseconds after) {
  caf::delayed_anon_send(caf::actor_cast<caf::actor>(self), after, stream_timer{kind, self->state.timer_generation});
}

static bool write_idle(const stream_state& st) {
  return st.wr == write_state::idle && st.queue.empty();
}

// After a graceful close request: once flushed, half-close (if the transport
// has it) and wait for the peer's EOF; then the connection is done.
static void advance_close(self_ptr self) {
  auto& st = self->state;
  if (st.ph != phase::closing || !write_idle(st))
    return;
  if (!st.transport->half_closes()) {
    finish(self, st.eof_before_close ? stream_close_reason::peer_eof : stream_close_reason::local_close, {}, false);
    return;
  }
  if (!st.sent_fin) {
    if (auto code = st.transport->shutdown_send()) {
      fail_with(self, "shutdown(SD_SEND)", code);
      return;
    }
    st.sent_fin = true;
  }
  if (st.rd == read_state::eof) {
    finish(self, st.eof_before_close ? stream_close_reason::peer_eof : stream_close_reason::local_close, {}, false);
    return;
  }
  post_read(self); // discards data, waits for EOF
}

// The peer's end of stream: a 0-byte read, or a pipe's broken-pipe code.
static void on_peer_eof(self_ptr self) {
  auto& st = self->state;
  if (is_done(st))
    return;
  st.rd = read_state::eof;
  if (st.ph == phase::closing) {
    advance_close(self);
    return;
  }
  st.eof_before_close = true;
  tell_peer_eof(self);
  if (!st.transport->half_closes()) // nothing more can be written either
    finish(self, stream_close_reason::peer_eof, {}, false);
}

void post_read(self_ptr self) {
  auto& st = self->state;
  if (st.rd == read_state::pending || st.rd == read_state::eof || st.ph == phase::connecting || is_done(st))
    return;
  bool discarding = st.ph == phase::closing;
  if (!discarding && st.unconsumed >= st.opts.read_credit) {
    st.rd = read_state::paused; // until the handler sends stream_consumed
    return;
  }
  auto* t = st.transport.get();
  // A released buffer: a small read waits for data (filled, take_rest reads the remainder).
  std::size_t n = st.rbuf == read_buffer::released ? st.opts.idle_read_size : st.opts.read_size;
  if (!discarding)
    n = std::min(n, st.opts.read_credit - st.unconsumed);
  st.read_asked = n;
  if (st.ops.launch(st.read_op, t->handle(), [t, n](io::operation& op) { return t->start_read(op, n); }))
    st.rd = read_state::pending; // an inline failure, too, arrives in on_read
  if (st.rbuf == read_buffer::held && t->reads_now() && st.opts.release_read_buffer_after.count() > 0
      && !st.release_timer_armed) {
    st.release_timer_armed = true;
    arm_timer(self, timer_kind::release_read_buffer, st.opts.release_read_buffer_after);
  }
}

static void release_read_buffer(stream_state& st) {
  st.rbuf = read_buffer::released;
  auto& buf = st.read_op->buffer();
  buf.clear();
  buf.shrink_to_fit();
}

// Nothing read for release_read_buffer_after: the pending read's buffer goes
// (its cancellation arrives in on_read; data that beat it is delivered).
void on_release_read_buffer_timer(self_ptr self) {
  auto& st = self->state;
  st.release_timer_armed = false;
  if (st.rbuf != read_buffer::held || st.ph != phase::open)
    return;
  auto quiet = clock::now() - st.last_activity;
  if (quiet < st.opts.release_read_buffer_after) {
    st.release_timer_armed = true;
    arm_timer(self, timer_kind::release_read_buffer,
              std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.release_read_buffer_after - quiet)
                + std::chrono::milliseconds(1));
    return;
  }
  if (st.rd != read_state::pending) { // paused or idle: the kernel has no hold on it
    release_read_buffer(st);
    return;
  }
  st.rbuf = read_buffer::releasing;
  if (auto code = st.read_op->cancel())
    fail_with(self, "CancelIoEx", code);
}

// After an idle connection's small read that came back full: takes the rest
// without blocking, within the credit, a few reads at most (then the next
// read's packet comes at once, and other connections get their turn); then
// reads again or pauses.
static void take_rest(self_ptr self, bool deferred) {
  auto& st = self->state;
  auto& t = *st.transport;
  // Read into this thread's scratch, then copy exactly what came: a message
  // costs its size, not a read_size string. A plain array: MinGW's
  // emutls can free a thread's slot before a thread_local's destructor runs,
  // and a std::vector here crashed a test program as CAF's workers exited
  // (a page fault in ~vector after "[  PASSED  ]", once, in CI).
  static thread_local char scratch[64 * 1024];
  for (int reads = 0; reads < 4; ++reads) {
    bool discarding = st.ph == phase::closing;
    if (!discarding && st.unconsumed >= st.opts.read_credit)
      break; // post_read pauses
    std::size_t cap = st.opts.read_size;
    if (!discarding)
      cap = std::min(cap, st.opts.read_credit - st.unconsumed);
    cap = std::min(cap, sizeof(scratch));
    std::size_t got = 0;
    if (auto code = t.read_now(scratch, cap, got)) {
      if (t.would_block(code))
        break;
      fail_with(self, "recv", code);
      return;
    }
    if (got == 0) {
      on_peer_eof(self);
      return;
    }
    ++st.stats.reads_at_once;
    touch(self);
    st.last_read = st.last_activity;
    if (reads > 0) // more than one read's worth at once: it flows
      st.rbuf = read_buffer::held;
    st.stats.bytes_received += got;
    if (!discarding) {
      if (!deferred)
        deferred = defer_read_past_handler(self); // queued before the handler is woken
      tell_received(self, scratch, got);
    }
    if (is_done(st))
      return;
    if (got < cap)
      break; // most likely drained
  }
  if (!deferred)
    post_read(self);
}

void on_read(self_ptr self, std::uint32_t bytes, std::uint32_t error) {
  auto& st = self->state;
  st.rd = read_state::idle;
  bool idle_read = st.rbuf == read_buffer::released;
  bool releasing = st.rbuf == read_buffer::releasing;
  if (releasing && error == ERROR_OPERATION_ABORTED) {
    release_read_buffer(st);
    post_read(self); // an idle connection's small read now
    return;
  }
  if (error != 0) {
    auto code = st.transport->error_of(*st.read_op, error);
    if (st.transport->is_eof(code))
      on_peer_eof(self);
    else
      fail_with(self, st.transport->read_call(), code);
    return;
  }
  touch(self);
  if (bytes == 0) {
    on_peer_eof(self);
    return;
  }
  auto previous = st.last_read;
  st.last_read = st.last_activity; // touched above: one clock read per completion
  // Data again within release_read_buffer_after: it flows, so buffered reads
  // until it stops. A lone message (one per connection in a pass over many)
  // keeps the small read.
  if (idle_read && st.last_read - previous < st.opts.release_read_buffer_after)
    st.rbuf = read_buffer::held;
  st.stats.bytes_received += bytes;
  bool deferred = false;
  if (st.ph != phase::closing) {
    deferred = defer_read_past_handler(self); // queued before the handler is woken
    tell_received(self, st.read_op->buffer().data(), bytes);
  }
  if (releasing) // its data beat the cancel: delivered, now the buffer goes
    release_read_buffer(st);
  if (idle_read && bytes == st.read_asked && !is_done(st)) {
    take_rest(self, deferred); // the small read was full: more may be there
    return;
  }
  if (!deferred)
    post_read(self);
}

// A pipe whose reader left fails the write: that is its end of stream.
static void on_write_failed(self_ptr self, unsigned long code) {
  auto& st = self->state;
  if (!st.transport->is_eof(code)) {
    fail_with(self, st.transport->write_call(), code);
    return;
  }
  st.log->debug("connection actor#{} {}: peer gone with {} bytes unwritten", self->id(), st.where,
                st.stats.queued_bytes);
  st.queue.clear();
  st.front_offset = 0;
  st.stats.queued_bytes = 0;
  on_peer_eof(self);
}

// What a write took (a packet's bytes or a write taken at once): drop it from
// the queue (a short write leaves the rest queued).
static void written(self_ptr self, std::size_t bytes) {
  auto& st = self->state;
  touch(self);
  st.stats.bytes_sent += bytes;
  IOCAF_ASSERT(bytes <= st.stats.queued_bytes, "a write completed more bytes than were queued");
  st.stats.queued_bytes -= bytes;
  std::size_t left = bytes;
  while (left > 0 && !st.queue.empty()) {
    auto& front = st.queue.front();
    std::size_t take = std::min(front.size() - st.front_offset, left);
    st.front_offset += take;
    left -= take;
    if (st.front_offset == front.size()) {
      st.queue.pop_front();
      st.front_offset = 0;
    }
  }
  if (st.queue.empty() && st.notify_drained && st.ph == phase::open) {
    st.notify_drained = false;
    tell_drained(self);
  }
}

// Gathers up to write_batch queued bytes into the write operation's buffer.
static std::size_t gather(stream_state& st) {
  auto& buf = st.write_op->buffer();
  buf.resize(std::min<std::size_t>(st.opts.write_batch, st.stats.queued_bytes));
  std::size_t n = 0;
  std::size_t offset = st.front_offset;
  for (auto& chunk : st.queue) {
    std::size_t take = std::min(chunk.size() - offset, buf.size() - n);
    std::copy_n(chunk.data() + offset, take, buf.data() + n);
    n += take;
    offset = 0;
    if (n == buf.size())
      break;
  }
  return n;
}

// Writes what is queued: at once while the kernel takes it all (a transport
// that writes_now: no packet, no hop through the broker), then overlapped.
// Either way the outcome goes through written / on_write_failed, as a
// packet's would.
void post_write(self_ptr self) {
  auto& st = self->state;
  auto* t = st.transport.get();
  bool now = t->writes_now();
  while (st.wr != write_state::pending && !st.queue.empty() && st.ph != phase::connecting && !is_done(st)) {
    std::size_t n = gather(st);
    if (now) {
      std::size_t sent = 0;
      auto code = t->write_now(st.write_op->buffer().data(), n, sent);
      if (code == 0) {
        ++st.stats.writes_at_once;
        now = sent == n; // a short write: the kernel's buffer is full
        written(self, sent);
        continue;
      }
      if (!t->would_block(code)) {
        on_write_failed(self, code);
        return;
      }
    }
    ++st.stats.writes_overlapped;
    if (st.ops.launch(st.write_op, t->handle(), [t, n](io::operation& op) { return t->start_write(op, n); }))
      st.wr = write_state::pending; // an inline failure, too, arrives in on_write
    return;
  }
}

void on_write(self_ptr self, std::uint32_t bytes, std::uint32_t error) {
  auto& st = self->state;
  st.wr = write_state::idle;
  if (error != 0) {
    on_write_failed(self, st.transport->error_of(*st.write_op, error));
    return;
  }
  written(self, bytes);
  post_write(self);
  advance_close(self);
}

void enqueue(self_ptr self, std::string header, std::string data) {
  auto& st = self->state;
  auto n = header.size() + data.size();
  if (st.ph == phase::closing || is_done(st)) {
    tell_refused(self, data.size(), send_refusal::closing);
    return;
  }
  if (n == 0)
    return;
  if (n > st.opts.max_queued_bytes) {
    tell_refused(self, data.size(), send_refusal::too_large);
    return;
  }
  if (st.stats.queued_bytes + n > st.opts.max_queued_bytes) {
    auto why = "write queue full (" + std::to_string(st.stats.queued_bytes) + " bytes queued, bound "
               + std::to_string(st.opts.max_queued_bytes) + ")";
    if (st.opts.when_full == when_full_policy::disconnect) {
      ++st.stats.refused;
      st.log->warn("connection actor#{} {}: disconnecting a slow consumer: {}", self->id(), st.where, why);
      finish(self, stream_close_reason::slow_consumer, make_error(errc::queue_full, why + ": slow consumer dropped"),
             true);
      return;
    }
    st.notify_drained = true;
    tell_refused(self, data.size(), send_refusal::queue_full);
    return;
  }
  st.stats.queued_bytes += n;
  IOCAF_ASSERT(st.stats.queued_bytes <= st.opts.max_queued_bytes, "queued bytes over the bound");
  st.stats.max_queued_seen = std::max<std::uint64_t>(st.stats.max_queued_seen, st.stats.queued_bytes);
  if (st.stats.queued_bytes >= st.opts.max_queued_bytes / 2)
    st.notify_drained = true;
  if (!header.empty())
    st.queue.push_back(std::move(header));
  if (!data.empty())
    st.queue.push_back(std::move(data));
  post_write(self);
}

void on_consumed(self_ptr self, std::uint64_t bytes) {
  auto& st = self->state;
  st.unconsumed -= std::min<std::size_t>(st.unconsumed, bytes);
  if (st.rd == read_state::paused)
    st.rd = read_state::idle;
  post_read(self);
}

void begin_close(self_ptr self, bool abortive) {
  auto& st = self->state;
  if (is_done(st))
    return;
  if (abortive || st.ph == phase::connecting) {
    finish(self, stream_close_reason::local_close, {}, true);
    return;
  }
  if (st.ph == phase::closing)
    return;
  st.ph = phase::closing;
  ++st.timer_generation; // the idle timer no longer applies
  arm_timer(self, timer_kind::close_bound, st.opts.close_bound);
  if (st.rd == read_state::paused)
    st.rd = read_state::idle; // reads now discard, waiting for EOF
  advance_close(self);
}

} // namespace iocaf::stream_detail
