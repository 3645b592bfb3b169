// echo_server: echoes every byte on every connection, with iocaf's TCP actors.
//   echo_server --port PORT      (0: any free port)
// Prints "listening 127.0.0.1:PORT" when ready; stops cleanly on Ctrl+C or
// when its standard input reaches end-of-file.
#include "actors/core/runtime.hpp"
#include "actors/tcp/tcp_listener.hpp"
#include "demos/echo/tcp_echo.hpp"
#include "io/log.hpp"

#include <caf/all.hpp>

#include <fcntl.h>
#include <io.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

using namespace iocaf;

namespace {

HANDLE stop_event = nullptr;

BOOL WINAPI on_console_ctrl(DWORD) {
  SetEvent(stop_event);
  return TRUE;
}


void usage(FILE* to) {
  std::fprintf(to, "usage: echo_server --port PORT [--host ADDRESS] [--log LEVEL]\n"
                   "  Echoes every byte on every TCP connection. Prints \"listening ADDRESS:PORT\" when ready.\n"
                   "  Stops on Ctrl+C or when standard input reaches end-of-file.\n"
                   "  --port PORT     0..65535 (0: any free port)\n"
                   "  --host ADDRESS  numeric address to bind (default 127.0.0.1; ::1 for IPv6)\n"
                   "  --log LEVEL     trace, debug, info, warn, error, off (default: IOCAF_LOG or info)\n");
}

} // namespace

int main(int argc, char** argv) {
  tcp_listener_options opts;
  // Echo returns read credit at once, so a client that sends without reading
  // fills its write queue: it is dropped as a slow consumer (1 MiB bound).
  opts.connection.when_full = when_full_policy::disconnect;
  bool have_port = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "echo_server: %s: unknown flag or missing value\n", a.c_str());
      usage(stderr);
      return 2;
    }
    std::string v = argv[++i];
    if (a == "--port") {
      char* end = nullptr;
      long p = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || p < 0 || p > 65535) {
        std::fprintf(stderr, "echo_server: bad port \"%s\" (0..65535)\n", v.c_str());
        return 2;
      }
      opts.port = static_cast<std::uint16_t>(p);
      have_port = true;
    } else if (a == "--host") {
      opts.address = v;
    } else if (a == "--log") {
      if (!set_log_level(v)) {
        std::fprintf(stderr, "echo_server: bad log level \"%s\"\n", v.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "echo_server: unknown flag %s\n", a.c_str());
      usage(stderr);
      return 2;
    }
  }
  if (!have_port) {
    std::fprintf(stderr, "echo_server: --port is required (0 for any free port)\n");
    usage(stderr);
    return 2;
  }

  // "listening ...\n" exactly, without the text mode's \r.
  _setmode(_fileno(stdout), _O_BINARY);
  stop_event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  SetConsoleCtrlHandler(on_console_ctrl, TRUE);
  int rc = 0;
  {
    caf::actor_system_config cfg;
    configure(cfg);
    caf::actor_system sys{cfg};
    runtime rt{sys};
    opts.make_handler = [&sys] { return sys.spawn(tcp_echo, true); };
    auto srv = spawn_tcp_listener(sys, rt.core(), opts);
    if (!srv) {
      std::fprintf(stderr, "echo_server: %s\n", describe(srv.error()).c_str());
      rc = 1;
    } else {
      std::printf("listening %s\n", srv->local.to_string().c_str());
      std::fflush(stdout);
      // Standard input's end-of-file stops the server (a thread may block; actors may not).
      std::thread([] {
        HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
        char buf[256];
        DWORD n = 0;
        while (ReadFile(in, buf, sizeof(buf), &n, nullptr) && n > 0) {
        }
        SetEvent(stop_event);
      }).detach();
      WaitForSingleObject(stop_event, INFINITE);
      auto report = rt.shutdown();
      auto s = rt.core()->stats();
      std::fprintf(stderr, "echo_server: stopped in %lld ms (%zu io actors stopped, %zu killed, %llu leaked, %llu "
                           "unexpected packets)\n",
                   static_cast<long long>(report.took.count()), report.actors_stopped, report.actors_killed,
                   static_cast<unsigned long long>(report.leaked), static_cast<unsigned long long>(s.unexpected));
      if (report.leaked > 0 || s.unexpected > 0)
        rc = 1;
    }
  }
  // The stdin thread may still block in ReadFile: end the process without joining it.
  std::fflush(stdout);
  std::fflush(stderr);
  ExitProcess(static_cast<UINT>(rc));
}
