#include "actors/tcp/tcp_connection.hpp"

#include <optional>

namespace iocaf {

namespace {

// The stream core's transport over an overlapped socket.
class socket_transport final : public stream_transport {
public:
  // An accepted socket (open at once) or, with `to`, one to connect.
  socket_transport(io::unique_socket sock, std::optional<io::socket_address> to, const tcp_connection_options& opts)
    : sock_(std::move(sock)), to_(std::move(to)), opts_(opts) {
  }

  HANDLE handle() const override { return sock_.handle(); }

  caf::error prepare(io_core& core) override {
    if (to_) {
      auto fail = [&](const io::error& e) {
        return make_error(errc::win32, "connect to " + to_->to_string() + ": " + e.to_string());
      };
      auto sock = io::open_tcp_socket(to_->family());
      if (!sock)
        return fail(sock.err());
      sock_ = std::move(*sock);
      // ConnectEx needs a bound socket.
      if (auto e = io::bind_socket(sock_.get(), io::any_address(to_->family())))
        return fail(e);
      if (auto e = io::load_extensions(sock_.get()))
        return fail(e);
      if (auto e = core.port.associate(sock_.handle()))
        return fail(e);
      if (auto e = non_blocking())
        return fail(e);
      return {};
    }
    if (auto e = core.port.associate(sock_.handle()))
      return make_error(e);
    if (auto e = non_blocking())
      return make_error(e);
    return {};
  }

  bool connects() const override { return to_.has_value(); }
  std::chrono::milliseconds connect_timeout() const override { return opts_.connect_timeout; }
  unsigned long start_connect(io::operation& op) override { return io::start_connect(op, sock_.get(), *to_); }

  caf::error finish_connect(io::operation& op, unsigned long code, bool timed_out) override {
    if (code != 0)
      return connect_error(io::socket_error_of(sock_.get(), op, code), timed_out);
    if (auto e = io::finish_connect(sock_.get()))
      return make_error(e);
    return {};
  }

  void opened(std::string& local, std::string& remote) override {
    if (auto a = io::local_address(sock_.get()))
      local = a->to_string();
    if (auto a = io::peer_address(sock_.get()))
      remote = a->to_string();
    if (opts_.no_delay)
      if (auto e = io::set_no_delay(sock_.get(), true))
        logger("tcp")->warn("{} <-> {}: {}", local, remote, e.to_string());
  }

  bool accepted() const override { return !to_; }

  unsigned long start_read(io::operation& op, std::size_t n) override { return io::start_recv(op, sock_.get(), n); }
  bool reads_now() const override { return true; }
  unsigned long read_now(char* into, std::size_t n, std::size_t& got) override {
    return io::recv_now(sock_.get(), into, n, got);
  }
  bool would_block(unsigned long code) const override { return code == WSAEWOULDBLOCK; }
  unsigned long start_write(io::operation& op, std::size_t n) override { return io::start_send(op, sock_.get(), n); }
  bool writes_now() const override { return true; }
  unsigned long write_now(const char* from, std::size_t n, std::size_t& sent) override {
    return io::send_now(sock_.get(), from, n, sent);
  }
  const char* read_call() const override { return "WSARecv"; }
  const char* write_call() const override { return "WSASend"; }
  unsigned long error_of(io::operation& op, unsigned long code) override {
    return io::socket_error_of(sock_.get(), op, code);
  }

  // TCP's end of stream is a 0-byte read, never an error code.
  bool is_eof(unsigned long) const override { return false; }
  bool is_reset(unsigned long code) const override { return io::is_reset(code); }

  bool half_closes() const override { return true; }
  unsigned long shutdown_send() override { return io::shutdown_send(sock_.get()).code(); }
  void abort() override {
    if (sock_)
      if (auto e = io::set_abortive_close(sock_.get()))
        logger("tcp")->warn("abortive close: {}", e.to_string());
  }

private:
  // For read_now after a zero-byte read and for write_now.
  io::error non_blocking() { return io::set_non_blocking(sock_.get()); }

  caf::error connect_error(unsigned long code, bool timed_out) const {
    std::string where = "connect to " + to_->to_string();
    if (timed_out)
      return make_error(errc::timeout,
                        where + ": no answer within " + std::to_string(opts_.connect_timeout.count()) + " ms");
    auto text = io::error{"ConnectEx", code}.to_string();
    if (io::is_refused(code))
      return make_error(errc::not_found, where + ": connection refused (nobody listens there): " + text);
    if (io::is_unreachable(code))
      return make_error(errc::not_found, where + ": unreachable: " + text);
    return make_error(errc::win32, where + ": " + text);
  }

  io::unique_socket sock_;
  std::optional<io::socket_address> to_;
  tcp_connection_options opts_;
};

} // namespace

caf::actor spawn_tcp_connection(caf::actor_system& sys, std::shared_ptr<io_core> core, io::unique_socket sock,
                                caf::actor handler, tcp_connection_options opts) {
  auto t = std::make_unique<socket_transport>(std::move(sock), std::nullopt, opts);
  return spawn_stream_connection(sys, std::move(core), std::move(t), std::move(handler), opts);
}

namespace detail {
caf::actor spawn_tcp_connecting(caf::actor_system& sys, std::shared_ptr<io_core> core, io::socket_address to,
                                caf::actor handler, tcp_connection_options opts) {
  auto t = std::make_unique<socket_transport>(io::unique_socket{}, to, opts);
  return spawn_stream_connection(sys, std::move(core), std::move(t), std::move(handler), opts);
}
} // namespace detail

} // namespace iocaf
