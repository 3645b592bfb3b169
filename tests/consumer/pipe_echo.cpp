// The package's check: an echo server on a named pipe and a client in the
// same process, built against the installed iocaf. Prints "echoed: TEXT"
// and exits 0 when the text came back intact and the runtime shut down
// cleanly; exits 1 otherwise. Options as every iocaf program (--help).
#include "actors/core/program.hpp"
#include "actors/pipe/pipe_connect.hpp"
#include "actors/pipe/pipe_listener.hpp"

#include <caf/all.hpp>

#include <cstdio>
#include <string>

using namespace iocaf;

namespace {

// Server side: sends every frame back on the connection it came from.
caf::behavior echo(caf::event_based_actor*) {
  return {
    [](const frame_opened&) {},
    [](frame_received& in) { caf::anon_send(in.connection, frame_send{std::move(in.payload)}); },
    [](const frame_closed&) {},
    [](const frame_refused&) {},
  };
}

int fail(const std::string& what) {
  std::fprintf(stderr, "pipe_echo: %s\n", what.c_str());
  return 1;
}

int run(caf::actor_system& sys, runtime& rt) {
  const std::string name = "iocaf-consumer-" + std::to_string(GetCurrentProcessId());
  const std::string text = "hello from a consumer of the iocaf package";
  auto handler = sys.spawn(echo);
  pipe_listener_options so;
  so.name = name;
  auto server = spawn_pipe_listener(sys, rt.core(), so, handler);
  if (!server)
    return fail("cannot serve " + name + ": " + describe(server.error()));

  caf::scoped_actor self{sys};
  pipe_connect_options co;
  co.name = name;
  auto connector = spawn_pipe_connect(sys, rt.core(), co, caf::actor{self});
  if (!connector)
    return fail("cannot connect to " + name + ": " + describe(connector.error()));
  std::string got;
  std::string error;
  bool open = true;
  while (open && error.empty()) {
    self->receive(
      [&](const frame_opened& o) { self->send(o.connection, frame_send{text}); },
      [&](frame_received& in) {
        got = std::move(in.payload);
        self->send(in.connection, close_atom::value);
      },
      [&](const frame_closed& c) {
        open = false;
        if (c.connection == *connector) // a failed connect is the close of the connector
          error = "connect failed: " + describe(c.reason);
      },
      caf::after(std::chrono::seconds(10)) >> [&] { error = "no answer in 10 s"; });
  }
  self->send(server->actor, close_atom::value);
  self->send_exit(handler, caf::exit_reason::user_shutdown);
  if (!error.empty())
    return fail(error);
  if (got != text)
    return fail("sent \"" + text + "\", got \"" + got + "\"");
  std::printf("echoed: %s\n", got.c_str());
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  program_config cfg{"pipe_echo", "Echoes one text over a named pipe, server and client in this process."};
  if (auto rc = cfg.parse(argc, argv))
    return *rc;
  return run_program(cfg, [](caf::actor_system& sys, runtime& rt) {
    int rc = run(sys, rt);
    auto report = rt.shutdown();
    if (report.actors_killed > 0 || report.leaked > 0)
      rc = fail("unclean shutdown: " + std::to_string(report.actors_killed) + " killed, " +
                std::to_string(report.leaked) + " leaked");
    return rc;
  });
}
