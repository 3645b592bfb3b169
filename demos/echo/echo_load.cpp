// echo_load: ping-pong load against an echo server on loopback.
//   echo_load --port PORT [--connections N] [--seconds S] [--size B] [--host 127.0.0.1|::1]
#include "echo_load_client.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void usage(FILE* to) {
  std::fprintf(to,
               "usage: echo_load --port PORT [--connections N] [--seconds S] [--size B] [--host ADDRESS]\n"
               "  Connects N clients to an echo server on loopback; each sends B bytes, waits for them to\n"
               "  come back, and repeats for S seconds. Prints messages/s, MB/s and latency p50/p99.\n"
               "  --port PORT        server port (required)\n"
               "  --connections N    1..1000 (default 1)\n"
               "  --seconds S        0.1..600 (default 5)\n"
               "  --size B           bytes per message, 1..1048576 (default 64)\n"
               "  --host ADDRESS     127.0.0.1 (default) or another loopback address such as ::1\n");
}

bool parse_integer(const char* text, long lo, long hi, long& out) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < lo || v > hi)
    return false;
  out = v;
  return true;
}

bool parse_number(const char* text, double lo, double hi, double& out) {
  char* end = nullptr;
  double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || v < lo || v > hi)
    return false;
  out = v;
  return true;
}

} // namespace

int main(int argc, char** argv) {
  iocaf::echo::load_options opt;
  bool have_port = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "echo_load: %s: unknown flag or missing value\n", a.c_str());
      usage(stderr);
      return 2;
    }
    const char* v = argv[++i];
    double x = 0;
    long n = 0;
    if (a == "--port" && parse_integer(v, 1, 65535, n)) {
      opt.port = static_cast<std::uint16_t>(n);
      have_port = true;
    } else if (a == "--connections" && parse_integer(v, 1, 1000, n)) {
      opt.connections = static_cast<int>(n);
    } else if (a == "--seconds" && parse_number(v, 0.1, 600, x)) {
      opt.seconds = x;
    } else if (a == "--size" && parse_integer(v, 1, 1 << 20, n)) {
      opt.size = static_cast<std::size_t>(n);
    } else if (a == "--host") {
      opt.host = v;
    } else {
      std::fprintf(stderr, "echo_load: bad flag or value: %s %s\n", a.c_str(), v);
      usage(stderr);
      return 2;
    }
  }
  if (!have_port) {
    std::fprintf(stderr, "echo_load: --port is required\n");
    usage(stderr);
    return 2;
  }
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
