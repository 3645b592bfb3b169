// A native Linux TCP echo load client (built with the system g++, not MinGW):
// N connections, each a thread doing blocking ping-pong of SIZE bytes (sent,
// read back, checked) for SECONDS. Drives a server that runs under Wine, so
// only the server pays Wine's costs. Loopback only. Prints one line:
//   messages seconds p50_us p99_us failed_connections [first error]
//   tcp_load PORT CONNECTIONS SIZE SECONDS
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct shared_result {
  std::mutex mtx;
  std::vector<double> rtts_us;
  std::uint64_t messages = 0;
  int failed = 0;
  std::string first_error;
  void fail(const std::string& why) {
    std::lock_guard<std::mutex> lock(mtx);
    if (failed++ == 0)
      first_error = why;
  }
};

std::string errno_text(const char* call) {
  return std::string(call) + ": " + std::strerror(errno);
}

bool send_all(int s, const char* p, std::size_t n) {
  while (n > 0) {
    auto k = ::send(s, p, n, MSG_NOSIGNAL);
    if (k <= 0)
      return false;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

bool recv_all(int s, char* p, std::size_t n) {
  while (n > 0) {
    auto k = ::recv(s, p, n, 0);
    if (k <= 0)
      return false;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

void ping_pong(std::uint16_t port, std::size_t size, clock_type::time_point start, clock_type::time_point end,
               shared_result& out) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0)
    return out.fail(errno_text("socket"));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    out.fail(errno_text("connect"));
    ::close(s);
    return;
  }
  std::string msg(size, 'x'), back(size, '\0');
  std::vector<double> rtts;
  std::this_thread::sleep_until(start); // every connection starts measuring together
  std::uint64_t n = 0;
  while (clock_type::now() < end) {
    msg[0] = static_cast<char>('a' + n % 26);
    auto t0 = clock_type::now();
    if (!send_all(s, msg.data(), size) || !recv_all(s, back.data(), size)) {
      out.fail(errno_text("send/recv"));
      break;
    }
    rtts.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
    if (back != msg) {
      out.fail("echo differs from what was sent");
      break;
    }
    ++n;
  }
  ::close(s);
  std::lock_guard<std::mutex> lock(out.mtx);
  out.messages += n;
  out.rtts_us.insert(out.rtts_us.end(), rtts.begin(), rtts.end());
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty())
    return 0;
  auto k = static_cast<std::size_t>(p * (v.size() - 1));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: tcp_load PORT CONNECTIONS SIZE SECONDS\n");
    return 2;
  }
  auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  int conns = std::atoi(argv[2]);
  auto size = static_cast<std::size_t>(std::atol(argv[3]));
  double seconds = std::atof(argv[4]);
  if (port == 0 || conns < 1 || conns > 1024 || size < 1 || size > (1u << 24) || seconds <= 0 || seconds > 600) {
    std::fprintf(stderr, "tcp_load: bad arguments (PORT 1..65535, CONNECTIONS 1..1024, SIZE 1..16 MiB, SECONDS 0..600)\n");
    return 2;
  }
  shared_result out;
  auto start = clock_type::now() + std::chrono::milliseconds(200); // time to connect
  auto end = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < conns; ++i)
    threads.emplace_back(ping_pong, port, size, start, end, std::ref(out));
  for (auto& t : threads)
    t.join();
  double p50 = percentile(out.rtts_us, 0.50), p99 = percentile(out.rtts_us, 0.99);
  std::printf("%llu %.3f %.0f %.0f %d %s\n", static_cast<unsigned long long>(out.messages), seconds, p50, p99,
              out.failed, out.first_error.c_str());
  return out.failed ? 1 : 0;
}
