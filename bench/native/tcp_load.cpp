// A native Linux TCP echo load client (built with the system g++, not MinGW;
// bench/native/build.sh): N connections, each a thread doing blocking
// ping-pong of SIZE bytes (sent, read back, checked) for SECONDS. Drives a
// server that runs under Wine, so only the server pays Wine's costs. Measures
// as demos/echo/echo_load_client.hpp does (the clock starts once every
// connection is up; p50/p99 of the round trips). Loopback only. Prints one line:
//   messages seconds p50_us p99_us failed_connections [first error]
//   tcp_load PORT CONNECTIONS SIZE SECONDS
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

// A server that stops answering fails the connection after this long
// instead of hanging the benchmark (as echo_load_client's SO_RCVTIMEO).
constexpr int io_timeout_s = 10;

struct shared_state {
  std::mutex mtx;
  std::vector<std::uint32_t> rtts_us;
  std::atomic<std::uint64_t> messages{0};
  std::atomic<int> failed{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  clock_type::time_point deadline;
  std::string first_error;
  void fail(const std::string& why) {
    failed.fetch_add(1);
    std::lock_guard<std::mutex> lock(mtx);
    if (first_error.empty())
      first_error = why;
  }
};

// "" on success, else why the transfer failed.
std::string io_error(const char* call, ssize_t k) {
  if (k == 0)
    return std::string(call) + ": the server closed the connection";
  if (errno == EAGAIN || errno == EWOULDBLOCK)
    return std::string(call) + ": timed out after " + std::to_string(io_timeout_s) + " s";
  return std::string(call) + ": " + std::strerror(errno);
}

std::string send_all(int s, const char* p, std::size_t n) {
  while (n > 0) {
    auto k = ::send(s, p, n, MSG_NOSIGNAL);
    if (k <= 0)
      return io_error("send", k);
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return {};
}

std::string recv_all(int s, char* p, std::size_t n) {
  while (n > 0) {
    auto k = ::recv(s, p, n, 0);
    if (k <= 0)
      return io_error("recv", k);
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return {};
}

// A connected socket with TCP_NODELAY and the I/O timeouts, or -1 (errno set).
int connect_loopback(std::uint16_t port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0)
    return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  timeval tv{io_timeout_s, 0};
  if (::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
      ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
      ::setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
      ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    int e = errno;
    ::close(s);
    errno = e;
    return -1;
  }
  return s;
}

void ping_pong(int index, std::uint16_t port, std::size_t size, shared_state& st) {
  int s = connect_loopback(port);
  if (s < 0)
    st.fail(std::string("connect: ") + std::strerror(errno));
  st.ready.fetch_add(1);
  while (!st.go.load())
    std::this_thread::yield();
  // Each connection its own pattern, each message its own first byte: a
  // stale or crossed echo shows as a difference.
  std::string msg(size, '\0'), back(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    msg[i] = static_cast<char>('a' + (i + static_cast<std::size_t>(index)) % 26);
  std::vector<std::uint32_t> rtts;
  for (std::uint64_t n = 0; s >= 0 && clock_type::now() < st.deadline; ++n) {
    msg[0] = static_cast<char>('A' + n % 26);
    auto t0 = clock_type::now();
    auto err = send_all(s, msg.data(), size);
    if (err.empty())
      err = recv_all(s, &back[0], size);
    if (err.empty() && back != msg)
      err = "echo differs from what was sent";
    if (!err.empty()) {
      st.fail(err);
      break;
    }
    rtts.push_back(static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - t0).count()));
    st.messages.fetch_add(1);
  }
  if (s >= 0)
    ::close(s);
  std::lock_guard<std::mutex> lock(st.mtx);
  st.rtts_us.insert(st.rtts_us.end(), rtts.begin(), rtts.end());
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: tcp_load PORT CONNECTIONS SIZE SECONDS\n");
    return 2;
  }
  long port = std::atol(argv[1]);
  int conns = std::atoi(argv[2]);
  long size = std::atol(argv[3]);
  double seconds = std::atof(argv[4]);
  if (port < 1 || port > 65535 || conns < 1 || conns > 1024 || size < 1 || size > (1L << 24) || !(seconds > 0) ||
      seconds > 600) {
    std::fprintf(stderr, "tcp_load: bad arguments (PORT 1..65535, CONNECTIONS 1..1024, SIZE 1..16 MiB, SECONDS 0..600)\n");
    return 2;
  }
  shared_state st;
  std::vector<std::thread> threads;
  for (int i = 0; i < conns; ++i)
    threads.emplace_back(ping_pong, i, static_cast<std::uint16_t>(port), static_cast<std::size_t>(size),
                         std::ref(st));
  // The clock starts once every connection is up (or failed), as in echo_load_client.
  while (st.ready.load() < conns)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto start = clock_type::now();
  st.deadline = start + std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6));
  st.go.store(true);
  for (auto& t : threads)
    t.join();
  double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  auto& v = st.rtts_us;
  std::sort(v.begin(), v.end());
  double p50 = v.empty() ? 0 : v[v.size() / 2];
  double p99 = v.empty() ? 0 : v[std::min(v.size() - 1, v.size() * 99 / 100)];
  std::printf("%llu %.3f %.0f %.0f %d %s\n", static_cast<unsigned long long>(st.messages.load()), elapsed, p50, p99,
              st.failed.load(), st.first_error.c_str());
  return st.failed.load() ? 1 : 0;
}
