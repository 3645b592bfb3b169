// One TCP echo server alone, for a load client outside Wine (bench/tcp/native.sh
// drives it with bench/native/tcp_load, a Linux program): then only the server
// pays Wine's costs. Prints "port N", serves until its stdin ends, exits 0.
//   tcp_serve --server iocaf|iocaf-w|iocp|asio [--port N]
// iocaf-w: iocaf with the actors a completion wakes on CAF's workers.
#include "actors/core/program.hpp"
#include "actors/tcp/tcp_listener.hpp"
#include "demos/echo/tcp_echo.hpp"

#include "asio_echo.hpp"
#include "raw_iocp_echo.hpp"

#include <cstdio>
#include <string>

using namespace iocaf;

namespace {

void announce(std::uint16_t port) {
  std::printf("port %u\n", static_cast<unsigned>(port));
  std::fflush(stdout);
}

// The peers have no runtime: they serve until the stop request.
template <class Server, class Start>
int serve_peer(program_config& cfg, Server& server, Start start) {
  return run_program(cfg, [&](caf::actor_system&, runtime& rt) {
    auto port = start(server);
    if (port == 0)
      return std::fprintf(stderr, "tcp_serve: the listener failed: WSA error %d\n", WSAGetLastError()), 1;
    announce(port);
    auto result = run_until_stopped(rt);
    server.stop();
    return result.clean() ? 0 : 1;
  });
}

} // namespace

int main(int argc, char** argv) {
  program_config cfg{"iocaf_tcp_serve", "One TCP echo server on 127.0.0.1 (iocaf, a raw IOCP loop or Asio) until\n"
                                        "stdin ends; prints 'port N' first. For a load client outside Wine.",
                     false};
  cfg.log_level = "warn";
  std::string server = "iocaf";
  std::uint16_t port = 0;
  cfg.option(server, "server", "iocaf, iocaf-w (actors a completion wakes on CAF's workers), iocp or asio");
  cfg.option(port, "port", "TCP port on 127.0.0.1, 0 for any free one (asio: 0 only)");
  if (auto rc = cfg.parse(argc, argv))
    return *rc;
  io::winsock_init();
  if (server == "iocp") {
    bench::raw_iocp_server raw;
    return serve_peer(cfg, raw, [port](auto& s) { return s.start(port); });
  }
  if (server == "asio") {
    // bench/asio_echo.hpp binds port 0 only (shared with tcp_bench, left as it is).
    if (port != 0)
      return cfg.usage_error("--port is not supported with --server asio (it always takes a free port)");
    bench::asio_server<64 * 1024> as;
    return serve_peer(cfg, as, [](auto& s) { return s.start(); });
  }
  if (server != "iocaf" && server != "iocaf-w")
    return cfg.usage_error("bad value '" + server + "' for --server (expected: iocaf, iocaf-w, iocp or asio)");
  if (server == "iocaf-w")
    cfg.actors_on = "workers";
  return run_program(cfg, [&](caf::actor_system& sys, runtime& rt) {
    tcp_listener_options opts;
    opts.port = port;
    auto srv = spawn_tcp_listener(sys, rt.core(), opts, [&sys] { return sys.spawn(tcp_echo, true); });
    if (!srv)
      return std::fprintf(stderr, "tcp_serve: %s\n", describe(srv.error()).c_str()), 1;
    announce(srv->local.port());
    return run_until_stopped(rt).clean() ? 0 : 1;
  });
}
