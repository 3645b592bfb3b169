#pragma once
// Overlapped TCP sockets: Winsock start-up, addresses, and the Win32 calls
// that put socket operations in flight (AcceptEx, ConnectEx, WSARecv,
// WSASend). Each start_* returns the Win32/WSA code of an inline failure (no
// packet will come) or 0 when a packet will arrive.
//
// A SOCKET is a kernel HANDLE: the completion port and CancelIoEx take it as
// reinterpret_cast<HANDLE>(s) (see as_handle()).
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>

#include "io/error.hpp"
#include "io/handle.hpp"
#include "io/operation.hpp"

#include <cstdint>
#include <string>
#include <utility>

namespace iocaf::io {

// WSAStartup once per process (thread-safe). Returns its error, if any.
error winsock_init();

inline HANDLE as_handle(SOCKET s) { return reinterpret_cast<HANDLE>(s); }

struct socket_traits {
  using native_type = SOCKET;
  static SOCKET none() { return INVALID_SOCKET; }
  static bool valid(SOCKET s) { return s != INVALID_SOCKET; }
  static void close(SOCKET s) { closesocket(s); }
  static HANDLE as_handle(SOCKET s) { return io::as_handle(s); }
};

using unique_socket = unique_resource<socket_traits>;

// An IPv4 or IPv6 address with port.
struct socket_address {
  sockaddr_storage storage{};
  int length = 0;

  int family() const { return storage.ss_family; }
  std::uint16_t port() const;
  // "127.0.0.1:80" or "[::1]:80".
  std::string to_string() const;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// Parses a numeric IPv4 or IPv6 address (no name resolution: a name is an error).
result<socket_address> parse_address(const std::string& host, std::uint16_t port);
// The wildcard-port address of the same family (to bind before ConnectEx).
socket_address any_address(int family);

// An overlapped TCP socket (WSA_FLAG_OVERLAPPED), not inheritable.
result<unique_socket> open_tcp_socket(int family);
error bind_socket(SOCKET s, const socket_address& addr);
error listen_socket(SOCKET s, int backlog);
result<socket_address> local_address(SOCKET s);
result<socket_address> peer_address(SOCKET s);

// Looks up AcceptEx, ConnectEx and GetAcceptExSockaddrs for s's address
// family (WSAIoctl SIO_GET_EXTENSION_FUNCTION_POINTER, once per family).
// Call it before start_accept/start_connect: they can only return a code,
// which their callers would report as "AcceptEx failed"/"ConnectEx failed".
error load_extensions(SOCKET s);

// AcceptEx writes both addresses into the operation's buffer: this many bytes each.
constexpr std::size_t accept_address_bytes = sizeof(sockaddr_storage) + 16;

// AcceptEx on `listener` (the operation's target) for the fresh socket
// `accepted`, which must stay open until the packet arrives. Receives no data.
unsigned long start_accept(operation& op, SOCKET listener, SOCKET accepted);
// After a successful accept packet: SO_UPDATE_ACCEPT_CONTEXT, then the
// addresses from the operation's buffer (GetAcceptExSockaddrs).
error finish_accept(SOCKET listener, SOCKET accepted);
std::pair<socket_address, socket_address> accept_addresses(SOCKET listener, operation& op); // local, remote

// ConnectEx on `s`, which must be bound already (any_address + bind_socket).
unsigned long start_connect(operation& op, SOCKET s, const socket_address& to);
// After a successful connect packet: SO_UPDATE_CONNECT_CONTEXT.
error finish_connect(SOCKET s);

// WSARecv into the operation's buffer (grown to max_bytes plus room for the
// receive flags, which must outlive the call under Wine).
unsigned long start_recv(operation& op, SOCKET s, std::size_t max_bytes);
// WSASend of the first `bytes` of the operation's buffer.
unsigned long start_send(operation& op, SOCKET s, std::size_t bytes);

// recv on a non-blocking socket: 0 and `got` > 0 for data, 0 and `got` == 0
// for the peer's FIN, WSAEWOULDBLOCK when nothing is there, else the code.
unsigned long recv_now(SOCKET s, char* into, std::size_t max_bytes, std::size_t& got);
// send on a non-blocking socket: 0 and `sent` (at least 1, maybe fewer
// than `bytes`) when the kernel took data at once, WSAEWOULDBLOCK when its
// send buffer is full, else the code. No packet comes for it.
unsigned long send_now(SOCKET s, const char* from, std::size_t bytes, std::size_t& sent);
// FIONBIO: recv_now and send_now never block. Overlapped calls stay overlapped.
error set_non_blocking(SOCKET s);

// The WSA code of a completed operation that failed (WSAGetOverlappedResult
// turns the packet's NTSTATUS into WSAECONNRESET, WSAECONNREFUSED, ...).
// Falls back to `packet_error` if the call cannot tell.
unsigned long socket_error_of(SOCKET s, operation& op, unsigned long packet_error);

// shutdown(SD_SEND): our FIN; the peer reads end-of-file.
error shutdown_send(SOCKET s);
// SO_LINGER {on, 0}: closesocket then resets the connection (abortive close).
error set_abortive_close(SOCKET s);
error set_no_delay(SOCKET s, bool on);

// Codes that mean "the peer reset or aborted the connection".
bool is_reset(unsigned long code);

// What a failed accept (AcceptEx, its packet, the socket for it, or
// SO_UPDATE_ACCEPT_CONTEXT) means for the listener.
enum class accept_failure : std::uint8_t {
  peer,      // that client reset or left before the accept completed: accept again at once
  transient, // short of sockets, buffers or memory, or a code we do not know: accept again after a backoff
  fatal,     // the listening socket itself is unusable (not a socket, not listening, no Winsock): stop
};
accept_failure classify_accept_error(unsigned long code);
// Whether s is (still) a listening socket (SO_ACCEPTCONN). A failure whose
// code says "fatal" is checked against this before a listener believes it:
// Wine's AcceptEx reported WSAEINVAL at the open-file limit while the socket
// listened on.
result<bool> is_listening(SOCKET s);
const char* to_string(accept_failure f);
// Codes that mean "nobody listens there" / "no route".
bool is_refused(unsigned long code);
bool is_unreachable(unsigned long code);

} // namespace iocaf::io
