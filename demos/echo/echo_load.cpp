// echo_load: ping-pong load against an echo server on loopback.
//   echo_load --port PORT [--connections N] [--seconds S] [--size B] [--host 127.0.0.1|::1]
#include "actors/core/program.hpp"
#include "echo_load_client.hpp"

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  iocaf::program_config cfg{"echo_load",
                            "Connects N clients to an echo server on loopback; each sends B bytes, waits for them\n"
                            "to come back, and repeats for S seconds. Prints messages/s, MB/s and latency p50/p99.",
                            false};
  iocaf::echo::load_options opt;
  int port = 0;
  int size = static_cast<int>(opt.size);
  cfg.option(port, "port", "the echo server's port, 1..65535 (required)")
    .option(opt.connections, "connections", "1..1000")
    .option(opt.seconds, "seconds", "0.1..600")
    .option(size, "size", "bytes per message, 1..1048576")
    .option(opt.host, "host", "127.0.0.1 or another loopback address such as ::1");
  if (auto rc = cfg.parse(argc, argv))
    return *rc;
  if (port < 1 || port > 65535)
    return cfg.usage_error(port == 0 ? "--port is required" : "bad value '" + std::to_string(port) +
                                                                  "' for --port (expected: 1..65535)");
  if (opt.connections < 1 || opt.connections > 1000)
    return cfg.usage_error("bad value '" + std::to_string(opt.connections) + "' for --connections (expected: 1..1000)");
  if (!(opt.seconds >= 0.1 && opt.seconds <= 600))
    return cfg.usage_error("bad value '" + std::to_string(opt.seconds) + "' for --seconds (expected: 0.1..600)");
  if (size < 1 || size > (1 << 20))
    return cfg.usage_error("bad value '" + std::to_string(size) + "' for --size (expected: 1..1048576)");
  opt.port = static_cast<std::uint16_t>(port);
  opt.size = static_cast<std::size_t>(size);
  auto r = iocaf::echo::run_load(opt);
  std::printf("connections %d, size %zu B, %.2f s\n", opt.connections, opt.size, r.seconds);
  std::printf("messages/s %.0f\nMB/s %.3f\nlatency p50 %.0f us, p99 %.0f us\n", r.messages_per_second(),
              r.mb_per_second(), r.p50_us, r.p99_us);
  if (r.failed_connections > 0) {
    std::fprintf(stderr, "echo_load: %d connections failed; first: %s\n", r.failed_connections,
                 r.first_error.c_str());
    return 1;
  }
  return 0;
}
