// One TCP echo server alone, for a load client outside Wine (bench/tcp/native.sh
// drives it with bench/native/tcp_load, a Linux program): then only the server
// pays Wine's costs. Prints "port N", serves until its stdin ends, exits 0.
//   tcp_serve --server iocaf|iocp|asio
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
template <class Server>
int serve_peer(program_config& cfg, Server& server) {
  return run_program(cfg, [&](caf::actor_system&, runtime& rt) {
    announce(server.start());
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
  cfg.option(server, "server", "iocaf, iocp or asio");
  if (auto rc = cfg.parse(argc, argv))
    return *rc;
  io::winsock_init();
  if (server == "iocp") {
    bench::raw_iocp_server raw;
    return serve_peer(cfg, raw);
  }
  if (server == "asio") {
    bench::asio_server<64 * 1024> as;
    return serve_peer(cfg, as);
  }
  if (server != "iocaf")
    return cfg.usage_error("bad value '" + server + "' for --server (expected: iocaf, iocp or asio)");
  return run_program(cfg, [&](caf::actor_system& sys, runtime& rt) {
    auto srv = spawn_tcp_listener(sys, rt.core(), tcp_listener_options{},
                                  [&sys] { return sys.spawn(tcp_echo, true); });
    if (!srv)
      return std::fprintf(stderr, "tcp_serve: %s\n", describe(srv.error()).c_str()), 1;
    announce(srv->local.port());
    return run_until_stopped(rt).clean() ? 0 : 1;
  });
}
