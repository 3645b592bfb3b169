// Toolchain smoke tests: CAF, the completion port and Wine work together.
#include "actors/core/io_actor.hpp"
#include "io/pipe.hpp"
#include "support.hpp"

#include <string>

using namespace iocaf;

namespace {

using received_atom = caf::atom_constant<caf::atom("received")>;

// An io actor that owns one operation, starts it with `start`, and reports
// the completion (bytes, error, buffer contents) to `observer`.
struct one_op_state {
  owned_operations ops;
};

template <class Start>
caf::behavior one_op(caf::stateful_actor<one_op_state>* self, std::shared_ptr<io_core> core, caf::actor observer,
                     HANDLE h, std::size_t buffer, Start start) {
  install_cancel_protocol(self, core);
  auto op = self->state.ops.make(io::op_kind::read, buffer);
  if (auto code = self->state.ops.start(op, h, start)) {
    self->send(observer, received_atom::value, std::uint32_t{0}, static_cast<std::uint32_t>(code), std::string{});
    self->quit();
    return {};
  }
  return {
    [=](const io_completed& msg) {
      auto c = self->state.ops.complete(msg);
      if (!c)
        return;
      auto& buf = c->op->buffer();
      std::string data(buf.begin(), buf.begin() + std::min<std::size_t>(c->bytes, buf.size()));
      self->send(observer, received_atom::value, c->bytes, c->error, data);
      self->quit();
    },
  };
}

class smoke : public test::runtime_test {};

TEST_F(smoke, actor_receives_a_posted_packet) {
  caf::scoped_actor self{*sys};
  auto& port = core().port;
  auto start = [&port](io::operation& op) -> unsigned long {
    auto err = port.post(io::key_io, 42, op.overlapped());
    return err.code();
  };
  auto a = sys->spawn(one_op<decltype(start)>, rt->core(), caf::actor{self}, nullptr, 0, start);
  bool got = false;
  self->receive(
    [&](received_atom, std::uint32_t bytes, std::uint32_t error, const std::string&) {
      got = true;
      EXPECT_EQ(bytes, 42u);
      EXPECT_EQ(error, 0u);
    },
    caf::after(test::timeout) >> [] { ADD_FAILURE() << "no completion message"; });
  EXPECT_TRUE(got);
  auto s = rt->stats();
  EXPECT_EQ(s.completions, 1u);
  EXPECT_EQ(s.unexpected, 0u);
}

TEST_F(smoke, named_pipe_read_completes_through_the_port) {
  std::string name = "iocaf-smoke-" + std::to_string(GetCurrentProcessId());
  auto server = io::create_pipe_instance(name, {});
  ASSERT_TRUE(server) << server.err().to_string();
  auto client = io::open_pipe_client(name);
  ASSERT_TRUE(client) << client.err().to_string();
  ASSERT_EQ(test::accept_connected_client(server->get()), 0u);
  auto assoc = core().port.associate(server->get());
  ASSERT_FALSE(assoc) << assoc.to_string();

  caf::scoped_actor self{*sys};
  auto start = [](io::operation& op) { return io::start_read(op, op.target(), op.buffer().size()); };
  sys->spawn(one_op<decltype(start)>, rt->core(), caf::actor{self}, server->get(), 64, start);

  // The test thread is no actor: it may block on its own write.
  const std::string hello = "hello through the completion port";
  ASSERT_EQ(test::write_blocking(client->get(), hello), 0u);

  bool got = false;
  self->receive(
    [&](received_atom, std::uint32_t bytes, std::uint32_t error, const std::string& data) {
      got = true;
      EXPECT_EQ(error, 0u) << io::system_message(error);
      EXPECT_EQ(bytes, hello.size());
      EXPECT_EQ(data, hello);
    },
    caf::after(test::timeout) >> [] { ADD_FAILURE() << "no read completion"; });
  EXPECT_TRUE(got);
}

} // namespace
