#include "actors/process/process_state.hpp"

#include <cstdio>

namespace iocaf {

namespace process_detail {

static void finish(process_self self);

// Reports the exit once both outputs ended (or when forced by a bound).
void maybe_report(process_self self, bool force) {
  auto& st = self->state;
  if (st.phase != child_phase::exited)
    return;
  bool complete = !st.out.open && !st.err.open;
  if (!complete && !force)
    return;
  flush_partial(self, st.out);
  flush_partial(self, st.err);
  st.phase = child_phase::reported;
  process_exited msg{pid_of(self), st.exit_code, st.exit_error ? describe(st.exit_error) : std::string{},
                     st.terminated, complete, st.out.bytes, st.err.bytes};
  st.log->debug("pid {} exited with code {} ({}), {} + {} bytes of output{}", msg.pid,
                msg.exit_error.empty() ? std::to_string(msg.exit_code) : msg.exit_error,
                msg.terminated ? "terminated" : "on its own", msg.stdout_bytes, msg.stderr_bytes,
                complete ? "" : ", output incomplete");
  send_handler(self, caf::make_message(msg));
  finish(self);
}

// The child is gone (or given up on) and reported: cancel what is left and go.
static void finish(process_self self) {
  auto& st = self->state;
  IOCAF_ASSERT(st.phase == child_phase::reported, "a process actor finished before reporting the exit");
  for (auto& w : st.writes)
    fail_write(w, make_error(errc::closing, "the child process has exited"));
  caf::error reason;
  if (st.stop_reason)
    reason = *st.stop_reason;
  else if (st.exit_error)
    reason = st.exit_error;
  else if (st.exit_code != 0)
    reason = make_exit_error(st.opts.spawn.program, pid_of(self), st.exit_code);
  shut_down(self, std::move(reason));
}

} // namespace process_detail

namespace {

using namespace process_detail;

void terminate_child(process_self self) {
  auto& st = self->state;
  if (has_exited(st) || st.terminated)
    return;
  st.log->debug("pid {}: TerminateProcess (grace {} ms over)", pid_of(self), st.opts.grace.count());
  if (!TerminateProcess(st.child.process.get(), terminate_exit_code)) {
    auto err = io::last_error("TerminateProcess");
    // ERROR_ACCESS_DENIED here means it is exiting already; the wait will tell.
    st.log->warn("pid {}: {}", pid_of(self), err.to_string());
  }
  st.terminated = true;
  caf::delayed_anon_send(caf::actor{self}, kill_bound, kill_bound_atom::value);
}

void begin_stop(process_self self, caf::error reason) {
  auto& st = self->state;
  if (st.stop_reason || st.ops.closing())
    return;
  st.stop_reason = std::move(reason);
  if (has_exited(st))
    return; // the exit is being reported already (waiting for output EOF or its bound)
  st.phase = child_phase::stopping;
  st.log->debug("pid {}: stopping (grace {} ms)", pid_of(self), st.opts.grace.count());
  close_stdin(self, true);
  if (st.opts.grace.count() <= 0)
    terminate_child(self);
  else
    caf::delayed_anon_send(caf::actor{self}, st.opts.grace, grace_atom::value);
}

// The reads go in flight, then the handler hears that the child runs: a
// process_started means its outputs are being read.
void begin_reading(process_self self) {
  auto& st = self->state;
  start_reads(self);
  if (st.phase != child_phase::reported) // never after process_exited
    send_handler(self, caf::make_message(process_started{pid_of(self), st.opts.spawn.program}));
}

void on_exit_wait(process_self self, const owned_operations::completion& c) {
  auto& st = self->state;
  if (c.wait_released())
    return;
  if (c.error != 0) // cancelled: only during the cancel protocol
    return;
  auto code = io::exit_code(st.child.process.get());
  if (!code) {
    // Not a made-up exit code: the reason says what failed.
    st.log->error("pid {}: {}", pid_of(self), code.err().to_string());
    st.exit_error = make_error(errc::win32, "program \"" + st.opts.spawn.program + "\" (pid " +
                                              std::to_string(pid_of(self)) + ") exited, but its exit code is unknown: " +
                                              code.err().to_string());
  }
  if (has_exited(st))
    return; // given up on at the kill bound already
  st.phase = child_phase::exited;
  st.exit_code = code ? *code : 0;
  if (st.child.stdin_w && !st.writing)
    st.child.stdin_w.reset(); // nobody reads it any more
  bool outputs_ending = end_drained_outputs(self);
  maybe_report(self, false);
  if (st.phase != child_phase::reported && !outputs_ending)
    caf::delayed_anon_send(caf::actor{self}, st.opts.output_bound, output_bound_atom::value);
}

caf::behavior process_actor(process_self self, std::shared_ptr<io_core> core, process_actor_options opts,
                            std::shared_ptr<io::child_process> child) {
  install_cancel_protocol(self, core);
  self->set_exit_handler([self](caf::exit_msg& msg) { begin_stop(self, std::move(msg.reason)); });
  auto& st = self->state;
  st.child = std::move(*child);
  st.opts = std::move(opts);
  st.log = logger("process");
  st.out.handle = st.child.stdout_r.get();
  st.err.handle = st.child.stderr_r.get();
  st.write_op = st.ops.make(io::op_kind::write);
  // Started just as the runtime began to stop: install_cancel_protocol has
  // quit already. Start nothing; the child's job closes with the state.
  if (st.ops.closing())
    return {};

  auto w = st.ops.watch(st.child.process.get());
  if (!w) {
    st.log->error("pid {}: {}", pid_of(self), w.err().to_string());
    TerminateProcess(st.child.process.get(), terminate_exit_code);
    self->quit(make_error(w.err()));
    return {};
  }
  for (auto* s : {&st.out, &st.err}) {
    if (s->handle == nullptr)
      continue;
    s->op = st.ops.make(io::op_kind::read, st.opts.read_size);
    s->open = true;
  }
  // A quiet child's reads stay pending for its whole life: issued from the
  // thread that dequeues their completions, they wake no other.
  st.move_op = st.ops.make(io::op_kind::user);
  if (!st.ops.move_to_broker(st.move_op))
    begin_reading(self);
  return {
    [self](const io_completed& msg) {
      auto& st = self->state;
      auto c = st.ops.complete(msg);
      if (!c)
        return;
      if (c->wait) {
        on_exit_wait(self, *c);
      } else if (c->op == st.write_op) {
        on_write(self, *c);
      } else if (c->op == st.out.op) {
        on_read(self, st.out, *c);
      } else if (c->op == st.err.op) {
        on_read(self, st.err, *c);
      } else if (c->op == st.move_op) {
        begin_reading(self); // on the broker's thread now (a failed post: here, all the same)
      }
    },
    [self](process_input& in) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      if (!st.child.stdin_w || st.close_stdin_wanted || st.phase != child_phase::running)
        return make_error(errc::closing, "the child's stdin is closed");
      pending_write w{std::move(in.data), {}};
      // Only a request gets an answer (when written); a plain send gets none.
      if (self->current_message_id().is_request())
        w.promise = self->make_response_promise();
      st.writes.push_back(std::move(w));
      pump_writes(self);
      return caf::delegated<std::uint64_t>{};
    },
    [self](close_stdin_atom) { close_stdin(self, false); },
    [self](stop_atom) { begin_stop(self, caf::exit_reason::normal); },
    [self](grace_atom) {
      if (self->state.phase == child_phase::stopping)
        terminate_child(self);
    },
    [self](output_bound_atom) { maybe_report(self, true); },
    [self](kill_bound_atom) {
      auto& st = self->state;
      if (has_exited(st))
        return;
      st.log->error("pid {}: no exit {} s after TerminateProcess; giving up on it (its job still kills it)",
                    pid_of(self), std::chrono::duration_cast<std::chrono::seconds>(kill_bound).count());
      st.phase = child_phase::exited;
      st.exit_code = terminate_exit_code;
      maybe_report(self, true);
    },
  };
}

} // namespace

caf::error make_exit_error(const std::string& program, std::uint32_t pid, std::uint32_t code) {
  char hex[16];
  std::snprintf(hex, sizeof(hex), "0x%08X", code);
  return caf::error{static_cast<std::uint8_t>(process_errc::exited), process_error_category,
                    caf::make_message(code, "program \"" + program + "\" (pid " + std::to_string(pid) +
                                              ") exited with code " + std::to_string(code) + " (" + hex + ")")};
}

bool exit_code_of(const caf::error& reason, std::uint32_t& code) {
  if (reason.category() != process_error_category ||
      reason.code() != static_cast<std::uint8_t>(process_errc::exited) ||
      !reason.context().match_elements<std::uint32_t, std::string>())
    return false;
  code = reason.context().get_as<std::uint32_t>(0);
  return true;
}

void configure_process_errors(caf::actor_system_config& cfg) {
  cfg.add_error_category(process_error_category, [](std::uint8_t, caf::atom_value, const caf::message& ctx) {
    if (ctx.match_elements<std::uint32_t, std::string>())
      return ctx.get_as<std::string>(1);
    return std::string("process error");
  });
}

caf::expected<caf::actor> spawn_process(caf::actor_system& sys, std::shared_ptr<io_core> core,
                                        process_actor_options opts) {
  if (core->stopping.load())
    return make_error(errc::shutdown, "cannot start \"" + opts.spawn.program + "\": the iocaf runtime is stopping");
  auto child = io::start_process(opts.spawn);
  if (!child) {
    auto code = child.err().code();
    auto kind = code == ERROR_FILE_NOT_FOUND || code == ERROR_PATH_NOT_FOUND ? errc::not_found : errc::win32;
    return make_error(kind, "cannot start \"" + opts.spawn.program + "\": " + child.err().to_string());
  }
  auto shared = std::make_shared<io::child_process>(std::move(*child));
  for (auto* h : {&shared->stdin_w, &shared->stdout_r, &shared->stderr_r})
    if (*h)
      if (auto err = core->port.associate(h->get())) {
        TerminateProcess(shared->process.get(), 1); // in case the job is not ours
        return make_error(errc::win32, "\"" + opts.spawn.program + "\": " + err.to_string());
      }
  // (On an error above, `shared` closes the child's job, which kills it.)
  return sys.spawn(process_actor, std::move(core), std::move(opts), std::move(shared));
}

} // namespace iocaf
