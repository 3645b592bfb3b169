// The process actor's stdio: the child's stdout and stderr read as chunks
// or lines, and its stdin written from a queue of requests.
#include "actors/process/process_state.hpp"

namespace iocaf::process_detail {

void deliver_output(process_self self, stream_reader& s, const char* data, std::size_t n) {
  auto& st = self->state;
  s.bytes += n;
  if (!st.opts.lines) {
    send_handler(self, caf::make_message(process_output{pid_of(self), s.which, std::string(data, n)}));
    return;
  }
  s.partial.append(data, n);
  std::size_t start = 0;
  for (;;) {
    auto nl = s.partial.find('\n', start);
    if (nl == std::string::npos)
      break;
    auto end = nl;
    if (end > start && s.partial[end - 1] == '\r')
      --end;
    send_handler(self, caf::make_message(process_output{pid_of(self), s.which, s.partial.substr(start, end - start)}));
    start = nl + 1;
  }
  s.partial.erase(0, start);
  while (s.partial.size() > st.opts.max_line) {
    send_handler(self, caf::make_message(process_output{pid_of(self), s.which, s.partial.substr(0, st.opts.max_line)}));
    s.partial.erase(0, st.opts.max_line);
  }
}

void flush_partial(process_self self, stream_reader& s) {
  if (!s.partial.empty()) {
    send_handler(self, caf::make_message(process_output{pid_of(self), s.which, std::move(s.partial)}));
    s.partial.clear();
  }
}

static void end_of_stream(process_self self, stream_reader& s) {
  s.open = false;
  flush_partial(self, s);
  maybe_report(self, false);
}

void start_read(process_self self, stream_reader& s) {
  auto size = self->state.opts.read_size;
  // Its result, an inline failure too, arrives in on_read.
  self->state.ops.launch(s.op, s.handle, [size](io::operation& o) { return io::start_read(o, o.target(), size); });
}

void start_reads(process_self self) {
  for (auto* s : {&self->state.out, &self->state.err})
    if (s->open) // a start refused now (closing) arrives aborted: end of stream
      start_read(self, *s);
}

// A killed child's outputs may end well after its exit is signalled: under
// Wine up to ~2 ms later, and a hidden child's headless conhost (or a
// grandchild) holds them longer. A child we terminated writes nothing after
// its exit, so once it has exited an empty pipe is its end (a grandchild
// still holding it dies with the job, its output unread).
static bool killed_and_drained(process_self self, const stream_reader& s) {
  auto& st = self->state;
  if (!st.terminated || !has_exited(st))
    return false;
  DWORD available = 0;
  if (PeekNamedPipe(s.handle, nullptr, 0, nullptr, &available, nullptr))
    return available == 0;
  auto err = io::last_error("PeekNamedPipe(child output)");
  if (err.code() != ERROR_BROKEN_PIPE) // at its end already: the read says so
    st.log->warn("pid {}: {}", pid_of(self), err.to_string());
  return false;
}

bool end_drained_outputs(process_self self) {
  auto& st = self->state;
  bool all_ending = true;
  for (auto* s : {&st.out, &st.err}) {
    if (!s->open)
      continue;
    if (!st.ops.in_flight(s->op) || !killed_and_drained(self, *s)) {
      all_ending = false;
      continue;
    }
    // Its packet comes, aborted (or with the last bytes, if it just took
    // them): on_read ends the output then.
    if (auto code = s->op->cancel()) {
      st.log->warn("pid {}: {}", pid_of(self), io::error{"CancelIoEx(child output)", code}.to_string());
      all_ending = false;
    }
  }
  return all_ending;
}

void on_read(process_self self, stream_reader& s, const owned_operations::completion& c) {
  if (c.error == 0 && c.bytes > 0) {
    deliver_output(self, s, c.op->buffer().data(), c.bytes);
    if (self->state.ops.closing())
      return;
    if (killed_and_drained(self, s))
      end_of_stream(self, s);
    else
      start_read(self, s);
    return;
  }
  if (c.error != 0 && c.error != ERROR_BROKEN_PIPE && c.error != ERROR_HANDLE_EOF &&
      c.error != ERROR_OPERATION_ABORTED)
    self->state.log->warn("pid {}: {}", pid_of(self), io::error{"ReadFile(child output)", c.error}.to_string());
  end_of_stream(self, s);
}

void fail_write(pending_write& w, caf::error err) {
  if (w.promise.pending())
    w.promise.deliver(std::move(err));
}

// Starts the next queued write, or closes stdin when asked and idle.
void pump_writes(process_self self) {
  auto& st = self->state;
  while (!st.writing && !st.writes.empty()) {
    auto& w = st.writes.front();
    if (w.data.empty()) {
      if (w.promise.pending())
        w.promise.deliver(std::uint64_t{0});
      st.writes.pop_front();
      continue;
    }
    st.write_op->buffer().assign(w.data.begin(), w.data.end());
    auto size = w.data.size();
    // Its result, an inline failure too, arrives in on_write.
    st.writing = st.ops.launch(st.write_op, st.child.stdin_w.get(), [size](io::operation& o) {
      return io::start_write(o, o.target(), size);
    });
    if (st.writing)
      return;
  }
  if (!st.writing && st.writes.empty() && st.close_stdin_wanted && st.child.stdin_w) {
    st.log->debug("pid {}: closing stdin", pid_of(self));
    st.child.stdin_w.reset();
  }
}

void on_write(process_self self, const owned_operations::completion& c) {
  auto& st = self->state;
  st.writing = false;
  if (st.writes.empty())
    return;
  auto& w = st.writes.front();
  if (c.error != 0) {
    fail_write(w, make_error(io::error{"WriteFile(child stdin)", c.error}));
    st.writes.pop_front();
  } else if (c.bytes < w.data.size()) {
    w.data.erase(0, c.bytes); // a short write: the rest goes next
  } else {
    if (w.promise.pending())
      w.promise.deliver(static_cast<std::uint64_t>(c.bytes));
    st.writes.pop_front();
  }
  pump_writes(self);
}

void close_stdin(process_self self, bool abandon_writes) {
  auto& st = self->state;
  st.close_stdin_wanted = true;
  if (abandon_writes) {
    // Keep the one in flight (its completion is awaited), drop the rest.
    while (st.writes.size() > (st.writing ? 1u : 0u)) {
      fail_write(st.writes.back(), make_error(errc::closing, "the process actor is stopping"));
      st.writes.pop_back();
    }
    if (st.writing)
      st.write_op->cancel();
  }
  pump_writes(self);
}

} // namespace iocaf::process_detail
