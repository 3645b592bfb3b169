#include "actors/pipe/pipe_connect.hpp"

#include "io/pipe.hpp"

namespace iocaf {

namespace {

using retry_atom = caf::atom_constant<caf::atom("retry")>;

struct connector_state {
  pipe_connect_options opts;
  std::shared_ptr<io_core> core;
  caf::actor handler;
  std::chrono::steady_clock::time_point deadline;
  std::uint64_t attempts = 0;
};

using self_ptr = caf::stateful_actor<connector_state>*;

void fail(self_ptr self, caf::error reason) {
  auto& st = self->state;
  logger("pipe")->debug("connect to \\\\.\\pipe\\{} failed: {}", st.opts.name, describe(reason));
  self->send(st.handler, frame_closed{self->address(), std::move(reason)});
  self->quit();
}

// One non-blocking attempt; schedules the next one while the server is busy.
void attempt(self_ptr self) {
  auto& st = self->state;
  ++st.attempts;
  auto path = "\\\\.\\pipe\\" + st.opts.name;
  auto pipe = io::open_pipe_client(st.opts.name);
  if (pipe) {
    if (auto err = st.core->port.associate(pipe->get())) {
      fail(self, make_error(err));
      return;
    }
    spawn_pipe_connection(self->system(), st.core, std::move(*pipe), st.opts.name, false, st.opts.connection,
                          st.handler);
    self->quit();
    return;
  }
  auto code = pipe.err().code();
  if (code == ERROR_FILE_NOT_FOUND) {
    fail(self, make_error(errc::not_found, "no server at " + path + " (" + pipe.err().to_string() + ")"));
    return;
  }
  if (code != ERROR_PIPE_BUSY) {
    fail(self, make_error(errc::win32, "connecting to " + path + ": " + pipe.err().to_string()));
    return;
  }
  if (std::chrono::steady_clock::now() + st.opts.retry_interval >= st.deadline) {
    fail(self, make_error(errc::timeout, "every instance of " + path + " stayed busy for "
                                           + std::to_string(st.opts.timeout.count()) + " ms ("
                                           + std::to_string(st.attempts) + " attempts)"));
    return;
  }
  self->delayed_send(self, st.opts.retry_interval, retry_atom::value);
}

caf::behavior connector(self_ptr self, std::shared_ptr<io_core> core, pipe_connect_options opts, caf::actor handler) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.core = std::move(core);
  st.handler = std::move(handler);
  st.deadline = std::chrono::steady_clock::now() + st.opts.timeout;
  attempt(self);
  return {
    [self](retry_atom) { attempt(self); },
  };
}

} // namespace

caf::expected<caf::actor> spawn_pipe_connect(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                             pipe_connect_options opts, caf::actor handler) {
  if (opts.name.empty())
    return make_error(errc::bad_input, "connect: a pipe needs a name");
  if (!handler)
    return make_error(errc::bad_input, "connect to \\\\.\\pipe\\" + opts.name + ": no handler actor");
  return sys.spawn(connector, std::move(core), std::move(opts), std::move(handler));
}

} // namespace iocaf
