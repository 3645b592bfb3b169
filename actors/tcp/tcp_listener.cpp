#include "actors/tcp/tcp_listener.hpp"

#include "actors/core/io_actor.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

namespace iocaf {

namespace {

// Re-posts the accept of one slot (its index): sent anonymously, delayed
// while backing off, so a draining listener has nobody to answer.
using accept_again_atom = caf::atom_constant<caf::atom("acceptagn")>;

// Backoff after a transient failure (no sockets, buffers or memory): doubles
// from the first to the last bound, back to none after a successful accept.
constexpr auto first_backoff = std::chrono::milliseconds(10);
constexpr auto max_backoff = std::chrono::milliseconds(1000);

// One posted AcceptEx: its operation (whose buffer receives the addresses)
// and the fresh socket it accepts into, which must stay open until the packet.
enum class slot_state : std::uint8_t {
  idle,        // nothing posted (closing, or between a completion and the next post)
  posted,      // an AcceptEx is in flight
  backing_off, // waiting to post again after a transient error
};

struct accept_slot {
  io::unique_socket accepted;
  io::operation_ptr op;
  slot_state state = slot_state::idle;
};

struct tcp_listener_state {
  io::unique_socket sock;
  std::vector<accept_slot> slots;
  owned_operations ops; // after the sockets: destroyed (orphaned) before they close

  tcp_listener_options opts;
  connection_handler handler;
  int family = AF_INET;
  std::shared_ptr<io_core> core;
  std::shared_ptr<spdlog::logger> log;
  tcp_listener_stats stats;
  std::chrono::milliseconds backoff{0};
};

using self_ptr = caf::stateful_actor<tcp_listener_state>*;

void accept_again(self_ptr self, std::size_t i, std::chrono::milliseconds after) {
  auto me = caf::actor_cast<caf::actor>(self);
  auto msg = caf::make_message(accept_again_atom::value, static_cast<std::uint64_t>(i));
  if (after.count() == 0)
    caf::anon_send(me, std::move(msg));
  else
    caf::delayed_anon_send(me, after, std::move(msg));
}

// Every failed accept of slot i ends here: a client's reset is its own
// business, a shortage of resources is waited out, and only an unusable
// listening socket stops the listener.
void on_accept_failed(self_ptr self, std::size_t i, const io::error& err, io::accept_failure kind) {
  auto& st = self->state;
  ++st.stats.accept_errors;
  // A code that says "the listening socket is unusable" is believed only if
  // the socket agrees (see io::is_listening); our own cancel is never retried.
  const char* note = "";
  if (kind == io::accept_failure::fatal && err.code() != ERROR_OPERATION_ABORTED && !st.ops.closing()) {
    auto listening = io::is_listening(st.sock.get());
    if (listening && *listening) {
      note = " (the socket still listens: treated as a shortage)";
      kind = io::accept_failure::transient;
    } else if (!listening) {
      st.log->error("listener: {}", listening.err().to_string());
    }
  }
  switch (kind) {
    case io::accept_failure::peer:
      ++st.stats.resets;
      st.log->warn("listener: a client left before its accept: {}; accepting again", err.to_string());
      accept_again(self, i, std::chrono::milliseconds(0));
      return;
    case io::accept_failure::transient: {
      ++st.stats.transient_errors;
      st.backoff = std::min(max_backoff, std::max(first_backoff, st.backoff * 2));
      st.slots[i].state = slot_state::backing_off;
      st.log->warn("listener: {}{}; accepting again on this slot in {} ms", err.to_string(), note, st.backoff.count());
      accept_again(self, i, st.backoff);
      return;
    }
    case io::accept_failure::fatal:
      // ERROR_OPERATION_ABORTED: our own cancel or a start refused while we
      // close or the runtime shuts down; nothing to report loudly.
      if (err.code() == ERROR_OPERATION_ABORTED)
        st.log->debug("listener: {}; stopping", err.to_string());
      else
        st.log->error("listener: {}; stopping", err.to_string());
      shut_down(self, make_error(errc::win32, "listener: " + err.to_string()));
      return;
  }
}

void post_accept(self_ptr self, std::size_t i) {
  auto& st = self->state;
  auto& slot = st.slots[i];
  if (slot.state == slot_state::posted)
    return;
  slot.state = slot_state::idle;
  if (st.ops.closing())
    return;
  auto fresh = io::open_tcp_socket(st.family);
  if (!fresh) {
    on_accept_failed(self, i, fresh.err(), io::classify_accept_error(fresh.err().code()));
    return;
  }
  slot.accepted = std::move(*fresh);
  auto listener = st.sock.get();
  auto accepted = slot.accepted.get();
  // Its result, an inline failure too, arrives in on_accept.
  if (st.ops.launch(slot.op, st.sock.handle(),
                    [listener, accepted](io::operation& op) { return io::start_accept(op, listener, accepted); }))
    slot.state = slot_state::posted;
}

void on_accept(self_ptr self, std::size_t i, std::uint32_t error) {
  auto& st = self->state;
  auto& slot = st.slots[i];
  slot.state = slot_state::idle;
  io::unique_socket accepted = std::move(slot.accepted);
  if (error != 0) {
    auto code = io::socket_error_of(st.sock.get(), *slot.op, error);
    on_accept_failed(self, i, io::error{"AcceptEx", code}, io::classify_accept_error(code));
    return;
  }
  if (auto e = io::finish_accept(st.sock.get(), accepted.get())) {
    // This concerns the accepted socket alone: never a reason to stop listening.
    auto kind = io::classify_accept_error(e.code());
    on_accept_failed(self, i, e, kind == io::accept_failure::fatal ? io::accept_failure::transient : kind);
    return;
  }
  st.backoff = std::chrono::milliseconds(0);
  auto handler = st.handler.next();
  if (!handler) {
    ++st.stats.accept_errors;
    st.log->error("listener: no handler for an accepted connection; closing it");
  } else {
    ++st.stats.accepted;
    spawn_tcp_connection(self->system(), st.core, std::move(accepted), handler, st.opts.connection);
  }
  post_accept(self, i);
}

caf::behavior listener(self_ptr self, std::shared_ptr<io_core> core, SOCKET raw, int family,
                       tcp_listener_options opts, connection_handler handler) {
  self->state.sock.reset(raw);
  install_cancel_protocol(self, core);
  auto& st = self->state;
  st.opts = std::move(opts);
  st.handler = std::move(handler);
  st.family = family;
  st.core = core;
  st.log = logger("tcp");
  st.slots.resize(std::max<std::size_t>(1, st.opts.accepts_posted));
  for (auto& slot : st.slots)
    slot.op = st.ops.make(io::op_kind::accept, 2 * io::accept_address_bytes);
  for (std::size_t i = 0; i < st.slots.size(); ++i) {
    post_accept(self, i);
    if (st.ops.closing())
      return {}; // shut_down chose draining (or quit): keep it
  }
  return {
    [self](const io_completed& msg) {
      if (auto c = self->state.ops.complete(msg))
        if (auto i = slot_of(self->state.slots, c->op))
          on_accept(self, *i, c->error);
    },
    [self](accept_again_atom, std::uint64_t i) {
      if (i < self->state.slots.size())
        post_accept(self, static_cast<std::size_t>(i));
    },
    [self](close_atom) { shut_down(self, caf::exit_reason::normal); },
    [self](stats_atom) {
      auto s = self->state.stats;
      s.posted = 0;
      s.backing_off = 0;
      for (auto& slot : self->state.slots) {
        s.posted += slot.state == slot_state::posted ? 1 : 0;
        s.backing_off += slot.state == slot_state::backing_off ? 1 : 0;
      }
      return s;
    },
  };
}

} // namespace

caf::expected<tcp_listener> spawn_tcp_listener(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                               tcp_listener_options opts, connection_handler handler) {
  auto addr = io::parse_address(opts.address, opts.port);
  if (!addr)
    return make_error(errc::bad_input, "listen: \"" + opts.address + "\" is not a numeric IPv4 or IPv6 address");
  if (!handler)
    return make_error(errc::bad_input, "listen: no handler actor and no factory");
  auto where = addr->to_string();
  auto sock = io::open_tcp_socket(addr->family());
  if (!sock)
    return make_error(errc::win32, "listen on " + where + ": " + sock.err().to_string());
  if (auto e = io::bind_socket(sock->get(), *addr)) {
    if (e.code() == WSAEADDRINUSE || e.code() == WSAEACCES)
      return make_error(errc::in_use, "listen on " + where + ": address already in use: " + e.to_string());
    if (e.code() == WSAEADDRNOTAVAIL || e.code() == WSAEAFNOSUPPORT)
      return make_error(errc::bad_input, "listen on " + where + ": not an address of this machine: " + e.to_string());
    return make_error(errc::win32, "listen on " + where + ": " + e.to_string());
  }
  if (auto e = io::listen_socket(sock->get(), opts.backlog)) {
    if (e.code() == WSAEADDRINUSE)
      return make_error(errc::in_use, "listen on " + where + ": address already in use: " + e.to_string());
    return make_error(errc::win32, "listen on " + where + ": " + e.to_string());
  }
  if (auto e = io::load_extensions(sock->get()))
    return make_error(errc::win32, "listen on " + where + ": " + e.to_string());
  auto local = io::local_address(sock->get());
  if (!local)
    return make_error(errc::win32, "listen on " + where + ": " + local.err().to_string());
  if (auto e = core->port.associate(sock->handle()))
    return make_error(errc::win32, "listen on " + where + ": " + e.to_string());
  auto family = addr->family();
  auto a = sys.spawn(listener, std::move(core), sock->release(), family, std::move(opts), std::move(handler));
  return tcp_listener{a, *local};
}

} // namespace iocaf
