// TCP echo benchmark, one invocation: the same loopback load generator
// (demos/echo/echo_load_client.hpp, blocking ping-pong threads) against
//   iocaf  - iocaf's listener/connection actors with an echo handler per connection
//   iocp   - a bare single-thread IOCP echo loop (AcceptEx/WSARecv/WSASend, batches of 64)
//   iocp-s - the same loop with FILE_SKIP_COMPLETION_PORT_ON_SUCCESS (--skip-on-success-too)
//   asio   - a standalone Asio echo server (one io_context thread)
// for 64 B ping-pong and 16 KiB bulk with 1, 16 and 64 connections; prints a
// table with messages/s, MB/s, p50/p99 and ratios to iocaf; then R more
// rounds of the one-connection 64 B cell (--rounds-at-one), reported as
// medians: one cell swings by a quarter between runs on a noisy machine.
//   tcp_bench [--seconds S]   (default 2 per cell)
#include "actors/core/runtime.hpp"

#include <optional>
#include "actors/tcp/tcp_listener.hpp"
#include "actors/core/program.hpp"
#include "demos/echo/tcp_echo.hpp"
#include "echo_load_client.hpp"

#include "asio_echo.hpp"
#include "percentile.hpp"
#include "raw_iocp_echo.hpp"

#include <cstdio>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <tuple>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace iocaf;

namespace {

using burn_atom = caf::atom_constant<caf::atom("burn")>;

void burn(std::chrono::microseconds slice) {
  auto end = std::chrono::steady_clock::now() + slice;
  while (std::chrono::steady_clock::now() < end) {
  }
}

// A CPU-heavy neighbour: burns `slice` of CPU per message, forever.
caf::behavior cpu_burner(caf::event_based_actor* self, std::chrono::microseconds slice) {
  self->send(self, burn_atom::value);
  return {
    [self, slice](burn_atom) {
      burn(slice);
      self->send(self, burn_atom::value);
    },
  };
}

// An echo handler that computes for `slice` before each answer: a handler
// that does real work per message, on whichever thread its placement gives it.
stream_handler_actor::behavior_type computing_echo(stream_handler_actor::pointer self,
                                                   std::chrono::microseconds slice) {
  return {
    [](const stream_opened&) {},
    [self, slice](stream_received& msg) {
      burn(slice);
      auto n = msg.data.size();
      self->send(msg.connection, stream_send{std::move(msg.data), n});
    },
    [self](const stream_peer_eof& msg) { self->send(msg.connection, stream_close{}); },
    [](const stream_drained&) {},
    [self](const stream_send_refused& msg) { self->send(msg.connection, stream_close{true}); },
    [self](const stream_closed&) { self->quit(); },
  };
}

struct cell {
  std::string server;
  std::size_t size;
  int connections;
  echo::load_result r;
};

} // namespace

int main(int argc, char** argv) {
  double seconds = 2;
  std::string scheduler = "stealing";
  program_config cfg{"iocaf_tcp_bench",
                     "TCP echo: iocaf, a raw IOCP loop and standalone Asio at 64 B and 16 KiB, 1, 16 and 64\n"
                     "connections, in one run; ends with a latency check of one connection against the raw loop.",
                     false};
  cfg.log_level = "warn";
  bool buffered_too = false;
  cfg.option(seconds, "seconds", "seconds per cell, 0.2..60").option(scheduler, "scheduler", "CAF's scheduler for the iocaf run: stealing or sharing");
  int neighbours = 0;
  double slice_ms = 2;
  cfg.option(neighbours, "cpu-neighbours",
             "also measure 1 connection next to N actors that burn CPU (on the scheduler, then detached), 0..64");
  cfg.option(slice_ms, "neighbour-slice-ms", "CPU each neighbour burns per message, ms");
  cfg.option(buffered_too, "buffered-reads-too",
             "also run iocaf with its read buffers kept (iocaf-k), never released for zero-byte reads");
  double computing_ms = 0;
  cfg.option(computing_ms, "computing-handler-ms",
             "also measure 16 connections while one more connection's handler computes this long per message "
             "(0: not), in each iocaf placement");
  bool skip_too = false;
  cfg.option(skip_too, "skip-on-success-too",
             "also run the raw loop with FILE_SKIP_COMPLETION_PORT_ON_SUCCESS (iocp-s): what a packet skipped on an "
             "inline success is worth here");
  int rounds_at_one = 6;
  cfg.option(rounds_at_one, "rounds-at-one",
             "more rounds of 64 B x 1 connection after the table, order rotating, reported as medians (0: none)");
  bool workers_too = false;
  cfg.option(workers_too, "workers-too",
             "also run iocaf with the actors a completion wakes on CAF's workers (iocaf-w), not on the broker's thread");
  if (auto rc = cfg.parse(argc, argv))
    return *rc;
  if (seconds < 0.2 || seconds > 60)
    return cfg.usage_error("--seconds must be 0.2..60");
  if (neighbours < 0 || neighbours > 64 || slice_ms <= 0 || slice_ms > 1000)
    return cfg.usage_error("--cpu-neighbours must be 0..64 and --neighbour-slice-ms 0..1000");
  if (rounds_at_one < 0 || rounds_at_one > 100)
    return cfg.usage_error("--rounds-at-one must be 0..100");
  if (computing_ms < 0 || computing_ms > 1000)
    return cfg.usage_error("--computing-handler-ms must be 0..1000");
  if (scheduler != "stealing" && scheduler != "sharing")
    return cfg.usage_error("bad value '" + scheduler + "' for --scheduler (expected: stealing or sharing)");
  io::winsock_init();
  // Every server runs for the whole benchmark, each on its own port, and each
  // cell measures them one after another in an order that rotates from cell to
  // cell, after one warm-up cell per server that is not reported. Measured
  // under Wine: run one server after another and whichever goes first is
  // slower (the same raw loop: p50 ~550 us first, ~270 us later; Asio 250 vs
  // 135 us), so a fixed order biased every ratio against the first (iocaf).
  caf::actor_system_config caf_cfg;
  configure(caf_cfg);
  caf_cfg.set("scheduler.policy", scheduler == "sharing" ? caf::atom("sharing") : caf::atom("stealing"));
  caf::actor_system sys{caf_cfg};
  runtime rt{sys};
  runtime_options on_workers;
  on_workers.broker_runs_actors = false;
  std::optional<runtime> rt_w;
  if (workers_too)
    rt_w.emplace(sys, on_workers);
  struct server {
    std::string name;
    std::uint16_t port;
  };
  std::vector<server> servers;
  auto start_iocaf = [&](const std::string& name, runtime& on, bool release_read_buffers) {
    tcp_listener_options opts;
    if (!release_read_buffers)
      opts.connection.release_read_buffer_after = std::chrono::milliseconds(0);
    auto srv = spawn_tcp_listener(sys, on.core(), opts, [&sys] { return sys.spawn(tcp_echo, true); });
    if (!srv) {
      std::fprintf(stderr, "tcp_bench: %s\n", describe(srv.error()).c_str());
      return false;
    }
    servers.push_back({name, srv->local.port()});
    return true;
  };
  if (!start_iocaf("iocaf", rt, true) || (buffered_too && !start_iocaf("iocaf-k", rt, false))
      || (workers_too && !start_iocaf("iocaf-w", *rt_w, true)))
    return 1;
  // With --computing-handler-ms: per placement, a second listener whose
  // handlers compute before each echo, beside the plain one.
  struct computing_pair {
    std::string placement;
    std::uint16_t plain, computing;
  };
  std::vector<computing_pair> computing_pairs;
  if (computing_ms > 0) {
    for (auto& srv : servers) {
      if (srv.name != "iocaf" && srv.name != "iocaf-w")
        continue;
      auto on = srv.name == "iocaf-w" ? &*rt_w : &rt;
      auto slice = std::chrono::microseconds(static_cast<long long>(computing_ms * 1000));
      auto l = spawn_tcp_listener(sys, on->core(), tcp_listener_options{},
                                  [&sys, slice] { return sys.spawn(computing_echo, slice); });
      if (!l) {
        std::fprintf(stderr, "tcp_bench: %s\n", describe(l.error()).c_str());
        return 1;
      }
      computing_pairs.push_back({srv.name, srv.port, l->local.port()});
    }
  }
  bench::raw_iocp_server raw_loop, raw_skip{true};
  servers.push_back({"iocp", raw_loop.start()});
  if (skip_too)
    servers.push_back({"iocp-s", raw_skip.start()});
  bench::asio_server<64 * 1024> as;
  servers.push_back({"asio", as.start()});

  std::vector<cell> cells;
  std::atomic<bool> failed{false}; // also set by the computing cell's second thread
  auto measure = [&](const server& srv, std::size_t size, int n, double secs) {
    echo::load_options o;
    o.port = srv.port;
    o.connections = n;
    o.seconds = secs;
    o.size = size;
    auto r = echo::run_load(o);
    if (r.failed_connections > 0) {
      failed = true;
      std::fprintf(stderr, "tcp_bench: %s: %d connections failed: %s\n", srv.name.c_str(), r.failed_connections,
                   r.first_error.c_str());
    }
    return r;
  };
  for (auto& srv : servers) { // warm-up, not reported
    measure(srv, 64, 4, 0.2);
    measure(srv, 64, 1, 0.2);
  }
  const std::size_t sizes[] = {64, 16 * 1024};
  const int conns[] = {1, 16, 64};
  std::size_t rotation = 0;
  for (auto size : sizes)
    for (auto n : conns) {
      for (std::size_t i = 0; i < servers.size(); ++i) {
        auto& srv = servers[(i + rotation) % servers.size()];
        auto r = measure(srv, size, n, seconds);
        cells.push_back({srv.name, size, n, r});
        std::fprintf(stderr, "  %-7s %6zu B x %2d: %.0f msg/s\n", srv.name.c_str(), size, n, r.messages_per_second());
      }
      ++rotation;
    }
  // One connection is where the servers differ least and the machine's noise
  // most: more rounds of it, each server once per round, the first rotating.
  std::vector<cell> at_one;
  for (int r = 0; r < rounds_at_one; ++r)
    for (std::size_t i = 0; i < servers.size(); ++i) {
      auto& srv = servers[(i + static_cast<std::size_t>(r)) % servers.size()];
      at_one.push_back({srv.name, 64, 1, measure(srv, 64, 1, seconds)});
    }
  // 16 connections alone, then beside one connection whose handler computes
  // (both loads at once), in each placement: on the broker's thread such a
  // handler holds up the dequeue for everyone; on the workers it holds one.
  struct computing_cell {
    std::string placement;
    echo::load_result alone, beside, computing;
  };
  std::vector<computing_cell> computing_cells;
  for (auto& pair : computing_pairs) {
    computing_cell c{pair.placement, measure({pair.placement, pair.plain}, 64, 16, seconds), {}, {}};
    std::thread heavy([&] { c.computing = measure({pair.placement, pair.computing}, 64, 1, seconds); });
    c.beside = measure({pair.placement, pair.plain}, 64, 16, seconds);
    heavy.join();
    computing_cells.push_back(std::move(c));
  }
  // CPU-heavy neighbours (actors of the same system that burn CPU) next to
  // one ping-pong connection: first on the scheduler's workers, which the
  // connection actors share, then detached (a thread each). Asio serves the
  // same load with the same neighbours running, for the ratio.
  struct neighbour_cell {
    std::string placement, server;
    echo::load_result r;
  };
  std::vector<neighbour_cell> neighbour_cells;
  if (neighbours > 0) {
    auto slice = std::chrono::microseconds(static_cast<long long>(slice_ms * 1000));
    for (bool detached : {false, true}) {
      std::vector<caf::actor> burners;
      for (int i = 0; i < neighbours; ++i)
        burners.push_back(detached ? sys.spawn<caf::detached>(cpu_burner, slice) : sys.spawn(cpu_burner, slice));
      for (auto& srv : servers)
        if (srv.name == "iocaf" || srv.name == "iocaf-w" || srv.name == "asio")
          neighbour_cells.push_back({detached ? "detached" : "scheduled", srv.name, measure(srv, 64, 1, seconds)});
      caf::scoped_actor self{sys};
      for (auto& b : burners) {
        self->monitor(b);
        self->send_exit(b, caf::exit_reason::user_shutdown);
      }
      for (std::size_t gone = 0; gone < burners.size();)
        self->receive([&](const caf::down_msg&) { ++gone; },
                      caf::after(std::chrono::seconds(10)) >> [&] {
                        std::fprintf(stderr, "tcp_bench: a CPU neighbour did not stop within 10 s\n");
                        failed = true;
                        gone = burners.size();
                      });
    }
  }
  as.stop();
  raw_loop.stop();
  if (skip_too)
    raw_skip.stop();
  rt.shutdown();
  if (rt_w)
    rt_w->shutdown();
  std::sort(cells.begin(), cells.end(), [&](const cell& a, const cell& b) {
    auto rank = [&](const std::string& name) {
      return std::find_if(servers.begin(), servers.end(), [&](const server& s) { return s.name == name; }) -
             servers.begin();
    };
    return std::make_tuple(rank(a.server), a.size, a.connections) <
           std::make_tuple(rank(b.server), b.size, b.connections);
  });
  std::printf("TCP echo, %.1f s per cell, loopback, load generator in the same process, servers side by side\n"
              "(order rotating per cell), CAF scheduler: %s\n",
              seconds, scheduler.c_str());
  std::printf("%-7s %7s %5s %10s %9s %9s %9s %10s\n", "server", "size", "conns", "msg/s", "MB/s", "p50 us",
              "p99 us", "vs iocaf");
  for (auto& c : cells) {
    double base = 0;
    for (auto& b : cells)
      if (b.server == "iocaf" && b.size == c.size && b.connections == c.connections)
        base = b.r.messages_per_second();
    std::printf("%-7s %7zu %5d %10.0f %9.2f %9.0f %9.0f %9.2fx\n", c.server.c_str(), c.size, c.connections,
                c.r.messages_per_second(), c.r.mb_per_second(), c.r.p50_us, c.r.p99_us,
                base > 0 ? c.r.messages_per_second() / base : 0.0);
  }
  // The latency check of the performance issue: one connection's p50 against
  // the raw loop's, flagged past 3x (a timed wait on the I/O path shows here
  // first: it once cost every completion a ~1.2 ms timer tick under Wine).
  auto p50 = [&](const char* server) {
    for (auto& c : cells)
      if (c.server == server && c.connections == 1 && c.size == 64)
        return c.r.p50_us;
    return 0.0;
  };
  double ours = p50("iocaf");
  double raw = p50("iocp");
  if (raw > 0) {
    double ratio = ours / raw;
    std::printf("latency check, 1 connection, 64 B: iocaf p50 %.0f us, raw loop %.0f us: %.2fx%s\n", ours, raw,
                ratio, ratio > 3.0 ? "  FLAG: over 3x the raw loop" : "");
  }
  if (!at_one.empty()) {
    std::printf("\n64 B x 1 connection, %d more rounds (order rotating), medians of the rounds\n", rounds_at_one);
    std::printf("%-7s %10s %9s %9s %10s %11s\n", "server", "msg/s", "p50 us", "p99 us", "vs asio", "rounds won");
    auto median_of = [&](const std::string& server, auto field) {
      std::vector<double> v;
      for (auto& c : at_one)
        if (c.server == server)
          v.push_back(field(c.r));
      return bench::percentile(v, 0.5);
    };
    auto rate = [](const echo::load_result& r) { return r.messages_per_second(); };
    double asio = median_of("asio", rate);
    for (auto& srv : servers) {
      // Rounds in which this server beat Asio's msg/s (Asio measured in the same round).
      int won = 0;
      for (int r = 0; r < rounds_at_one; ++r) {
        double ours = 0, theirs = 0;
        for (std::size_t i = 0; i < servers.size(); ++i) {
          auto& c = at_one[static_cast<std::size_t>(r) * servers.size() + i];
          if (c.server == srv.name)
            ours = rate(c.r);
          if (c.server == "asio")
            theirs = rate(c.r);
        }
        won += ours >= theirs ? 1 : 0;
      }
      std::printf("%-7s %10.0f %9.0f %9.0f %9.2fx %8d/%d\n", srv.name.c_str(), median_of(srv.name, rate),
                  median_of(srv.name, [](const echo::load_result& r) { return r.p50_us; }),
                  median_of(srv.name, [](const echo::load_result& r) { return r.p99_us; }),
                  asio > 0 ? median_of(srv.name, rate) / asio : 0.0, won, rounds_at_one);
    }
  }
  if (!neighbour_cells.empty()) {
    std::printf("\n64 B x 1 connection next to %d CPU-heavy actors (%.1f ms per message each), %d CAF workers\n",
                neighbours, slice_ms, static_cast<int>(sys.scheduler().num_workers()));
    std::printf("%-10s %-7s %10s %9s %9s %10s\n", "neighbours", "server", "msg/s", "p50 us", "p99 us", "vs asio");
    auto row = [&](const std::string& placement, const std::string& server, const echo::load_result& r,
                   const echo::load_result* asio) {
      std::printf("%-10s %-7s %10.0f %9.0f %9.0f %9.2fx\n", placement.c_str(), server.c_str(),
                  r.messages_per_second(), r.p50_us, r.p99_us,
                  asio && asio->messages_per_second() > 0 ? r.messages_per_second() / asio->messages_per_second()
                                                          : 0.0);
    };
    const echo::load_result *none_iocaf = nullptr, *none_asio = nullptr;
    for (auto& c : cells)
      if (c.size == 64 && c.connections == 1) {
        if (c.server == "iocaf")
          none_iocaf = &c.r;
        if (c.server == "asio")
          none_asio = &c.r;
      }
    if (none_iocaf && none_asio) {
      row("none", "iocaf", *none_iocaf, none_asio);
      row("none", "asio", *none_asio, none_asio);
    }
    for (auto& c : neighbour_cells) {
      const echo::load_result* asio = nullptr;
      for (auto& d : neighbour_cells)
        if (d.placement == c.placement && d.server == "asio")
          asio = &d.r;
      row(c.placement, c.server, c.r, asio);
    }
  }
  if (!computing_cells.empty()) {
    std::printf("\n64 B x 16 connections alone, then beside one more connection whose handler computes %.1f ms per "
                "message\n", computing_ms);
    std::printf("%-9s %11s %9s %11s %9s %9s %15s\n", "placement", "alone msg/s", "p99 us", "beside msg/s", "p99 us",
                "ratio", "computing msg/s");
    for (auto& c : computing_cells)
      std::printf("%-9s %11.0f %9.0f %11.0f %9.0f %8.2fx %15.0f\n", c.placement.c_str(),
                  c.alone.messages_per_second(), c.alone.p99_us, c.beside.messages_per_second(), c.beside.p99_us,
                  c.alone.messages_per_second() > 0
                    ? c.beside.messages_per_second() / c.alone.messages_per_second()
                    : 0.0,
                  c.computing.messages_per_second());
  }
  return failed ? 1 : 0;
}
