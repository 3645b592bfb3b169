#include "actors/tcp/tcp_connection.hpp"

#include <algorithm>
#include <deque>
#include <optional>

namespace iocaf {

const char* to_string(tcp_close_reason r) {
  switch (r) {
    case tcp_close_reason::local_close: return "local_close";
    case tcp_close_reason::peer_eof: return "peer_eof";
    case tcp_close_reason::peer_reset: return "peer_reset";
    case tcp_close_reason::idle_timeout: return "idle_timeout";
    case tcp_close_reason::connect_failed: return "connect_failed";
    case tcp_close_reason::slow_consumer: return "slow_consumer";
    case tcp_close_reason::handler_down: return "handler_down";
    case tcp_close_reason::shutdown: return "shutdown";
    case tcp_close_reason::error: return "error";
  }
  return "?";
}

namespace {

using clock = std::chrono::steady_clock;

// Timers are sent anonymously: a timer that arrives while the actor drains
// then has no sender to answer, so nothing bounces back and forth.
enum class timer_kind : std::uint8_t { idle, close_bound, connect };
struct tcp_timer {
  timer_kind kind = timer_kind::idle;
  std::uint64_t generation = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tcp_timer& x) {
  return f(caf::meta::type_name("tcp_timer"), x.kind, x.generation);
}

struct tcp_connection_state {
  io::unique_socket sock;
  owned_operations ops; // after the socket: destroyed (orphaned) before it closes

  caf::actor handler;
  tcp_connection_options opts;
  std::shared_ptr<spdlog::logger> log;

  io::operation_ptr read_op;
  io::operation_ptr write_op;
  io::operation_ptr connect_op;
  bool reading = false;
  bool writing = false;
  bool connecting = false;
  bool connect_timed_out = false;

  std::deque<std::string> queue; // front() is partly sent by `front_offset`
  std::size_t front_offset = 0;
  std::size_t queued = 0;
  bool notify_drained = false;

  std::size_t unconsumed = 0;
  bool peer_eof = false;
  bool closing = false;     // graceful close in progress
  bool sent_fin = false;
  bool finished = false;    // tcp_closed sent, cancel protocol started
  bool eof_before_close = false;

  clock::time_point last_activity = clock::now();
  std::uint64_t timer_generation = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t max_queued_seen = 0;
  std::uint64_t max_unconsumed_seen = 0;
  std::string where; // "local -> remote" for log lines
};

using self_ptr = caf::stateful_actor<tcp_connection_state>*;

caf::actor me(self_ptr self) {
  return caf::actor_cast<caf::actor>(self);
}

void post_read(self_ptr self);
void post_write(self_ptr self);

// The one way out: tell the handler why, then run the cancel protocol.
void finish(self_ptr self, tcp_close_reason reason, caf::error err, bool abortive) {
  auto& st = self->state;
  if (st.finished)
    return;
  st.finished = true;
  if (abortive && st.sock)
    if (auto e = io::set_abortive_close(st.sock.get()))
      st.log->warn("{}: {}", st.where, e.to_string());
  st.log->debug("connection actor#{} {} closes: {} {}", self->id(), st.where, to_string(reason),
                err ? describe(err) : std::string{});
  if (st.handler)
    self->send(st.handler, tcp_closed{self->address(), reason, err, st.bytes_received, st.bytes_sent});
  bool clean = reason == tcp_close_reason::local_close || reason == tcp_close_reason::peer_eof;
  caf::error exit_reason;
  if (clean)
    exit_reason = caf::exit_reason::normal;
  else if (err)
    exit_reason = err;
  else
    exit_reason = make_error(errc::closing, std::string("tcp connection closed: ") + to_string(reason));
  // The socket closes when the state goes, after every packet has arrived.
  shut_down(self, std::move(exit_reason));
}

void fail_with(self_ptr self, const char* call, unsigned long code) {
  auto err = make_error(io::error{call, code});
  if (io::is_reset(code))
    finish(self, tcp_close_reason::peer_reset, std::move(err), true);
  else
    finish(self, tcp_close_reason::error, std::move(err), true);
}

void touch(self_ptr self) {
  self->state.last_activity = clock::now();
}

void arm_timer(self_ptr self, timer_kind kind, std::chrono::milliseconds after) {
  caf::delayed_anon_send(me(self), after, tcp_timer{kind, self->state.timer_generation});
}

// After a graceful close request: once the queue is empty, send our FIN; once
// the peer's EOF arrived too, the connection is done.
void advance_close(self_ptr self) {
  auto& st = self->state;
  if (!st.closing || st.finished)
    return;
  if (!st.sent_fin && st.queue.empty() && !st.writing) {
    if (auto e = io::shutdown_send(st.sock.get())) {
      fail_with(self, "shutdown(SD_SEND)", e.code());
      return;
    }
    st.sent_fin = true;
  }
  if (st.sent_fin && st.peer_eof) {
    finish(self, st.eof_before_close ? tcp_close_reason::peer_eof : tcp_close_reason::local_close, {}, false);
    return;
  }
  post_read(self); // discards data, waits for EOF
}

void post_read(self_ptr self) {
  auto& st = self->state;
  if (st.reading || st.peer_eof || st.finished || st.connecting || self->state.ops.closing())
    return;
  if (!st.closing && st.unconsumed >= st.opts.read_credit)
    return; // paused until the handler sends tcp_consumed
  std::size_t n = st.opts.read_chunk;
  if (!st.closing)
    n = std::min(n, st.opts.read_credit - st.unconsumed);
  auto sock = st.sock.get();
  auto code = st.ops.start(st.read_op, st.sock.handle(),
                           [sock, n](io::operation& op) { return io::start_recv(op, sock, n); });
  if (code != 0) {
    fail_with(self, "WSARecv", code);
    return;
  }
  st.reading = true;
}

void on_read(self_ptr self, std::uint32_t bytes, std::uint32_t error) {
  auto& st = self->state;
  st.reading = false;
  if (error != 0) {
    fail_with(self, "WSARecv", io::socket_error_of(st.sock.get(), *st.read_op, error));
    return;
  }
  touch(self);
  if (bytes == 0) {
    st.peer_eof = true;
    if (st.closing) {
      advance_close(self);
    } else {
      st.eof_before_close = true;
      self->send(st.handler, tcp_peer_eof{me(self)});
    }
    return;
  }
  st.bytes_received += bytes;
  if (!st.closing) {
    auto& buf = st.read_op->buffer();
    st.unconsumed += bytes;
    st.max_unconsumed_seen = std::max<std::uint64_t>(st.max_unconsumed_seen, st.unconsumed);
    self->send(st.handler, tcp_received{me(self), std::string(buf.data(), bytes)});
  }
  post_read(self);
}

void post_write(self_ptr self) {
  auto& st = self->state;
  if (st.writing || st.queue.empty() || st.finished || st.connecting || st.ops.closing())
    return;
  // Copy up to write_chunk bytes from the queue's head into the operation.
  auto& buf = st.write_op->buffer();
  buf.resize(st.opts.write_chunk);
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
  auto sock = st.sock.get();
  auto code = st.ops.start(st.write_op, st.sock.handle(),
                           [sock, n](io::operation& op) { return io::start_send(op, sock, n); });
  if (code != 0) {
    fail_with(self, "WSASend", code);
    return;
  }
  st.writing = true;
}

void on_write(self_ptr self, std::uint32_t bytes, std::uint32_t error) {
  auto& st = self->state;
  st.writing = false;
  if (error != 0) {
    fail_with(self, "WSASend", io::socket_error_of(st.sock.get(), *st.write_op, error));
    return;
  }
  touch(self);
  st.bytes_sent += bytes;
  // Drop what was sent (a short send leaves the rest queued).
  std::size_t left = bytes;
  st.queued -= std::min<std::size_t>(st.queued, bytes);
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
  if (st.queue.empty() && st.notify_drained && !st.closing) {
    st.notify_drained = false;
    self->send(st.handler, tcp_drained{me(self)});
  }
  post_write(self);
  advance_close(self);
}

void on_send(self_ptr self, tcp_send& msg) {
  auto& st = self->state;
  if (st.closing || st.finished) {
    st.log->debug("{}: send of {} bytes after close dropped", st.where, msg.data.size());
    return;
  }
  if (msg.data.empty())
    return;
  if (st.queued + msg.data.size() > st.opts.max_queued_bytes) {
    if (st.opts.when_full == write_full_policy::disconnect) {
      finish(self, tcp_close_reason::slow_consumer,
             make_error(errc::queue_full, "write queue full (" + std::to_string(st.queued) + " bytes queued, bound "
                                            + std::to_string(st.opts.max_queued_bytes) + "): slow consumer dropped"),
             true);
      return;
    }
    st.notify_drained = true;
    self->send(st.handler, tcp_send_refused{me(self), msg.data.size(), st.queued});
    return;
  }
  st.queued += msg.data.size();
  st.max_queued_seen = std::max<std::uint64_t>(st.max_queued_seen, st.queued);
  if (st.queued >= st.opts.max_queued_bytes / 2)
    st.notify_drained = true;
  st.queue.push_back(std::move(msg.data));
  post_write(self);
}

void begin_close(self_ptr self, bool abortive) {
  auto& st = self->state;
  if (st.finished)
    return;
  if (abortive || st.connecting) {
    finish(self, tcp_close_reason::local_close, {}, true);
    return;
  }
  if (st.closing)
    return;
  st.closing = true;
  ++st.timer_generation; // the idle timer no longer applies
  arm_timer(self, timer_kind::close_bound, st.opts.close_bound);
  advance_close(self);
}

void opened(self_ptr self) {
  auto& st = self->state;
  std::string local, remote;
  if (auto a = io::local_address(st.sock.get()))
    local = a->to_string();
  if (auto a = io::peer_address(st.sock.get()))
    remote = a->to_string();
  st.where = local + " <-> " + remote;
  if (st.opts.no_delay)
    if (auto e = io::set_no_delay(st.sock.get(), true))
      st.log->warn("{}: {}", st.where, e.to_string());
  touch(self);
  self->send(st.handler, tcp_opened{me(self), local, remote});
  if (st.opts.idle_timeout.count() > 0)
    arm_timer(self, timer_kind::idle, st.opts.idle_timeout);
  post_read(self);
  post_write(self); // sends queued while connecting
}

caf::error connect_error(const io::socket_address& to, unsigned long code, bool timed_out,
                         std::chrono::milliseconds bound) {
  std::string where = "connect to " + to.to_string();
  if (timed_out)
    return make_error(errc::timeout, where + ": no answer within " + std::to_string(bound.count()) + " ms");
  auto text = io::error{"ConnectEx", code}.to_string();
  if (io::is_refused(code))
    return make_error(errc::not_found, where + ": connection refused (nobody listens there): " + text);
  if (io::is_unreachable(code))
    return make_error(errc::not_found, where + ": unreachable: " + text);
  return make_error(errc::win32, where + ": " + text);
}

void on_connect(self_ptr self, const io::socket_address& to, std::uint32_t error) {
  auto& st = self->state;
  st.connecting = false;
  if (error != 0) {
    auto code = io::socket_error_of(st.sock.get(), *st.connect_op, error);
    finish(self, tcp_close_reason::connect_failed,
           connect_error(to, code, st.connect_timed_out, st.opts.connect_timeout), true);
    return;
  }
  ++st.timer_generation; // the connect timer is void
  if (auto e = io::finish_connect(st.sock.get())) {
    finish(self, tcp_close_reason::connect_failed, make_error(e), true);
    return;
  }
  opened(self);
}

void on_timer(self_ptr self, const tcp_timer& t) {
  auto& st = self->state;
  if (t.generation != st.timer_generation || st.finished)
    return;
  switch (t.kind) {
    case timer_kind::idle: {
      auto idle = clock::now() - st.last_activity;
      if (idle >= st.opts.idle_timeout) {
        finish(self, tcp_close_reason::idle_timeout,
               make_error(errc::timeout, "no data either way for " + std::to_string(st.opts.idle_timeout.count())
                                           + " ms"),
               true);
        return;
      }
      arm_timer(self, timer_kind::idle,
                std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.idle_timeout - idle)
                  + std::chrono::milliseconds(1));
      return;
    }
    case timer_kind::close_bound:
      finish(self, tcp_close_reason::local_close,
             make_error(errc::timeout, "graceful close did not finish within "
                                         + std::to_string(st.opts.close_bound.count()) + " ms; reset"),
             true);
      return;
    case timer_kind::connect:
      if (st.connecting && !st.connect_timed_out) {
        st.connect_timed_out = true;
        if (auto code = st.connect_op->cancel())
          st.log->warn("{}", io::error{"CancelIoEx", code}.to_string());
      }
      return;
  }
}

caf::behavior running(self_ptr self, io::socket_address to) {
  return {
    [self, to](const io_completed& msg) {
      auto c = self->state.ops.complete(msg);
      if (!c)
        return;
      auto& st = self->state;
      if (c->op == st.read_op)
        on_read(self, c->bytes, c->error);
      else if (c->op == st.write_op)
        on_write(self, c->bytes, c->error);
      else if (c->op == st.connect_op)
        on_connect(self, to, c->error);
    },
    [self](tcp_send& msg) { on_send(self, msg); },
    [self](const tcp_consumed& msg) {
      auto& st = self->state;
      st.unconsumed -= std::min<std::size_t>(st.unconsumed, msg.bytes);
      post_read(self);
    },
    [self](const tcp_close& msg) { begin_close(self, msg.abortive); },
    [self](close_atom) { begin_close(self, false); },
    [self](const tcp_timer& t) { on_timer(self, t); },
    [self](stats_atom) {
      auto& st = self->state;
      return tcp_connection_stats{st.queued, st.unconsumed, st.max_queued_seen, st.max_unconsumed_seen, st.reading};
    },
  };
}

// Common set-up for both phases; returns false if the actor already quit.
bool init(self_ptr self, std::shared_ptr<io_core> core, caf::actor handler, tcp_connection_options opts) {
  install_cancel_protocol(self, core);
  auto& st = self->state;
  st.handler = std::move(handler);
  st.opts = opts;
  st.opts.read_chunk = std::max<std::size_t>(1, st.opts.read_chunk);
  st.opts.read_credit = std::max<std::size_t>(1, st.opts.read_credit);
  st.opts.write_chunk = std::max<std::size_t>(1, st.opts.write_chunk);
  st.log = logger("tcp");
  st.read_op = st.ops.make(io::op_kind::read, st.opts.read_chunk);
  st.write_op = st.ops.make(io::op_kind::write, st.opts.write_chunk);
  // Runtime shutdown or a link: reset the connection (no flush), then cancel.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    finish(self, tcp_close_reason::shutdown, std::move(msg.reason), true);
  });
  if (!st.handler) {
    self->quit(make_error(errc::bad_input, "tcp connection: no handler actor"));
    return false;
  }
  self->monitor(st.handler);
  self->set_down_handler([self](caf::down_msg& msg) {
    if (msg.source == self->state.handler.address())
      finish(self, tcp_close_reason::handler_down, std::move(msg.reason), true);
  });
  return true;
}

caf::behavior accepted_connection(self_ptr self, std::shared_ptr<io_core> core, SOCKET raw, caf::actor handler,
                                  tcp_connection_options opts) {
  self->state.sock.reset(raw);
  if (!init(self, core, std::move(handler), opts))
    return {};
  auto& st = self->state;
  if (auto e = core->port.associate(st.sock.handle())) {
    finish(self, tcp_close_reason::error, make_error(e), true);
    return {};
  }
  opened(self);
  // finish() may have run already (it set the draining behaviour or quit):
  // an empty behaviour keeps that.
  return st.finished ? caf::behavior{} : running(self, {});
}

caf::behavior connecting_connection(self_ptr self, std::shared_ptr<io_core> core, io::socket_address to,
                                    caf::actor handler, tcp_connection_options opts) {
  if (!init(self, core, std::move(handler), opts))
    return {};
  auto& st = self->state;
  st.where = "-> " + to.to_string();
  auto fail = [&](const io::error& e) {
    finish(self, tcp_close_reason::connect_failed,
           make_error(errc::win32, "connect to " + to.to_string() + ": " + e.to_string()), true);
    return caf::behavior{};
  };
  auto sock = io::open_tcp_socket(to.family());
  if (!sock)
    return fail(sock.err());
  st.sock = std::move(*sock);
  // ConnectEx needs a bound socket.
  if (auto e = io::bind_socket(st.sock.get(), io::any_address(to.family())))
    return fail(e);
  if (auto e = io::load_extensions(st.sock.get()))
    return fail(e);
  if (auto e = core->port.associate(st.sock.handle()))
    return fail(e);
  st.connect_op = st.ops.make(io::op_kind::connect);
  auto s = st.sock.get();
  auto code = st.ops.start(st.connect_op, st.sock.handle(),
                           [s, to](io::operation& op) { return io::start_connect(op, s, to); });
  if (code != 0) {
    finish(self, tcp_close_reason::connect_failed, connect_error(to, code, false, st.opts.connect_timeout), true);
    return {};
  }
  st.connecting = true;
  if (st.opts.connect_timeout.count() > 0)
    arm_timer(self, timer_kind::connect, st.opts.connect_timeout);
  return running(self, to);
}

} // namespace

caf::actor spawn_tcp_connection(caf::actor_system& sys, std::shared_ptr<io_core> core, io::unique_socket sock,
                                caf::actor handler, tcp_connection_options opts) {
  return sys.spawn(accepted_connection, std::move(core), sock.release(), std::move(handler), opts);
}

namespace detail {
caf::actor spawn_tcp_connecting(caf::actor_system& sys, std::shared_ptr<io_core> core, io::socket_address to,
                                caf::actor handler, tcp_connection_options opts) {
  return sys.spawn(connecting_connection, std::move(core), to, std::move(handler), opts);
}
} // namespace detail

} // namespace iocaf
