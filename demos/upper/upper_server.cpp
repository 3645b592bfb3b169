// The README's example server: TCP, one handler actor per connection, which
// answers every chunk it receives in upper case. Stops on Ctrl+C or end of stdin.
#include "actors/core/program.hpp"
#include "actors/tcp/tcp_listener.hpp"

#include <cctype>
#include <cstdio>

using namespace iocaf;

// One per connection: stream_* messages in, stream_send (with the credit) out.
// Typed: it must handle every stream event, and may send its connection only
// what a connection accepts.
stream_handler_actor::behavior_type upper(stream_handler_actor::pointer self) {
  return {
    [](const stream_opened& o) { std::printf("%s connected\n", o.remote.c_str()); },
    [self](stream_received& in) {
      auto n = in.data.size();
      for (auto& c : in.data)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      self->send(in.connection, stream_send{std::move(in.data), n}); // n: the read credit back
    },
    [self](const stream_peer_eof& e) { self->send(e.connection, close_atom::value); },
    [self](const stream_send_refused& r) { self->send(r.connection, stream_close{true}); },
    [](const stream_drained&) {},
    [self](const stream_closed&) { self->quit(); },
  };
}

int main(int argc, char** argv) {
  program_config cfg{"upper_server", "Answers every TCP chunk in upper case."};
  tcp_listener_options opts;
  cfg.option(opts.port, "port", "TCP port, 0 for any free one");
  if (auto rc = cfg.parse(argc, argv))
    return *rc; // 0 after --help, 2 after a usage error
  cfg.apply(opts.connection);
  return run_program(cfg, [&](caf::actor_system& sys, runtime& rt) {
    auto srv = spawn_tcp_listener(sys, rt.core(), opts, [&sys] { return sys.spawn(upper); });
    if (!srv)
      return std::fprintf(stderr, "upper_server: %s\n", describe(srv.error()).c_str()), 1;
    std::printf("listening %s\n", srv->local.to_string().c_str());
    std::fflush(stdout);
    return run_until_stopped(rt).clean() ? 0 : 1;
  });
}
