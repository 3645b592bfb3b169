#include "io/error.hpp"

#include <windows.h>
#include <winternl.h>

namespace iocaf::io {

namespace {

struct known_code {
  unsigned long code;
  const char* name;
  const char* text; // Windows' own text, for when FormatMessage has none
};

// Winsock codes, then the Win32 codes that sockets and pipes complete with
// (WSA_OPERATION_ABORTED, WSA_IO_PENDING, ... are these Win32 codes).
constexpr known_code known_codes[] = {
  {10004, "WSAEINTR", "A blocking operation was interrupted by a call to WSACancelBlockingCall."},
  {10009, "WSAEBADF", "The file handle supplied is not valid."},
  {10013, "WSAEACCES", "An attempt was made to access a socket in a way forbidden by its access permissions."},
  {10014, "WSAEFAULT",
   "The system detected an invalid pointer address in attempting to use a pointer argument in a call."},
  {10022, "WSAEINVAL", "An invalid argument was supplied."},
  {10024, "WSAEMFILE", "Too many open sockets."},
  {10035, "WSAEWOULDBLOCK", "A non-blocking socket operation could not be completed immediately."},
  {10036, "WSAEINPROGRESS", "A blocking operation is currently executing."},
  {10037, "WSAEALREADY",
   "An operation was attempted on a non-blocking socket that already had an operation in progress."},
  {10038, "WSAENOTSOCK", "An operation was attempted on something that is not a socket."},
  {10039, "WSAEDESTADDRREQ", "A required address was omitted from an operation on a socket."},
  {10040, "WSAEMSGSIZE",
   "A message sent on a datagram socket was larger than the internal message buffer or some other network limit, "
   "or the buffer used to receive a datagram into was smaller than the datagram itself."},
  {10041, "WSAEPROTOTYPE",
   "A protocol was specified in the socket function call that does not support the semantics of the socket type "
   "requested."},
  {10042, "WSAENOPROTOOPT",
   "An unknown, invalid, or unsupported option or level was specified in a getsockopt or setsockopt call."},
  {10043, "WSAEPROTONOSUPPORT",
   "The requested protocol has not been configured into the system, or no implementation for it exists."},
  {10044, "WSAESOCKTNOSUPPORT", "The support for the specified socket type does not exist in this address family."},
  {10045, "WSAEOPNOTSUPP", "The attempted operation is not supported for the type of object referenced."},
  {10046, "WSAEPFNOSUPPORT",
   "The protocol family has not been configured into the system or no implementation for it exists."},
  {10047, "WSAEAFNOSUPPORT", "An address incompatible with the requested protocol was used."},
  {10048, "WSAEADDRINUSE",
   "Only one usage of each socket address (protocol/network address/port) is normally permitted."},
  {10049, "WSAEADDRNOTAVAIL", "The requested address is not valid in its context."},
  {10050, "WSAENETDOWN", "A socket operation encountered a dead network."},
  {10051, "WSAENETUNREACH", "A socket operation was attempted to an unreachable network."},
  {10052, "WSAENETRESET",
   "The connection has been broken due to keep-alive activity detecting a failure while the operation was in "
   "progress."},
  {10053, "WSAECONNABORTED", "An established connection was aborted by the software in your host machine."},
  {10054, "WSAECONNRESET", "An existing connection was forcibly closed by the remote host."},
  {10055, "WSAENOBUFS",
   "An operation on a socket could not be performed because the system lacked sufficient buffer space or because "
   "a queue was full."},
  {10056, "WSAEISCONN", "A connect request was made on an already connected socket."},
  {10057, "WSAENOTCONN",
   "A request to send or receive data was disallowed because the socket is not connected and (when sending on a "
   "datagram socket using a sendto call) no address was supplied."},
  {10058, "WSAESHUTDOWN",
   "A request to send or receive data was disallowed because the socket had already been shut down in that "
   "direction with a previous shutdown call."},
  {10060, "WSAETIMEDOUT",
   "A connection attempt failed because the connected party did not properly respond after a period of time, or "
   "established connection failed because connected host has failed to respond."},
  {10061, "WSAECONNREFUSED", "No connection could be made because the target machine actively refused it."},
  {10064, "WSAEHOSTDOWN", "A socket operation failed because the destination host was down."},
  {10065, "WSAEHOSTUNREACH", "A socket operation was attempted to an unreachable host."},
  {10067, "WSAEPROCLIM",
   "A Windows Sockets implementation may have a limit on the number of applications that may use it "
   "simultaneously."},
  {10091, "WSASYSNOTREADY",
   "WSAStartup cannot function at this time because the underlying system it uses to provide network services is "
   "currently unavailable."},
  {10092, "WSAVERNOTSUPPORTED", "The Windows Sockets version requested is not supported."},
  {10093, "WSANOTINITIALISED", "Either the application has not called WSAStartup, or WSAStartup failed."},
  {10101, "WSAEDISCON",
   "Returned by WSARecv or WSARecvFrom to indicate the remote party has initiated a graceful shutdown sequence."},
  {11001, "WSAHOST_NOT_FOUND", "No such host is known."},
  {11002, "WSATRY_AGAIN",
   "This is usually a temporary error during hostname resolution and means that the local server did not receive a "
   "response from an authoritative server."},
  {11003, "WSANO_RECOVERY", "A non-recoverable error occurred during a database lookup."},
  {11004, "WSANO_DATA", "The requested name is valid, but no data of the requested type was found."},
  {ERROR_FILE_NOT_FOUND, "ERROR_FILE_NOT_FOUND", "The system cannot find the file specified."},
  {ERROR_ACCESS_DENIED, "ERROR_ACCESS_DENIED", "Access is denied."},
  {ERROR_INVALID_HANDLE, "ERROR_INVALID_HANDLE", "The handle is invalid."},
  {ERROR_NOT_ENOUGH_MEMORY, "ERROR_NOT_ENOUGH_MEMORY",
   "Not enough memory resources are available to process this command."},
  {ERROR_NETNAME_DELETED, "ERROR_NETNAME_DELETED", "The specified network name is no longer available."},
  {ERROR_INVALID_PARAMETER, "ERROR_INVALID_PARAMETER", "The parameter is incorrect."},
  {ERROR_BROKEN_PIPE, "ERROR_BROKEN_PIPE", "The pipe has been ended."},
  {ERROR_SEM_TIMEOUT, "ERROR_SEM_TIMEOUT", "The semaphore timeout period has expired."},
  {ERROR_PIPE_BUSY, "ERROR_PIPE_BUSY", "All pipe instances are busy."},
  {ERROR_NO_DATA, "ERROR_NO_DATA", "The pipe is being closed."},
  {ERROR_PIPE_NOT_CONNECTED, "ERROR_PIPE_NOT_CONNECTED", "No process is on the other end of the pipe."},
  {ERROR_PIPE_CONNECTED, "ERROR_PIPE_CONNECTED", "There is a process on other end of the pipe."},
  {ERROR_OPERATION_ABORTED, "ERROR_OPERATION_ABORTED",
   "The I/O operation has been aborted because of either a thread exit or an application request."},
  {ERROR_IO_INCOMPLETE, "ERROR_IO_INCOMPLETE", "Overlapped I/O event is not in a signaled state."},
  {ERROR_IO_PENDING, "ERROR_IO_PENDING", "Overlapped I/O operation is in progress."},
  {ERROR_CONNECTION_REFUSED, "ERROR_CONNECTION_REFUSED", "The remote computer refused the network connection."},
  {ERROR_NETWORK_UNREACHABLE, "ERROR_NETWORK_UNREACHABLE", "The network location cannot be reached."},
  {ERROR_HOST_UNREACHABLE, "ERROR_HOST_UNREACHABLE", "The remote system is not reachable by the transport."},
  {ERROR_CONNECTION_ABORTED, "ERROR_CONNECTION_ABORTED", "The network connection was aborted by the local system."},
  {ERROR_NO_SYSTEM_RESOURCES, "ERROR_NO_SYSTEM_RESOURCES",
   "Insufficient system resources exist to complete the requested service."},
};

const known_code* find_known(unsigned long code) {
  for (const auto& k : known_codes)
    if (k.code == code)
      return &k;
  return nullptr;
}

// FormatMessage's text, trimmed, or "" when it has none.
std::string format_message(unsigned long code) {
  wchar_t* text = nullptr;
  DWORD n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM
                             | FORMAT_MESSAGE_IGNORE_INSERTS,
                           nullptr, code, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
  if (n == 0 || text == nullptr)
    return {};
  int len = WideCharToMultiByte(CP_UTF8, 0, text, static_cast<int>(n), nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(len > 0 ? len : 0), '\0');
  if (len > 0)
    WideCharToMultiByte(CP_UTF8, 0, text, static_cast<int>(n), out.data(), len, nullptr, nullptr);
  LocalFree(text);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' '))
    out.pop_back();
  return out;
}

} // namespace

std::string system_message(unsigned long code) {
  auto text = format_message(code);
  if (!text.empty())
    return text;
  if (auto* k = find_known(code))
    return k->text;
  return "unknown error " + std::to_string(code);
}

const char* error_name(unsigned long code) {
  auto* k = find_known(code);
  return k != nullptr ? k->name : "";
}

std::string error::message() const {
  return system_message(code_);
}

std::string error::to_string() const {
  if (code_ == 0)
    return "success";
  std::string name = error_name(code_);
  return call_ + " failed: " + std::to_string(code_) + (name.empty() ? "" : " " + name) + " (" + message() + ")";
}

error last_error(const char* call) {
  return error{call, GetLastError()};
}

unsigned long win32_from_status(long status) {
  if (status == 0)
    return 0;
  return RtlNtStatusToDosError(static_cast<NTSTATUS>(status));
}

} // namespace iocaf::io
