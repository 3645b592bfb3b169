#pragma once
// The standalone Asio echo server both TCP benchmarks (bench/tcp, bench/scale)
// measure iocaf against: one io_context thread, TCP_NODELAY, a Buffer-byte
// buffer per connection. The first failed accept ends accepting and is kept
// (accept_error) so a benchmark can say what stopped it.
#include "io/error.hpp"

#include <asio.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace iocaf::bench {

// Buffer: 64 KiB for the peer of both benchmarks; 64 B for bench/scale's floor (what a
// connection costs Wine and the client without a server-side buffer).
template <std::size_t Buffer>
class asio_session : public std::enable_shared_from_this<asio_session<Buffer>> {
public:
  explicit asio_session(asio::ip::tcp::socket s) : socket_(std::move(s)) {}
  void read() {
    auto self = this->shared_from_this();
    socket_.async_read_some(asio::buffer(buf_), [this, self](std::error_code ec, std::size_t n) {
      if (!ec)
        asio::async_write(socket_, asio::buffer(buf_, n), [this, self](std::error_code e, std::size_t) {
          if (!e)
            read();
        });
    });
  }

private:
  asio::ip::tcp::socket socket_;
  std::array<char, Buffer> buf_;
};

template <std::size_t Buffer>
class asio_server {
public:
  std::uint16_t start() {
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.bind({asio::ip::address_v4::loopback(), 0});
    acceptor_.listen(asio::socket_base::max_listen_connections);
    accept();
    thread_ = std::thread([this] { io_.run(); });
    return acceptor_.local_endpoint().port();
  }
  void stop() {
    io_.stop();
    thread_.join();
  }
  // The first failed accept: its code ends the accepting (the client then reports what it misses).
  std::string accept_error() {
    std::lock_guard<std::mutex> lock(mutex_);
    return accept_error_;
  }

private:
  void accept() {
    acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket s) {
      if (ec) {
        std::lock_guard<std::mutex> lock(mutex_);
        accept_error_ = io::error{"accept", static_cast<unsigned long>(ec.value())}.to_string();
        return;
      }
      s.set_option(asio::ip::tcp::no_delay(true));
      ++accepted;
      std::make_shared<asio_session<Buffer>>(std::move(s))->read();
      accept();
    });
  }
  asio::io_context io_{1};
  asio::ip::tcp::acceptor acceptor_{io_};
  std::thread thread_;
  std::mutex mutex_;
  std::string accept_error_;

public:
  std::atomic<std::size_t> accepted{0};
};

} // namespace iocaf::bench
