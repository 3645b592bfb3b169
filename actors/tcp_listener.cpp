#include "actors/tcp_listener.hpp"

#include <vector>

namespace iocaf {

namespace {

// One posted AcceptEx: its operation (whose buffer receives the addresses)
// and the fresh socket it accepts into, which must stay open until the packet.
struct accept_slot {
  io::unique_socket accepted;
  io::operation_ptr op;
  bool posted = false;
};

struct tcp_listener_state {
  io::unique_socket sock;
  std::vector<accept_slot> slots;
  owned_operations ops; // after the sockets: destroyed (orphaned) before they close

  tcp_listener_options opts;
  int family = AF_INET;
  std::shared_ptr<io_core> core;
  std::shared_ptr<spdlog::logger> log;
  std::uint64_t accepted = 0;
  std::uint64_t accept_errors = 0;
  std::uint64_t errors_in_a_row = 0;
};

using self_ptr = caf::stateful_actor<tcp_listener_state>*;

// A listener whose accepts fail this many times in a row gives up.
constexpr std::uint64_t max_errors_in_a_row = 1000;

void post_accept(self_ptr self, accept_slot& slot) {
  auto& st = self->state;
  if (st.ops.closing())
    return;
  auto fresh = io::open_tcp_socket(st.family);
  if (!fresh) {
    st.log->error("listener: {}", fresh.err().to_string());
    shut_down(self, make_error(fresh.err()));
    return;
  }
  slot.accepted = std::move(*fresh);
  auto listener = st.sock.get();
  auto accepted = slot.accepted.get();
  auto code = st.ops.start(slot.op, st.sock.handle(), [listener, accepted](io::operation& op) {
    return io::start_accept(op, listener, accepted);
  });
  if (code != 0) {
    auto err = io::error{"AcceptEx", code};
    st.log->error("listener: {}", err.to_string());
    slot.accepted.reset();
    shut_down(self, make_error(err));
    return;
  }
  slot.posted = true;
}

void on_accept(self_ptr self, accept_slot& slot, std::uint32_t error) {
  auto& st = self->state;
  slot.posted = false;
  io::unique_socket accepted = std::move(slot.accepted);
  if (error != 0) {
    // E.g. the client reset before we accepted: count it, keep listening.
    auto code = io::socket_error_of(st.sock.get(), *slot.op, error);
    ++st.accept_errors;
    st.log->warn("listener: {}", io::error{"AcceptEx", code}.to_string());
    if (++st.errors_in_a_row >= max_errors_in_a_row) {
      shut_down(self, make_error(errc::win32, "listener: " + std::to_string(st.errors_in_a_row)
                                                + " accept failures in a row, last: "
                                                + io::error{"AcceptEx", code}.to_string()));
      return;
    }
    post_accept(self, slot);
    return;
  }
  st.errors_in_a_row = 0;
  if (auto e = io::finish_accept(st.sock.get(), accepted.get())) {
    ++st.accept_errors;
    st.log->warn("listener: {}", e.to_string());
  } else {
    caf::actor handler = st.opts.make_handler ? st.opts.make_handler() : st.opts.handler;
    if (!handler) {
      ++st.accept_errors;
      st.log->error("listener: no handler for an accepted connection; closing it");
    } else {
      ++st.accepted;
      spawn_tcp_connection(self->system(), st.core, std::move(accepted), handler, st.opts.connection);
    }
  }
  post_accept(self, slot);
}

caf::behavior listener(self_ptr self, std::shared_ptr<io_core> core, SOCKET raw, int family,
                       tcp_listener_options opts) {
  self->state.sock.reset(raw);
  install_cancel_protocol(self, core);
  auto& st = self->state;
  st.opts = std::move(opts);
  st.family = family;
  st.core = core;
  st.log = logger("tcp");
  st.slots.resize(std::max<std::size_t>(1, st.opts.accepts_posted));
  for (auto& slot : st.slots)
    slot.op = st.ops.make(io::op_kind::accept, 2 * io::accept_address_bytes);
  for (auto& slot : st.slots) {
    post_accept(self, slot);
    if (st.ops.closing())
      return {}; // shut_down chose draining (or quit): keep it
  }
  return {
    [self](const io_completed& msg) {
      auto c = self->state.ops.complete(msg);
      if (!c)
        return;
      for (auto& slot : self->state.slots)
        if (slot.op == c->op) {
          on_accept(self, slot, c->error);
          return;
        }
    },
    [self](close_atom) { shut_down(self, caf::exit_reason::normal); },
    [self](stats_atom) {
      auto& st = self->state;
      std::uint64_t posted = 0;
      for (auto& slot : st.slots)
        posted += slot.posted ? 1 : 0;
      return tcp_listener_stats{st.accepted, st.accept_errors, posted};
    },
  };
}

} // namespace

caf::expected<tcp_server> spawn_tcp_listener(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                             tcp_listener_options opts) {
  auto addr = io::parse_address(opts.address, opts.port);
  if (!addr)
    return make_error(errc::bad_input, "listen: \"" + opts.address + "\" is not a numeric IPv4 or IPv6 address");
  if (!opts.handler && !opts.make_handler)
    return make_error(errc::bad_input, "listen: no handler actor and no make_handler");
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
  auto local = io::local_address(sock->get());
  if (!local)
    return make_error(errc::win32, "listen on " + where + ": " + local.err().to_string());
  if (auto e = core->port.associate(sock->handle()))
    return make_error(errc::win32, "listen on " + where + ": " + e.to_string());
  auto family = addr->family();
  auto a = sys.spawn(listener, std::move(core), sock->release(), family, std::move(opts));
  return tcp_server{a, *local};
}

} // namespace iocaf
