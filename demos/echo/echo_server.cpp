// echo_server: echoes every byte on every connection, with iocaf's TCP actors.
//   echo_server [--port PORT] [--host ADDRESS]      (--help for all options)
// Prints "listening ADDRESS:PORT" when ready; stops cleanly on Ctrl+C or
// when its standard input reaches end-of-file.
#include "actors/core/program.hpp"
#include "actors/tcp/tcp_listener.hpp"
#include "demos/echo/tcp_echo.hpp"

#include <caf/all.hpp>

#include <fcntl.h>
#include <io.h>

#include <cstdio>
#include <string>

using namespace iocaf;

int main(int argc, char** argv) {
  program_config cfg{"echo_server", "Echoes every byte on every TCP connection. Prints \"listening ADDRESS:PORT\" when\n"
                                    "ready; stops on Ctrl+C or when standard input reaches end-of-file."};
  tcp_listener_options opts;
  cfg.option(opts.port, "port", "TCP port, 0 for any free one")
    .option(opts.address, "host", "numeric address to bind, ::1 for IPv6");
  if (auto rc = cfg.parse(argc, argv))
    return *rc;
  cfg.apply(opts.connection);
  // Echo returns read credit at once, so a client that sends without reading
  // fills its write queue: it is dropped as a slow consumer.
  opts.connection.when_full = when_full_policy::disconnect;
  // "listening ...\n" exactly, without the text mode's \r.
  _setmode(_fileno(stdout), _O_BINARY);
  return run_program(cfg, [&](caf::actor_system& sys, runtime& rt) {
    auto srv = spawn_tcp_listener(sys, rt.core(), opts, [&sys] { return sys.spawn(tcp_echo, true); });
    if (!srv) {
      std::fprintf(stderr, "echo_server: %s\n", describe(srv.error()).c_str());
      return 1;
    }
    std::printf("listening %s\n", srv->local.to_string().c_str());
    std::fflush(stdout);
    return run_until_stopped(rt).clean() ? 0 : 1;
  });
}
