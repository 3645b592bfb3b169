// Chat latency benchmark: the real chat_server.exe as a child process and N
// raw pipe clients in this process, speaking protocol version 2
// (proto/chat.hpp in proto/frame.hpp frames). Each client joins with its own
// nick; then, one line in flight at a time, a client (round robin) says a
// line carrying its sequence number, and the latency is the time from just
// before its send to the moment the LAST of the other N-1 clients decoded it.
// A second run with 2 clients (one sender, one receiver) shows one hop.
//
// The clients' reads all go through one completion port drained by one
// thread, which stamps each line as it decodes it and issues the next reads
// only after the whole batch is stamped. Under Wine absolute numbers mean
// little: compare with bench/pipe from the same run.
#include "actors/core/program.hpp"
#include "io/error.hpp"
#include "io/handle.hpp"
#include "io/pipe.hpp"
#include "io/process.hpp"
#include "proto/chat.hpp"
#include "proto/frame.hpp"
#include "percentile.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace iocaf;
using clock_type = std::chrono::steady_clock;
using proto::chat_kind;
using proto::chat_message;

namespace {

struct bench_options {
  std::int64_t clients = 50;
  std::int64_t lines = 200;
  std::int64_t warmup = 10;
  std::int64_t line_timeout = 10000; // ms: bound on every wait (a line, a join, the server)
  std::string server;                // empty: ..\..\demos\chat\chat_server.exe beside this program
  std::int64_t flood_lines = 1000000; // the server's limit per 2 s window: its maximum, so no line is refused
  bool skip_pair = false;
  bool server_on_workers = false; // the server's --actors-on=workers
};

std::chrono::milliseconds bound(const bench_options& o) { return std::chrono::milliseconds(o.line_timeout); }

std::string win32_failure(const char* call, unsigned long code) { return io::error{call, code}.to_string(); }

// A manual-reset or auto-reset event, checked.
io::result<io::unique_handle> make_event(bool manual) {
  HANDLE ev = CreateEventW(nullptr, manual ? TRUE : FALSE, FALSE, nullptr);
  if (ev == nullptr)
    return io::last_error("CreateEventW");
  return io::unique_handle{ev};
}

// Waits for an overlapped operation started on `h` with `ov` (whose event is
// `ev`) at most `within`; cancels it on timeout. "" or the failure.
std::string finish_overlapped(HANDLE h, OVERLAPPED& ov, HANDLE ev, std::chrono::milliseconds within, DWORD& n) {
  DWORD w = WaitForSingleObject(ev, static_cast<DWORD>(within.count()));
  if (w != WAIT_OBJECT_0) {
    unsigned long code = w == WAIT_TIMEOUT ? WAIT_TIMEOUT : GetLastError();
    auto why = win32_failure("WaitForSingleObject", code);
    if (!CancelIoEx(h, &ov) && GetLastError() != ERROR_NOT_FOUND)
      why += "; " + io::last_error("CancelIoEx").to_string();
    // The cancelled operation still signals: ov is free only then.
    if (WaitForSingleObject(ev, INFINITE) != WAIT_OBJECT_0)
      why += "; " + io::last_error("WaitForSingleObject").to_string();
    return why;
  }
  if (!GetOverlappedResult(h, &ov, &n, FALSE))
    return io::last_error("GetOverlappedResult").to_string();
  return {};
}

// Writes all of data; ev is an auto-reset event (the wait consumes it, no
// reset call on the measured path). The event's low bit set keeps the
// completion off the handle's port (the reader thread owns that port's
// packets, and ignores any write packet all the same).
std::string write_all(HANDLE h, const std::string& data, HANDLE ev, std::chrono::milliseconds within) {
  OVERLAPPED ov{};
  ov.hEvent = reinterpret_cast<HANDLE>(reinterpret_cast<ULONG_PTR>(ev) | 1);
  if (!WriteFile(h, data.data(), static_cast<DWORD>(data.size()), nullptr, &ov) && GetLastError() != ERROR_IO_PENDING)
    return io::last_error("WriteFile").to_string();
  DWORD n = 0;
  auto why = finish_overlapped(h, ov, ev, within, n);
  if (why.empty() && n != data.size())
    why = win32_failure("WriteFile (short write)", ERROR_WRITE_FAULT);
  return why;
}

std::string framed_chat(const chat_message& m) {
  std::string out;
  proto::encode_frame(proto::encode_chat(m), out);
  return out;
}

chat_message make(chat_kind kind, std::string nick = {}, std::string text = {}) {
  chat_message m{kind, std::move(nick), std::move(text), {}, 0, {}};
  if (kind == chat_kind::hello)
    m.number = proto::chat_protocol_version;
  return m;
}

// --- the server: chat_server.exe as a child process -------------------------

class server_process {
public:
  ~server_process() { kill(); }

  // Starts it and waits for "listening". "" or the failure.
  std::string start(const std::string& program, const std::vector<std::string>& args, std::chrono::milliseconds within) {
    io::process_options o;
    o.program = program;
    o.args = args;
    auto c = io::start_process(o);
    if (!c)
      return c.err().to_string();
    child_ = std::move(*c);
    out_thread_ = std::thread([this] { drain(child_.stdout_r.get(), out_); });
    err_thread_ = std::thread([this] { drain(child_.stderr_r.get(), err_); });
    auto until = clock_type::now() + within;
    while (output().find("listening") == std::string::npos) {
      if (!io::process_running(child_.process.get()))
        return "chat_server exited before listening";
      if (clock_type::now() > until)
        return "chat_server did not print 'listening' within " + std::to_string(within.count()) + " ms";
      Sleep(5); // setup, not measured
    }
    return {};
  }

  // Ends its standard input (the server's clean stop), waits for its exit
  // code. "" if it exited 0 in time.
  std::string stop(std::chrono::milliseconds within) {
    child_.stdin_w.reset();
    DWORD w = WaitForSingleObject(child_.process.get(), static_cast<DWORD>(within.count()));
    std::string why;
    if (w != WAIT_OBJECT_0) {
      why = w == WAIT_TIMEOUT ? "chat_server did not exit within " + std::to_string(within.count()) + " ms"
                              : io::last_error("WaitForSingleObject").to_string();
    } else if (auto code = io::exit_code(child_.process.get()); !code) {
      why = code.err().to_string();
    } else if (*code != 0) {
      why = "chat_server exited with " + std::to_string(*code);
    }
    kill();
    return why;
  }

  std::string output() { return locked(out_); }
  std::string errors() { return locked(err_); }

private:
  // Closing the job kills the child (if it still runs), which ends its pipes
  // and so the drain threads.
  void kill() {
    child_.job.reset();
    if (out_thread_.joinable())
      out_thread_.join();
    if (err_thread_.joinable())
      err_thread_.join();
  }

  std::string locked(const std::string& s) {
    std::lock_guard<std::mutex> g{m_};
    return s;
  }

  void drain(HANDLE h, std::string& into) {
    auto ev = make_event(true);
    if (!ev) {
      append(into, "[drain: " + ev.err().to_string() + "]\n");
      return;
    }
    char buf[4096];
    for (;;) {
      OVERLAPPED ov{};
      ov.hEvent = ev->get();
      DWORD n = 0;
      if ((!ReadFile(h, buf, sizeof buf, nullptr, &ov) && GetLastError() != ERROR_IO_PENDING)
          || !GetOverlappedResult(h, &ov, &n, TRUE))
        return ended(into, GetLastError());
      if (n == 0)
        return;
      append(into, std::string(buf, n));
    }
  }

  // ERROR_BROKEN_PIPE: the child's end closed (it exited), the normal end.
  void ended(std::string& into, unsigned long code) {
    if (code != ERROR_BROKEN_PIPE)
      append(into, "[reading the server's output: " + win32_failure("ReadFile", code) + "]\n");
  }

  void append(std::string& into, const std::string& s) {
    std::lock_guard<std::mutex> g{m_};
    into += s;
  }

  io::child_process child_;
  std::thread out_thread_, err_thread_;
  std::mutex m_;
  std::string out_, err_;
};

// --- the clients -----------------------------------------------------------

struct client {
  std::string nick;
  io::unique_handle h;
  OVERLAPPED ov{}; // the one read in flight; the reader thread owns it once started
  std::vector<char> buf = std::vector<char>(64 * 1024);
  proto::frame_decoder dec;
  bool reading = false;
  bool entered = false;
  std::size_t joined_seen = 0;
  bool got_line = false;
};

// What the reader thread and the main thread share, under `m`.
struct run_state {
  std::mutex m;
  std::vector<std::unique_ptr<client>> clients;
  long round = -1;         // the line in flight, -1: none
  std::size_t sender = 0;
  std::string text;
  std::size_t got = 0;     // receivers that decoded it
  clock_type::time_point first; // the first receiver's read (meaningful once got > 0)
  clock_type::time_point last;
  clock_type::duration busy{};  // the reader thread's time on this line's batches (stamping, next reads)
  bool closing = false;
  std::string failure;     // the first failure ends the run
  io::unique_handle port;
  io::unique_handle progress; // auto-reset: the main thread may have something to look at
};

// Wakes the main thread (under st.m).
void signal(run_state& st) {
  if (!SetEvent(st.progress.get()) && st.failure.empty())
    st.failure = io::last_error("SetEvent").to_string(); // seen at the main thread's next bounded wake
}

void fail(run_state& st, const std::string& why) {
  if (st.failure.empty())
    st.failure = why;
  signal(st);
}

bool of_this_run(const run_state& st, const std::string& nick) {
  return std::any_of(st.clients.begin(), st.clients.end(), [&](auto& cl) { return cl->nick == nick; });
}

// A said line at receiver c: it must be the line in flight, once. The
// main thread is woken when the last receiver has it.
void on_said(run_state& st, std::size_t c, const chat_message& m, const std::string& payload,
             clock_type::time_point now) {
  auto& cl = *st.clients[c];
  if (st.round < 0 || c == st.sender || cl.got_line || m.nick != st.clients[st.sender]->nick || m.text != st.text)
    return fail(st, cl.nick + ": wrong line '" + payload + "' (round " + std::to_string(st.round) + " expected '"
                      + st.text + "' from " + st.clients[st.sender]->nick + ")");
  cl.got_line = true;
  if (st.got == 0)
    st.first = now;
  st.last = now;
  if (++st.got + 1 == st.clients.size())
    signal(st);
}

// One decoded message of client c (under st.m).
void on_message(run_state& st, std::size_t c, const std::string& payload, clock_type::time_point now) {
  auto& cl = *st.clients[c];
  auto p = proto::parse_chat(payload);
  if (!p.message)
    return fail(st, cl.nick + ": bad message from the server: " + p.error);
  auto& m = *p.message;
  switch (m.kind) {
    case chat_kind::entered: cl.entered = true; break;
    case chat_kind::joined: ++cl.joined_seen; break;
    case chat_kind::left: // a client of an earlier run may still be leaving
      if (of_this_run(st, m.nick))
        return fail(st, cl.nick + ": " + m.nick + " left (dropped by the server?)");
      return;
    case chat_kind::welcome: case chat_kind::ping: return;
    case chat_kind::said: return on_said(st, c, m, payload, now);
    default:
      return fail(st, cl.nick + ": unexpected message '" + payload + "'");
  }
  signal(st);
}

// A completed read of client c: its frames, each stamped as it is decoded.
void on_read(run_state& st, std::size_t c) {
  auto& cl = *st.clients[c];
  cl.reading = false;
  DWORD n = 0;
  BOOL ok = GetOverlappedResult(cl.h.get(), &cl.ov, &n, FALSE);
  if (!ok || n == 0) {
    unsigned long code = ok ? ERROR_HANDLE_EOF : GetLastError();
    if (!st.closing)
      fail(st, cl.nick + ": " + win32_failure("ReadFile", code));
    return;
  }
  if (st.closing)
    return;
  std::vector<std::string> frames;
  if (auto e = cl.dec.feed(std::string_view(cl.buf.data(), n), frames))
    return fail(st, cl.nick + ": bad frame from the server: " + e->message);
  for (auto& f : frames)
    on_message(st, c, f, clock_type::now());
}

void start_read(run_state& st, std::size_t c) {
  auto& cl = *st.clients[c];
  cl.ov = OVERLAPPED{};
  if (!ReadFile(cl.h.get(), cl.buf.data(), static_cast<DWORD>(cl.buf.size()), nullptr, &cl.ov)
      && GetLastError() != ERROR_IO_PENDING)
    return fail(st, cl.nick + ": " + io::last_error("ReadFile").to_string());
  cl.reading = true;
}

// Stops every read: after this, each read's packet still comes (and ends it).
void start_closing(run_state& st) {
  st.closing = true;
  for (auto& cl : st.clients)
    if (cl->reading && !CancelIoEx(cl->h.get(), &cl->ov) && GetLastError() != ERROR_NOT_FOUND)
      fail(st, cl->nick + ": " + io::last_error("CancelIoEx").to_string());
}

bool reads_pending(const run_state& st) {
  return std::any_of(st.clients.begin(), st.clients.end(), [](auto& cl) { return cl->reading; });
}

// The reader thread: every client's reads come through the port. Key 0 (a
// posted packet) means close. Ends when closing and no read is in flight;
// a close that does not finish within `within` is a failure (and the
// clients must then outlive the kernel's use of their OVERLAPPEDs).
void reader(run_state& st, std::chrono::milliseconds within) {
  OVERLAPPED_ENTRY entries[64];
  for (;;) {
    DWORD wait;
    {
      std::lock_guard<std::mutex> g{st.m};
      if (st.closing && !reads_pending(st))
        return;
      wait = st.closing ? static_cast<DWORD>(within.count()) : INFINITE;
    }
    ULONG n = 0;
    if (!GetQueuedCompletionStatusEx(st.port.get(), entries, 64, &n, wait, FALSE)) {
      std::lock_guard<std::mutex> g{st.m};
      fail(st, io::last_error("GetQueuedCompletionStatusEx").to_string() + " (reads not finished)");
      return;
    }
    auto batch_start = clock_type::now();
    std::lock_guard<std::mutex> g{st.m};
    std::vector<std::size_t> again;
    for (ULONG i = 0; i < n; ++i) {
      auto key = entries[i].lpCompletionKey;
      if (key == 0) {
        start_closing(st);
      } else if (entries[i].lpOverlapped == &st.clients[key - 1]->ov) { // not a write's packet
        on_read(st, key - 1);
        if (!st.closing && st.failure.empty())
          again.push_back(key - 1);
      }
    }
    for (auto c : again) // after the batch is stamped
      start_read(st, c);
    st.busy += clock_type::now() - batch_start;
  }
}

// Waits until pred() holds (under st.m), a failure, or the deadline.
std::string wait_for(run_state& st, const std::function<bool()>& pred, const std::string& what,
                     std::chrono::milliseconds within) {
  auto until = clock_type::now() + within;
  for (;;) {
    {
      std::lock_guard<std::mutex> g{st.m};
      if (!st.failure.empty())
        return st.failure;
      if (pred())
        return {};
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_type::now()).count();
    if (left <= 0)
      return what + ": not within " + std::to_string(within.count()) + " ms";
    DWORD w = WaitForSingleObject(st.progress.get(), static_cast<DWORD>(left));
    if (w == WAIT_FAILED)
      return io::last_error("WaitForSingleObject").to_string();
  }
}

io::result<io::unique_handle> open_client(const std::string& pipe, std::chrono::milliseconds within) {
  auto until = clock_type::now() + within;
  for (;;) {
    auto h = io::open_pipe_client(pipe);
    if (h || h.err().code() != ERROR_PIPE_BUSY || clock_type::now() > until)
      return h;
    Sleep(2); // setup: every instance is taken until the server re-arms one
  }
}

struct figures {
  std::size_t clients = 0;
  std::vector<double> us;       // one latency per measured line: send -> last receiver's read
  std::vector<double> first_us; // send -> first receiver's read
  std::vector<double> busy_us;  // the clients' reader thread busy on the line
  double seconds = 0;     // the measured lines, first send to last read
  std::string failure;
};

class chat_run {
public:
  chat_run(const bench_options& o, std::string pipe, std::size_t n) : o_(o), pipe_(std::move(pipe)), n_(n) {}

  figures run() {
    figures f;
    f.clients = n_;
    f.failure = setup();
    if (f.failure.empty())
      f.failure = join_all();
    if (f.failure.empty())
      f.failure = rounds(f);
    auto why = teardown();
    if (f.failure.empty())
      f.failure = why;
    return f;
  }

private:
  std::string setup() {
    auto port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
    if (port == nullptr)
      return io::last_error("CreateIoCompletionPort").to_string();
    st_.port.reset(port);
    auto progress = make_event(false);
    auto write_ev = make_event(false);
    if (!progress || !write_ev)
      return (!progress ? progress : write_ev).err().to_string();
    st_.progress = std::move(*progress);
    write_ev_ = std::move(*write_ev);
    for (std::size_t i = 0; i < n_; ++i) {
      st_.clients.push_back(std::make_unique<client>());
      st_.clients.back()->nick = "c" + std::to_string(n_) + "_" + std::to_string(i);
    }
    thread_ = std::thread([this] { reader(st_, bound(o_)); });
    return {};
  }

  // One at a time, so client i hears the n-1-i that come after it.
  std::string join_all() {
    for (std::size_t i = 0; i < n_; ++i)
      if (auto why = join(i); !why.empty())
        return why;
    return wait_for(st_, [this] {
      for (std::size_t i = 0; i < n_; ++i)
        if (st_.clients[i]->joined_seen != n_ - 1 - i)
          return false;
      return true;
    }, "every client hearing the later ones join", bound(o_));
  }

  std::string join(std::size_t i) {
    auto& cl = *st_.clients[i];
    auto h = open_client(pipe_, bound(o_));
    if (!h)
      return cl.nick + ": " + h.err().to_string();
    {
      std::lock_guard<std::mutex> g{st_.m};
      cl.h = std::move(*h);
      if (CreateIoCompletionPort(cl.h.get(), st_.port.get(), i + 1, 0) == nullptr)
        return cl.nick + ": " + io::last_error("CreateIoCompletionPort").to_string();
      start_read(st_, i);
    }
    for (auto& m : {make(chat_kind::hello), make(chat_kind::join, cl.nick)})
      if (auto why = write_all(cl.h.get(), framed_chat(m), write_ev_.get(), bound(o_)); !why.empty())
        return cl.nick + ": " + why;
    return wait_for(st_, [&cl] { return cl.entered; }, cl.nick + " joining", bound(o_));
  }

  std::string rounds(figures& f) {
    auto total = o_.warmup + o_.lines;
    clock_type::time_point first;
    for (long r = 0; r < total; ++r) {
      if (r == o_.warmup)
        first = clock_type::now();
      double us = 0, first_us = 0, busy_us = 0;
      if (auto why = one_line(r, us, first_us, busy_us); !why.empty())
        return why;
      if (r >= o_.warmup) {
        f.us.push_back(us);
        f.first_us.push_back(first_us);
        f.busy_us.push_back(busy_us);
      }
    }
    f.seconds = std::chrono::duration<double>(clock_type::now() - first).count();
    return {};
  }

  // Round r: client r mod n says "line r from NICK"; waits for the others.
  std::string one_line(long r, double& us, double& first_us, double& busy_us) {
    std::string payload;
    HANDLE h;
    {
      std::lock_guard<std::mutex> g{st_.m};
      st_.round = r;
      st_.sender = static_cast<std::size_t>(r) % n_;
      st_.text = "line " + std::to_string(r) + " from " + st_.clients[st_.sender]->nick;
      st_.got = 0;
      st_.busy = {};
      for (auto& cl : st_.clients)
        cl->got_line = false;
      payload = framed_chat(make(chat_kind::say, {}, st_.text));
      h = st_.clients[st_.sender]->h.get();
    }
    auto t0 = clock_type::now();
    if (auto why = write_all(h, payload, write_ev_.get(), bound(o_)); !why.empty())
      return "line " + std::to_string(r) + ": " + why;
    auto why = wait_for(st_, [this] { return st_.got + 1 == n_; }, "line " + std::to_string(r), bound(o_));
    std::lock_guard<std::mutex> g{st_.m};
    if (!why.empty())
      return why + missing();
    using micros = std::chrono::duration<double, std::micro>;
    us = micros(st_.last - t0).count();
    first_us = micros(st_.first - t0).count();
    busy_us = micros(st_.busy).count();
    st_.round = -1;
    return {};
  }

  std::string missing() {
    std::string s;
    for (std::size_t i = 0; i < n_; ++i)
      if (i != st_.sender && !st_.clients[i]->got_line)
        s += " " + st_.clients[i]->nick;
    return s.empty() ? std::string{} : " (not read by:" + s + ")";
  }

  // Ends the reads through the reader thread, then closes the clients.
  std::string teardown() {
    if (!thread_.joinable())
      return {};
    if (!PostQueuedCompletionStatus(st_.port.get(), 0, 0, nullptr)) {
      // The reader never learns to close: the process must end without
      // freeing what its reads use.
      std::fprintf(stderr, "chat_bench: %s\n", io::last_error("PostQueuedCompletionStatus").to_string().c_str());
      std::fflush(stderr);
      std::_Exit(1);
    }
    thread_.join();
    std::lock_guard<std::mutex> g{st_.m};
    if (reads_pending(st_)) {
      std::fprintf(stderr, "chat_bench: reads still pending after close: %s\n", st_.failure.c_str());
      std::fflush(stderr);
      std::_Exit(1); // their OVERLAPPEDs may still be written: never free them
    }
    st_.clients.clear();
    return st_.failure;
  }

  const bench_options& o_;
  std::string pipe_;
  std::size_t n_;
  run_state st_;
  io::unique_handle write_ev_;
  std::thread thread_;
};

// --- the report ---------------------------------------------------------------

using bench::percentile;

void row(const figures& f) {
  if (!f.failure.empty() || f.us.empty()) {
    std::printf("%8zu %8s  failed: %s\n", f.clients, "-", f.failure.c_str());
    return;
  }
  std::printf("%8zu %8zu %10.0f %10.0f %10.0f %10.0f   %10.0f %10.0f\n", f.clients, f.us.size(),
              percentile(f.us, 0.5), percentile(f.us, 0.99), *std::max_element(f.us.begin(), f.us.end()),
              static_cast<double>(f.us.size()) / f.seconds, percentile(f.first_us, 0.5), percentile(f.busy_us, 0.5));
}

std::string default_server() { return io::exe_directory() + "..\\..\\demos\\chat\\chat_server.exe"; }

std::vector<std::string> server_args(const std::string& pipe, const bench_options& o) {
  // No flood refusals (by default), no heartbeat (the clients never answer
  // pings), no history, many instances waiting so the clients join quickly.
  std::vector<std::string> args{"--pipe", pipe, "--flood-lines", std::to_string(o.flood_lines),
                                "--ping-interval", "0", "--history", "0", "--instances", "64", "--log-level", "warn"};
  if (o.server_on_workers)
    args.push_back("--actors-on=workers");
  return args;
}

std::string check(const bench_options& o) {
  if (o.clients < 2 || o.clients > 1000)
    return "--clients must be 2..1000";
  if (o.lines < 1 || o.warmup < 0)
    return "--lines must be at least 1 and --warmup at least 0";
  if (o.line_timeout < 1 || o.line_timeout > 3600000)
    return "--line-timeout must be 1..3600000 ms";
  if (o.flood_lines < 1 || o.flood_lines > 1000000)
    return "--flood-lines must be 1..1000000";
  return {};
}

} // namespace

int main(int argc, char** argv) {
  bench_options o;
  program_config cfg{"iocaf_chat_bench",
                     "The chat's latency: chat_server.exe and N pipe clients; one line in flight, the time from\n"
                     "its send to the last other client's read; then the same with 2 clients (one hop).",
                     false};
  cfg.log_level = "warn";
  cfg.option(o.clients, "clients", "clients in the room")
    .option(o.lines, "lines", "lines measured (one in flight, senders round robin)")
    .option(o.warmup, "warmup", "lines sent first, not measured")
    .option(o.line_timeout, "line-timeout", "ms: bound on each line, join and the server's start and stop")
    .option(o.server, "server", "chat_server.exe to start (default: ..\\..\\demos\\chat\\ beside this program)")
    .option(o.flood_lines, "flood-lines", "the server's --flood-lines (a refused line fails the run)")
    .option(o.skip_pair, "skip-pair", "no second run with 2 clients")
    .option(o.server_on_workers, "server-on-workers",
            "start the server with --actors-on=workers (its actors on CAF's workers)");
  if (auto rc = cfg.parse(argc, argv))
    return *rc;
  if (auto why = check(o); !why.empty())
    return cfg.usage_error(why);
  auto program = o.server.empty() ? default_server() : o.server;
  auto pipe = "iocaf-chat-bench-" + std::to_string(GetCurrentProcessId());
  auto args = server_args(pipe, o);
  server_process server;
  if (auto why = server.start(program, args, bound(o)); !why.empty()) {
    std::fprintf(stderr, "chat_bench: %s: %s\n%s", program.c_str(), why.c_str(), server.errors().c_str());
    return 1;
  }
  std::printf("chat: %s", program.c_str());
  for (auto& a : args)
    std::printf(" %s", a.c_str());
  std::printf("\n  (--flood-lines %lld per 2 s: a refused line fails the run; --ping-interval 0: no heartbeat)\n"
              "  %lld lines measured after %lld unmeasured, one in flight; latency: send -> last other client read\n"
              "  1st: send -> first client read; rdr: the clients' one reader thread busy per line (client cost)\n",
              static_cast<long long>(o.flood_lines), static_cast<long long>(o.lines), static_cast<long long>(o.warmup));
  std::vector<figures> rows;
  rows.push_back(chat_run{o, pipe, static_cast<std::size_t>(o.clients)}.run());
  if (!o.skip_pair && o.clients != 2 && rows.back().failure.empty())
    rows.push_back(chat_run{o, pipe, 2}.run());
  auto stopped = server.stop(bound(o));
  std::printf("%8s %8s %10s %10s %10s %10s   %10s %10s\n", "clients", "lines", "p50 us", "p99 us", "max us",
              "lines/s", "1st p50 us", "rdr p50 us");
  bool ok = stopped.empty();
  for (auto& f : rows) {
    row(f);
    ok = ok && f.failure.empty();
  }
  if (!stopped.empty())
    std::printf("server: %s\n", stopped.c_str());
  if (auto err = server.errors(); !err.empty())
    std::printf("server stderr:\n%s", err.c_str());
  std::fflush(stdout);
  return ok ? 0 : 1;
}
