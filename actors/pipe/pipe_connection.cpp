#include "actors/pipe/pipe_connection.hpp"

namespace iocaf {

namespace {

// The stream core's transport over a connected pipe handle.
class pipe_transport final : public stream_transport {
public:
  pipe_transport(io::unique_handle pipe, std::string name, bool server_side)
    : pipe_(std::move(pipe)), name_(std::move(name)), server_side_(server_side) {
  }

  HANDLE handle() const override { return pipe_.get(); }
  caf::error prepare(io_core&) override { return {}; } // associated by the listener / connector

  void opened(std::string& local, std::string& remote) override {
    local = name_;
    remote = server_side_ ? "client" : "server";
  }
  bool accepted() const override { return server_side_; }

  unsigned long start_read(io::operation& op, std::size_t n) override { return io::start_read(op, pipe_.get(), n); }
  unsigned long start_write(io::operation& op, std::size_t n) override {
    return io::start_write(op, pipe_.get(), n);
  }
  const char* read_call() const override { return "ReadFile"; }
  const char* write_call() const override { return "WriteFile"; }

  // The codes with which reads and writes fail once the other end has closed.
  bool is_eof(unsigned long code) const override {
    return code == ERROR_BROKEN_PIPE || code == ERROR_PIPE_NOT_CONNECTED || code == ERROR_NO_DATA;
  }
  bool is_reset(unsigned long) const override { return false; }

private:
  io::unique_handle pipe_;
  std::string name_;
  bool server_side_;
};

} // namespace

caf::actor spawn_pipe_connection(caf::actor_system& sys, std::shared_ptr<io_core> core, io::unique_handle pipe,
                                 std::string name, bool server_side, framed_options opts,
                                 caf::actor handler) {
  auto transport = std::make_unique<pipe_transport>(std::move(pipe), std::move(name), server_side);
  return spawn_framed_connection(sys, std::move(core), std::move(transport), std::move(handler), opts);
}

} // namespace iocaf
