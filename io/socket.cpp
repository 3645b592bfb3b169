#include "io/socket.hpp"

#include "io/fault.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <mutex>

namespace iocaf::io {

namespace {

error wsa_error(const char* call) {
  return error{call, static_cast<unsigned long>(WSAGetLastError())};
}

// The Microsoft provider's extension functions, looked up once per address
// family (WSAIoctl SIO_GET_EXTENSION_FUNCTION_POINTER on a socket of it).
struct extensions {
  LPFN_ACCEPTEX accept_ex = nullptr;
  LPFN_CONNECTEX connect_ex = nullptr;
  LPFN_GETACCEPTEXSOCKADDRS get_sockaddrs = nullptr;
};

template <class Fn>
unsigned long load_function(SOCKET s, GUID id, Fn& out) {
  DWORD bytes = 0;
  if (WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof(id), &out, sizeof(out), &bytes, nullptr,
               nullptr) == SOCKET_ERROR)
    return static_cast<unsigned long>(WSAGetLastError());
  return 0;
}

result<extensions> extensions_for(SOCKET s) {
  static std::mutex mtx;
  static extensions cache[2];
  static bool loaded[2] = {false, false};
  WSAPROTOCOL_INFOW info{};
  int len = sizeof(info);
  if (getsockopt(s, SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info), &len) == SOCKET_ERROR)
    return wsa_error("getsockopt(SO_PROTOCOL_INFOW)");
  int slot = info.iAddressFamily == AF_INET6 ? 1 : 0;
  std::lock_guard<std::mutex> lock(mtx);
  if (loaded[slot])
    return cache[slot];
  extensions ext;
  if (auto code = load_function(s, WSAID_ACCEPTEX, ext.accept_ex))
    return error{"WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER AcceptEx)", code};
  if (auto code = load_function(s, WSAID_CONNECTEX, ext.connect_ex))
    return error{"WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER ConnectEx)", code};
  if (auto code = load_function(s, WSAID_GETACCEPTEXSOCKADDRS, ext.get_sockaddrs))
    return error{"WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER GetAcceptExSockaddrs)", code};
  cache[slot] = ext;
  loaded[slot] = true;
  return ext;
}

socket_address from_sockaddr(const sockaddr* sa, int len) {
  socket_address out;
  if (sa != nullptr && len > 0 && static_cast<std::size_t>(len) <= sizeof(out.storage)) {
    std::memcpy(&out.storage, sa, static_cast<std::size_t>(len));
    out.length = len;
  }
  return out;
}

unsigned long pending_or_code(int rc) {
  if (rc == 0)
    return 0;
  auto code = static_cast<unsigned long>(WSAGetLastError());
  return code == WSA_IO_PENDING ? 0 : code;
}

} // namespace

error winsock_init() {
  static std::once_flag once;
  static int rc = 0;
  std::call_once(once, [] {
    WSADATA data;
    rc = WSAStartup(MAKEWORD(2, 2), &data);
  });
  return rc == 0 ? error{} : error{"WSAStartup", static_cast<unsigned long>(rc)};
}

std::uint16_t socket_address::port() const {
  if (family() == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

std::string socket_address::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(port());
  }
  if (family() == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    return "[" + std::string(text) + "]:" + std::to_string(port());
  }
  return "(no address)";
}

result<socket_address> parse_address(const std::string& host, std::uint16_t port) {
  if (auto err = winsock_init())
    return err;
  socket_address out;
  auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    out.length = sizeof(sockaddr_in);
    return out;
  }
  out = socket_address{};
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    out.length = sizeof(sockaddr_in6);
    return out;
  }
  // WSAEINVAL's text is vague; the caller names the address in its message.
  return error{"inet_pton(\"" + host + "\")", WSAEINVAL};
}

socket_address any_address(int family) {
  socket_address out;
  if (family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_any;
    out.length = sizeof(sockaddr_in6);
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_ANY);
    out.length = sizeof(sockaddr_in);
  }
  return out;
}

result<unique_socket> open_tcp_socket(int family) {
  if (auto err = winsock_init())
    return err;
  SOCKET s = WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (s == INVALID_SOCKET)
    return wsa_error("WSASocketW");
  return unique_socket{s};
}

error bind_socket(SOCKET s, const socket_address& addr) {
  if (bind(s, addr.get(), addr.length) == SOCKET_ERROR)
    return wsa_error("bind");
  return {};
}

error listen_socket(SOCKET s, int backlog) {
  if (listen(s, backlog) == SOCKET_ERROR)
    return wsa_error("listen");
  return {};
}

result<socket_address> local_address(SOCKET s) {
  socket_address out;
  out.length = sizeof(out.storage);
  if (getsockname(s, reinterpret_cast<sockaddr*>(&out.storage), &out.length) == SOCKET_ERROR)
    return wsa_error("getsockname");
  return out;
}

result<socket_address> peer_address(SOCKET s) {
  socket_address out;
  out.length = sizeof(out.storage);
  if (getpeername(s, reinterpret_cast<sockaddr*>(&out.storage), &out.length) == SOCKET_ERROR)
    return wsa_error("getpeername");
  return out;
}

error load_extensions(SOCKET s) {
  auto ext = extensions_for(s);
  return ext ? error{} : ext.err();
}

unsigned long start_accept(operation& op, SOCKET listener, SOCKET accepted) {
  // Only a code fits here: callers run load_extensions first, so that a
  // failed lookup is reported as the WSAIoctl it was.
  auto ext = extensions_for(listener);
  if (!ext)
    return ext.err().code();
  if (op.buffer().size() < 2 * accept_address_bytes)
    op.buffer().resize(2 * accept_address_bytes);
  if (unsigned long injected = 0; fault::take(fault::point::accept_start, injected))
    return injected;
  DWORD received = 0;
  BOOL ok = ext->accept_ex(listener, accepted, op.buffer().data(), 0, accept_address_bytes, accept_address_bytes,
                           &received, op.overlapped());
  return pending_or_code(ok ? 0 : SOCKET_ERROR);
}

error finish_accept(SOCKET listener, SOCKET accepted) {
  if (setsockopt(accepted, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, reinterpret_cast<const char*>(&listener),
                 sizeof(listener)) == SOCKET_ERROR)
    return wsa_error("setsockopt(SO_UPDATE_ACCEPT_CONTEXT)");
  return {};
}

std::pair<socket_address, socket_address> accept_addresses(SOCKET listener, operation& op) {
  auto ext = extensions_for(listener);
  if (!ext || op.buffer().size() < 2 * accept_address_bytes)
    return {};
  sockaddr* local = nullptr;
  sockaddr* remote = nullptr;
  int local_len = 0;
  int remote_len = 0;
  ext->get_sockaddrs(op.buffer().data(), 0, accept_address_bytes, accept_address_bytes, &local, &local_len, &remote,
                     &remote_len);
  return {from_sockaddr(local, local_len), from_sockaddr(remote, remote_len)};
}

unsigned long start_connect(operation& op, SOCKET s, const socket_address& to) {
  auto ext = extensions_for(s); // loaded by load_extensions first (see start_accept)
  if (!ext)
    return ext.err().code();
  BOOL ok = ext->connect_ex(s, to.get(), to.length, nullptr, 0, nullptr, op.overlapped());
  return pending_or_code(ok ? 0 : SOCKET_ERROR);
}

error finish_connect(SOCKET s) {
  if (setsockopt(s, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0) == SOCKET_ERROR)
    return wsa_error("setsockopt(SO_UPDATE_CONNECT_CONTEXT)");
  return {};
}

unsigned long start_recv(operation& op, SOCKET s, std::size_t max_bytes) {
  // Wine keeps the lpFlags pointer for the pending receive (and may write
  // through it later): it lives in the operation's buffer, after the data.
  if (op.buffer().size() < max_bytes + sizeof(DWORD))
    op.buffer().resize(max_bytes + sizeof(DWORD));
  auto* flags = reinterpret_cast<DWORD*>(op.buffer().data() + op.buffer().size() - sizeof(DWORD));
  *flags = 0;
  WSABUF buf{static_cast<ULONG>(max_bytes), op.buffer().data()};
  return pending_or_code(WSARecv(s, &buf, 1, nullptr, flags, op.overlapped(), nullptr));
}

unsigned long recv_now(SOCKET s, char* into, std::size_t max_bytes, std::size_t& got) {
  got = 0;
  int n = recv(s, into, static_cast<int>(std::min<std::size_t>(max_bytes, INT_MAX)), 0);
  if (n == SOCKET_ERROR)
    return static_cast<unsigned long>(WSAGetLastError());
  got = static_cast<std::size_t>(n);
  return 0;
}

unsigned long send_now(SOCKET s, const char* from, std::size_t bytes, std::size_t& sent) {
  sent = 0;
  int n = send(s, from, static_cast<int>(std::min<std::size_t>(bytes, INT_MAX)), 0);
  if (n == SOCKET_ERROR)
    return static_cast<unsigned long>(WSAGetLastError());
  sent = static_cast<std::size_t>(n);
  return 0;
}

error set_non_blocking(SOCKET s) {
  u_long on = 1;
  if (ioctlsocket(s, FIONBIO, &on) == SOCKET_ERROR)
    return wsa_error("ioctlsocket(FIONBIO)");
  return {};
}

unsigned long start_send(operation& op, SOCKET s, std::size_t bytes) {
  WSABUF buf{static_cast<ULONG>(bytes), op.buffer().data()};
  return pending_or_code(WSASend(s, &buf, 1, nullptr, 0, op.overlapped(), nullptr));
}

unsigned long socket_error_of(SOCKET s, operation& op, unsigned long packet_error) {
  DWORD bytes = 0;
  DWORD flags = 0;
  if (WSAGetOverlappedResult(s, op.overlapped(), &bytes, FALSE, &flags))
    return packet_error;
  auto code = static_cast<unsigned long>(WSAGetLastError());
  return code == 0 || code == WSA_IO_INCOMPLETE ? packet_error : code;
}

error shutdown_send(SOCKET s) {
  if (shutdown(s, SD_SEND) == SOCKET_ERROR)
    return wsa_error("shutdown(SD_SEND)");
  return {};
}

error set_abortive_close(SOCKET s) {
  linger l{1, 0};
  if (setsockopt(s, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&l), sizeof(l)) == SOCKET_ERROR)
    return wsa_error("setsockopt(SO_LINGER)");
  return {};
}

error set_no_delay(SOCKET s, bool on) {
  BOOL v = on ? TRUE : FALSE;
  if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&v), sizeof(v)) == SOCKET_ERROR)
    return wsa_error("setsockopt(TCP_NODELAY)");
  return {};
}

bool is_reset(unsigned long code) {
  return code == WSAECONNRESET || code == WSAECONNABORTED || code == ERROR_NETNAME_DELETED
         || code == ERROR_CONNECTION_ABORTED;
}

accept_failure classify_accept_error(unsigned long code) {
  switch (code) {
    case WSAECONNRESET:
    case WSAECONNABORTED:
    case WSAENETRESET:
    case WSAETIMEDOUT:
    case ERROR_NETNAME_DELETED:    // Windows: the client reset while queued
    case ERROR_CONNECTION_ABORTED:
    case WSAENOTCONN:              // Wine: the client reset while queued
      return accept_failure::peer;
    case WSAENOTSOCK:
    case WSAEINVAL:                // the socket is not listening
    case WSAEOPNOTSUPP:
    case WSAEFAULT:
    case WSANOTINITIALISED:
    case ERROR_INVALID_HANDLE:
    case ERROR_OPERATION_ABORTED:  // only our own cancel does this, when we close
      return accept_failure::fatal;
    default:                       // WSAEMFILE, WSAENOBUFS, ERROR_NO_SYSTEM_RESOURCES, ... and unknown codes
      return accept_failure::transient;
  }
}

result<bool> is_listening(SOCKET s) {
  BOOL on = FALSE;
  int len = sizeof(on);
  if (getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, reinterpret_cast<char*>(&on), &len) == SOCKET_ERROR)
    return wsa_error("getsockopt(SO_ACCEPTCONN)");
  return on != FALSE;
}

const char* to_string(accept_failure f) {
  switch (f) {
    case accept_failure::peer: return "peer";
    case accept_failure::transient: return "transient";
    case accept_failure::fatal: return "fatal";
  }
  return "?";
}

bool is_refused(unsigned long code) {
  return code == WSAECONNREFUSED || code == ERROR_CONNECTION_REFUSED;
}

bool is_unreachable(unsigned long code) {
  return code == WSAENETUNREACH || code == WSAEHOSTUNREACH || code == ERROR_NETWORK_UNREACHABLE
         || code == ERROR_HOST_UNREACHABLE;
}

} // namespace iocaf::io
