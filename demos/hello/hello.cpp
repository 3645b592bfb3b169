// iocaf hello: an actor system, the completion port and one actor that owns
// an overlapped named-pipe read, completed through the IO broker.
#include "actors/core/io_actor.hpp"
#include "actors/core/program.hpp"
#include "io/pipe.hpp"

#include <caf/all.hpp>

#include <cstdio>
#include <string>

using namespace iocaf;

namespace {

using done_atom = caf::atom_constant<caf::atom("done")>;

struct reader_state {
  owned_operations ops;
};

caf::behavior reader(caf::stateful_actor<reader_state>* self, std::shared_ptr<io_core> core, HANDLE pipe,
                     caf::actor main) {
  install_cancel_protocol(self, core);
  auto op = self->state.ops.make(io::op_kind::read, 256);
  auto code = self->state.ops.start(op, pipe, [](io::operation& o) {
    return io::start_read(o, o.target(), o.buffer().size());
  });
  if (code != 0) {
    std::printf("reader: %s\n", io::error("ReadFile", code).to_string().c_str());
    self->quit(make_error(io::error("ReadFile", code)));
    return {};
  }
  std::printf("reader actor#%u: ReadFile pending on the pipe\n", static_cast<unsigned>(self->id()));
  return {
    [=](const io_completed& msg) {
      auto c = self->state.ops.complete(msg);
      if (!c)
        return;
      std::printf("reader actor#%u: completion op#%llu, %u bytes, error %u: \"%.*s\"\n",
                  static_cast<unsigned>(self->id()), static_cast<unsigned long long>(c->op->id()), c->bytes,
                  c->error, static_cast<int>(c->bytes), c->op->buffer().data());
      self->send(main, done_atom::value);
      self->quit();
    },
  };
}

int run(caf::actor_system& sys, runtime& rt) {
  std::printf("actor system up, completion port %p, IO broker actor#%u\n",
              static_cast<void*>(rt.core()->port.native()), static_cast<unsigned>(rt.broker().id()));

  std::string name = "iocaf-hello-" + std::to_string(GetCurrentProcessId());
  auto server = io::create_pipe_instance(name, {});
  if (!server) {
    std::fprintf(stderr, "hello: %s\n", server.err().to_string().c_str());
    return 1;
  }
  auto client = io::open_pipe_client(name);
  if (!client) {
    std::fprintf(stderr, "hello: %s\n", client.err().to_string().c_str());
    return 1;
  }
  if (auto err = rt.core()->port.associate(server->get())) {
    std::fprintf(stderr, "hello: %s\n", err.to_string().c_str());
    return 1;
  }
  std::printf("named pipe \\\\.\\pipe\\%s connected\n", name.c_str());

  caf::scoped_actor self{sys};
  sys.spawn(reader, rt.core(), server->get(), caf::actor{self});

  const std::string text = "hello, iocaf";
  OVERLAPPED ov{};
  ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  DWORD written = 0;
  if (!WriteFile(client->get(), text.data(), static_cast<DWORD>(text.size()), nullptr, &ov)
      && GetLastError() != ERROR_IO_PENDING) {
    std::fprintf(stderr, "hello: %s\n", io::last_error("WriteFile").to_string().c_str());
    return 1;
  }
  GetOverlappedResult(client->get(), &ov, &written, TRUE);
  CloseHandle(ov.hEvent);
  std::printf("main: wrote %lu bytes into the pipe\n", written);

  int rc = 1;
  self->receive([&](done_atom) { rc = 0; },
                caf::after(std::chrono::seconds(30)) >> [] { std::fprintf(stderr, "hello: no completion in 30 s\n"); });
  auto report = rt.shutdown();
  auto s = rt.core()->stats();
  std::printf("broker: %llu packets, %llu completions, %llu unexpected; shutdown in %lld ms\n",
              static_cast<unsigned long long>(s.packets), static_cast<unsigned long long>(s.completions),
              static_cast<unsigned long long>(s.unexpected), static_cast<long long>(report.took.count()));
  return s.unexpected == 0 ? rc : 1;
}

} // namespace

int main(int argc, char** argv) {
  program_config cfg{"iocaf_hello", "One actor receives one overlapped named-pipe read through the IO broker, then the\n"
                                    "runtime shuts down. Exit status 0 when the read completed and nothing was left over."};
  if (auto rc = cfg.parse(argc, argv))
    return *rc;
  return run_program(cfg, run);
}
