#pragma once
// A plain Winsock echo load generator: N connections, each a thread doing
// blocking ping-pong (send `size` bytes, read them back, check them) until a
// deadline. Loopback only: it refuses any address outside 127.0.0.0/8 and ::1.
// Shared by demos/echo/echo_load and bench/tcp.
#include <winsock2.h>
#include <ws2tcpip.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace iocaf::echo {

struct load_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  int connections = 1;
  double seconds = 5;
  std::size_t size = 64;
};

struct load_result {
  std::uint64_t messages = 0; // round trips completed
  std::uint64_t bytes = 0;    // echoed bytes (one direction)
  double seconds = 0;
  double p50_us = 0;
  double p99_us = 0;
  int failed_connections = 0;
  std::string first_error;
  double messages_per_second() const { return seconds > 0 ? messages / seconds : 0; }
  double mb_per_second() const { return seconds > 0 ? bytes / seconds / 1e6 : 0; }
};

inline bool is_loopback(const sockaddr* sa) {
  if (sa->sa_family == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6) {
    auto* a = &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    static const in6_addr loop = IN6ADDR_LOOPBACK_INIT;
    return std::equal(a->s6_addr, a->s6_addr + 16, loop.s6_addr);
  }
  return false;
}

inline load_result run_load(const load_options& opt) {
  load_result out;
  WSADATA wsa;
  WSAStartup(MAKEWORD(2, 2), &wsa);
  sockaddr_storage addr{};
  int addr_len = 0;
  {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    if (inet_pton(AF_INET, opt.host.c_str(), &in->sin_addr) == 1) {
      in->sin_family = AF_INET;
      in->sin_port = htons(opt.port);
      addr_len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, opt.host.c_str(), &in6->sin6_addr) == 1) {
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(opt.port);
      addr_len = sizeof(sockaddr_in6);
    } else {
      out.first_error = "\"" + opt.host + "\" is not a numeric address";
      out.failed_connections = opt.connections;
      return out;
    }
  }
  if (!is_loopback(reinterpret_cast<sockaddr*>(&addr))) {
    out.first_error = "refusing a non-loopback target " + opt.host + " (loopback only)";
    out.failed_connections = opt.connections;
    return out;
  }
  std::mutex mtx;
  std::vector<std::uint32_t> latencies; // microseconds
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<int> failed{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  using clock = std::chrono::steady_clock;
  clock::time_point start;
  clock::time_point deadline;
  auto fail = [&](const std::string& what) {
    failed.fetch_add(1);
    std::lock_guard<std::mutex> lock(mtx);
    if (out.first_error.empty())
      out.first_error = what;
  };
  auto worker = [&](int index) {
    SOCKET s = socket(addr.ss_family, SOCK_STREAM, IPPROTO_TCP);
    DWORD timeout_ms = 10000;
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, reinterpret_cast<const char*>(&timeout_ms), sizeof(timeout_ms));
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, reinterpret_cast<const char*>(&timeout_ms), sizeof(timeout_ms));
    BOOL one = TRUE;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one), sizeof(one));
    bool connected = s != INVALID_SOCKET && connect(s, reinterpret_cast<sockaddr*>(&addr), addr_len) == 0;
    if (!connected)
      fail("connect: WSA error " + std::to_string(WSAGetLastError()));
    ready.fetch_add(1);
    while (!go.load())
      std::this_thread::yield();
    std::vector<std::uint32_t> mine;
    std::string msg(opt.size, '\0');
    std::string back(opt.size, '\0');
    for (std::size_t i = 0; i < msg.size(); ++i)
      msg[i] = static_cast<char>('a' + (i + static_cast<std::size_t>(index)) % 26);
    while (connected && clock::now() < deadline) {
      auto t0 = clock::now();
      std::size_t sent = 0;
      while (sent < msg.size()) {
        int n = send(s, msg.data() + sent, static_cast<int>(msg.size() - sent), 0);
        if (n <= 0) {
          fail("send: WSA error " + std::to_string(WSAGetLastError()));
          connected = false;
          break;
        }
        sent += static_cast<std::size_t>(n);
      }
      std::size_t got = 0;
      while (connected && got < back.size()) {
        int n = recv(s, &back[got], static_cast<int>(back.size() - got), 0);
        if (n <= 0) {
          fail(n == 0 ? "recv: the server closed the connection" : "recv: WSA error " + std::to_string(WSAGetLastError()));
          connected = false;
          break;
        }
        got += static_cast<std::size_t>(n);
      }
      if (!connected)
        break;
      if (back != msg) {
        fail("echo mismatch");
        break;
      }
      mine.push_back(static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - t0).count()));
      messages.fetch_add(1);
      bytes.fetch_add(msg.size());
    }
    if (s != INVALID_SOCKET) {
      shutdown(s, SD_SEND);
      closesocket(s);
    }
    std::lock_guard<std::mutex> lock(mtx);
    latencies.insert(latencies.end(), mine.begin(), mine.end());
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < opt.connections; ++i)
    threads.emplace_back(worker, i);
  while (ready.load() < opt.connections)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  start = clock::now();
  deadline = start + std::chrono::microseconds(static_cast<std::int64_t>(opt.seconds * 1e6));
  go.store(true);
  for (auto& t : threads)
    t.join();
  out.seconds = std::chrono::duration<double>(clock::now() - start).count();
  out.messages = messages.load();
  out.bytes = bytes.load();
  out.failed_connections = failed.load();
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    out.p50_us = latencies[latencies.size() / 2];
    out.p99_us = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  }
  return out;
}

} // namespace iocaf::echo
