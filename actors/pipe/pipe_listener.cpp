#include "actors/pipe/pipe_listener.hpp"

#include "actors/core/io_actor.hpp"
#include "io/pipe.hpp"

#include <vector>

namespace iocaf {

namespace {

using rearm_atom = caf::atom_constant<caf::atom("rearm")>;

// After a failed instance, wait this long before creating its replacement,
// so a persistent failure cannot spin.
constexpr auto rearm_delay = std::chrono::milliseconds(100);

// One pipe instance and its ConnectNamedPipe.
enum class slot_state : std::uint8_t {
  idle,   // nothing posted (closing, failed, or between a completion and the next post)
  posted, // a ConnectNamedPipe is in flight: the instance waits for a client
};

struct instance_slot {
  io::unique_handle pipe;
  io::operation_ptr op;
  slot_state state = slot_state::idle;
};

struct pipe_listener_state {
  std::vector<instance_slot> slots; // handles first: the operations drain before they close
  owned_operations ops;

  pipe_listener_options opts;
  connection_handler handler;
  std::shared_ptr<spdlog::logger> log;
  pipe_listener_stats stats;
};

using self_ptr = caf::stateful_actor<pipe_listener_state>*;

io::pipe_instance_options instance_options(const pipe_listener_options& opts, bool first) {
  io::pipe_instance_options out;
  out.first_instance = first;
  out.current_user_only = opts.current_user_only;
  out.buffer_size = opts.buffer_size;
  return out;
}

std::string display_name(const std::string& name) {
  return "\\\\.\\pipe\\" + name;
}

void arm(self_ptr self, std::size_t i);

// A client is connected to slot i's instance: it becomes a connection actor.
void accept(self_ptr self, std::size_t i) {
  auto& st = self->state;
  auto& slot = st.slots[i];
  slot.state = slot_state::idle;
  if (auto handler = st.handler.next()) {
    ++st.stats.accepted;
    spawn_pipe_connection(self->system(), st.ops.core_ptr(), std::move(slot.pipe), st.opts.name, true,
                          st.opts.connection, std::move(handler));
  } else {
    // Closing the instance disconnects the client; arm() creates a new one.
    st.log->error("{}: no handler for an accepted connection; closing it", display_name(st.opts.name));
    slot.pipe.reset();
  }
  arm(self, i);
}

void fail_slot(self_ptr self, std::size_t i, const io::error& err) {
  auto& st = self->state;
  auto& slot = st.slots[i];
  slot.state = slot_state::idle;
  slot.pipe.reset();
  ++st.stats.failures;
  st.log->warn("{}: instance failed ({}); replacing it in {} ms", display_name(st.opts.name), err.to_string(),
               rearm_delay.count());
  // Anonymous: if the listener is draining by then, its refusal has nobody to go to.
  caf::delayed_anon_send(caf::actor_cast<caf::actor>(self), rearm_delay, rearm_atom::value, static_cast<std::uint64_t>(i));
}

// A client opened slot i's instance and closed it before ConnectNamedPipe
// completed (ERROR_NO_DATA): nothing is wrong with the instance, so it is
// disconnected and waits again, after a message (not recursively: the next
// client may leave just as fast).
void client_left(self_ptr self, std::size_t i) {
  auto& st = self->state;
  auto& slot = st.slots[i];
  slot.state = slot_state::idle;
  ++st.stats.left_early;
  st.log->warn("{}: a client left before its connect completed ({}); the instance waits again",
               display_name(st.opts.name), io::error{"ConnectNamedPipe", ERROR_NO_DATA}.to_string());
  if (auto err = io::disconnect_pipe(slot.pipe.get())) {
    fail_slot(self, i, err);
    return;
  }
  caf::anon_send(caf::actor_cast<caf::actor>(self), rearm_atom::value, static_cast<std::uint64_t>(i));
}

// Gives slot i a waiting instance: creates one if needed, then ConnectNamedPipe.
void arm(self_ptr self, std::size_t i) {
  auto& st = self->state;
  auto& slot = st.slots[i];
  if (!slot.pipe) {
    auto pipe = io::create_pipe_instance(st.opts.name, instance_options(st.opts, false));
    if (!pipe) {
      fail_slot(self, i, pipe.err());
      return;
    }
    if (auto err = st.ops.core().port.associate(pipe->get())) {
      fail_slot(self, i, err);
      return;
    }
    slot.pipe = std::move(*pipe);
  }
  // Its result, inline or not, arrives in on_connect_result.
  if (st.ops.launch(slot.op, slot.pipe.get(), [](io::operation& o) { return io::start_connect_pipe(o, o.target()); }))
    slot.state = slot_state::posted;
}

// ConnectNamedPipe's one result path.
void on_connect_result(self_ptr self, std::size_t i, unsigned long code) {
  auto& st = self->state;
  auto& slot = st.slots[i];
  slot.state = slot_state::idle;
  if (code == 0) {
    accept(self, i);
  } else if (code == ERROR_PIPE_CONNECTED) {
    // The client opened the instance before ConnectNamedPipe (no packet came).
    ++st.stats.connected_inline;
    accept(self, i);
  } else if (code == ERROR_NO_DATA) {
    client_left(self, i);
  } else if (code == ERROR_OPERATION_ABORTED && (st.ops.closing() || st.ops.core().stopping.load())) {
    // Refused by the core: the listener closes or the runtime shuts down, so
    // the slot stays empty (no retry loop until the exit message arrives).
    slot.pipe.reset();
  } else {
    fail_slot(self, i, io::error{"ConnectNamedPipe", code});
  }
}

caf::behavior pipe_listener_actor(self_ptr self, std::shared_ptr<io_core> core, std::vector<HANDLE> pipes,
                                  pipe_listener_options opts, connection_handler handler) {
  install_cancel_protocol(self, core);
  auto& st = self->state;
  st.opts = std::move(opts);
  st.handler = std::move(handler);
  st.log = logger("pipe");
  st.slots.resize(pipes.size());
  for (std::size_t i = 0; i < pipes.size(); ++i) {
    st.slots[i].pipe.reset(pipes[i]);
    st.slots[i].op = st.ops.make(io::op_kind::connect_pipe);
  }
  st.log->debug("serving {} with {} instances", display_name(st.opts.name), pipes.size());
  for (std::size_t i = 0; i < st.slots.size(); ++i)
    arm(self, i);
  return {
    [self](const io_completed& msg) {
      if (auto c = self->state.ops.complete(msg))
        if (auto i = slot_of(self->state.slots, c->op))
          on_connect_result(self, *i, c->error);
    },
    [self](rearm_atom, std::uint64_t i) {
      if (i < self->state.slots.size() && self->state.slots[i].state != slot_state::posted)
        arm(self, static_cast<std::size_t>(i));
    },
    [self](close_atom) { shut_down(self, caf::error{}); },
    [self](stats_atom) {
      auto s = self->state.stats;
      s.waiting = 0;
      for (auto& slot : self->state.slots)
        s.waiting += slot.state == slot_state::posted ? 1 : 0;
      return s;
    },
  };
}

} // namespace

caf::expected<pipe_listener> spawn_pipe_listener(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                                 pipe_listener_options opts, connection_handler handler) {
  if (opts.name.empty())
    return make_error(errc::bad_input, "a pipe listener needs a name");
  if (opts.instances == 0)
    return make_error(errc::bad_input, "a pipe listener needs at least one instance");
  if (!handler)
    return make_error(errc::bad_input, "listen on " + display_name(opts.name) + ": no handler actor and no factory");
  std::vector<io::unique_handle> pipes;
  for (std::size_t i = 0; i < opts.instances; ++i) {
    auto pipe = io::create_pipe_instance(opts.name, instance_options(opts, i == 0));
    if (!pipe) {
      if (i == 0 && pipe.err().code() == ERROR_ACCESS_DENIED)
        return make_error(errc::in_use, display_name(opts.name) + " is already served by another server ("
                                          + pipe.err().to_string() + ")");
      return make_error(pipe.err());
    }
    if (auto err = core->port.associate(pipe->get()))
      return make_error(err);
    pipes.push_back(std::move(*pipe));
  }
  if (opts.on_instances_created)
    opts.on_instances_created();
  std::vector<HANDLE> raw;
  for (auto& p : pipes)
    raw.push_back(p.release());
  auto local = opts.name;
  auto a = sys.spawn(pipe_listener_actor, std::move(core), std::move(raw), std::move(opts), std::move(handler));
  return pipe_listener{a, std::move(local)};
}

} // namespace iocaf
