#pragma once
// A bare single-thread IOCP echo loop (AcceptEx/WSARecv/WSASend, batches of
// 64 from GetQueuedCompletionStatusEx): the floor the TCP benchmarks measure
// iocaf against. Shared by tcp_bench and tcp_serve.
// With `skip_on_success` its connections are set to
// FILE_SKIP_COMPLETION_PORT_ON_SUCCESS | FILE_SKIP_SET_EVENT_ON_HANDLE: a call
// that succeeds at once queues no packet and is handled where it returned
// (tcp_bench --skip-on-success-too measures what that is worth).
#include <winsock2.h>
#include <mswsock.h>
#include <windows.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

namespace iocaf::bench {

class raw_iocp_server {
public:
  enum kind { accept_op, recv_op, send_op };
  struct conn;
  struct ctx {
    OVERLAPPED ov{};
    kind k = recv_op;
    conn* c = nullptr;
    SOCKET accepted = INVALID_SOCKET;
    char addresses[2 * (sizeof(sockaddr_storage) + 16)];
  };
  struct conn {
    SOCKET s = INVALID_SOCKET;
    ctx rx, tx;
    std::vector<char> buf = std::vector<char>(64 * 1024);
    std::size_t to_send = 0, sent = 0;
  };

  explicit raw_iocp_server(bool skip_on_success = false) : skip_on_success_(skip_on_success) {}

  // Listens on 127.0.0.1:port (0: any free port) and returns the port, or 0
  // when the listener could not be set up (WSAGetLastError() says why; then
  // no stop()).
  std::uint16_t start(std::uint16_t port = 0) {
    listener_ = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listener_ == INVALID_SOCKET || bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        listen(listener_, SOMAXCONN) != 0) {
      int e = WSAGetLastError();
      closesocket(std::exchange(listener_, INVALID_SOCKET));
      WSASetLastError(e);
      return 0;
    }
    port_ = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
    int len = sizeof(a);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    CreateIoCompletionPort(reinterpret_cast<HANDLE>(listener_), port_, 0, 0);
    GUID id = WSAID_ACCEPTEX;
    DWORD bytes = 0;
    WSAIoctl(listener_, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof(id), &accept_ex_, sizeof(accept_ex_), &bytes,
             nullptr, nullptr);
    for (auto& slot : accepts_)
      post_accept(slot);
    thread_ = std::thread([this] { run(); });
    return ntohs(a.sin_port);
  }

  void stop() {
    PostQueuedCompletionStatus(port_, 0, 1, nullptr);
    thread_.join();
    // Closing the sockets aborts the pending operations; their packets are
    // drained (bounded) before the memory goes.
    closesocket(listener_);
    for (auto& c : conns_)
      closesocket(c->s);
    OVERLAPPED_ENTRY e[64];
    ULONG n = 0;
    while (GetQueuedCompletionStatusEx(port_, e, 64, &n, 500, FALSE) && n > 0) {
    }
    for (auto& slot : accepts_)
      closesocket(slot.accepted);
    CloseHandle(port_);
  }

private:
  void post_accept(ctx& slot) {
    slot = ctx{};
    slot.k = accept_op;
    slot.accepted = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED);
    DWORD got = 0;
    accept_ex_(listener_, slot.accepted, slot.addresses, 0, sizeof(sockaddr_storage) + 16,
               sizeof(sockaddr_storage) + 16, &got, &slot.ov);
  }
  // Posts the next receive; with skip_on_success, a receive (and then its
  // echo) that completes at once is handled here, in a loop, since no packet
  // will come for it.
  void post_recv(conn& c) {
    for (;;) {
      c.rx.ov = OVERLAPPED{};
      WSABUF b{static_cast<ULONG>(c.buf.size()), c.buf.data()};
      DWORD flags = 0, got = 0;
      if (WSARecv(c.s, &b, 1, skip_on_success_ ? &got : nullptr, &flags, &c.rx.ov, nullptr) == SOCKET_ERROR) {
        if (WSAGetLastError() != WSA_IO_PENDING)
          closesocket(std::exchange(c.s, INVALID_SOCKET));
        return;
      }
      if (!skip_on_success_)
        return; // its packet comes all the same
      if (got == 0) {
        closesocket(std::exchange(c.s, INVALID_SOCKET));
        return;
      }
      c.to_send = got;
      c.sent = 0;
      if (!send_rest(c))
        return;
    }
  }
  // Sends what is left of the echo. True when all of it went at once (only
  // with skip_on_success): the caller posts the next receive.
  bool send_rest(conn& c) {
    for (;;) {
      c.tx.ov = OVERLAPPED{};
      WSABUF b{static_cast<ULONG>(c.to_send - c.sent), c.buf.data() + c.sent};
      DWORD got = 0;
      if (WSASend(c.s, &b, 1, skip_on_success_ ? &got : nullptr, 0, &c.tx.ov, nullptr) == SOCKET_ERROR) {
        if (WSAGetLastError() != WSA_IO_PENDING)
          closesocket(std::exchange(c.s, INVALID_SOCKET));
        return false;
      }
      if (!skip_on_success_)
        return false;
      c.sent += got;
      if (c.sent >= c.to_send)
        return true;
    }
  }
  void run() {
    OVERLAPPED_ENTRY entries[64];
    for (;;) {
      ULONG n = 0;
      if (!GetQueuedCompletionStatusEx(port_, entries, 64, &n, INFINITE, FALSE))
        return;
      for (ULONG i = 0; i < n; ++i) {
        if (entries[i].lpCompletionKey == 1)
          return;
        auto* x = reinterpret_cast<ctx*>(entries[i].lpOverlapped);
        DWORD bytes = entries[i].dwNumberOfBytesTransferred;
        bool ok = entries[i].lpOverlapped->Internal == 0;
        if (x->k == accept_op) {
          if (ok) {
            auto c = std::make_unique<conn>();
            c->s = x->accepted;
            c->rx.k = recv_op;
            c->tx.k = send_op;
            c->rx.c = c->tx.c = c.get();
            setsockopt(c->s, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, reinterpret_cast<char*>(&listener_),
                       sizeof(listener_));
            BOOL one = TRUE;
            setsockopt(c->s, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<char*>(&one), sizeof(one));
            CreateIoCompletionPort(reinterpret_cast<HANDLE>(c->s), port_, 0, 0);
            if (skip_on_success_ &&
                !SetFileCompletionNotificationModes(reinterpret_cast<HANDLE>(c->s),
                                                    FILE_SKIP_COMPLETION_PORT_ON_SUCCESS |
                                                      FILE_SKIP_SET_EVENT_ON_HANDLE))
              closesocket(std::exchange(c->s, INVALID_SOCKET)); // the client sees it fail
            else
              post_recv(*c);
            conns_.push_back(std::move(c));
          } else {
            closesocket(x->accepted);
          }
          post_accept(*x);
        } else if (x->k == recv_op) {
          if (!ok || bytes == 0) {
            closesocket(std::exchange(x->c->s, INVALID_SOCKET));
            continue;
          }
          x->c->to_send = bytes;
          x->c->sent = 0;
          if (send_rest(*x->c))
            post_recv(*x->c);
        } else {
          if (!ok) {
            closesocket(std::exchange(x->c->s, INVALID_SOCKET));
            continue;
          }
          x->c->sent += bytes;
          if (x->c->sent >= x->c->to_send || send_rest(*x->c))
            post_recv(*x->c);
        }
      }
    }
  }

  bool skip_on_success_;
  HANDLE port_ = nullptr;
  SOCKET listener_ = INVALID_SOCKET;
  LPFN_ACCEPTEX accept_ex_ = nullptr;
  ctx accepts_[8];
  std::vector<std::unique_ptr<conn>> conns_;
  std::thread thread_;
};

} // namespace iocaf::bench
