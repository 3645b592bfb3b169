#include "io/completion_port.hpp"

namespace iocaf::io {

result<completion_port> completion_port::create() {
  HANDLE h = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  if (h == nullptr)
    return last_error("CreateIoCompletionPort");
  return completion_port{h};
}

error completion_port::associate(HANDLE h, ULONG_PTR key) const {
  if (CreateIoCompletionPort(h, native(), key, 0) == nullptr)
    return last_error("CreateIoCompletionPort(associate)");
  return {};
}

error completion_port::post(ULONG_PTR key, DWORD bytes, OVERLAPPED* ov) const {
  if (!PostQueuedCompletionStatus(native(), bytes, key, ov))
    return last_error("PostQueuedCompletionStatus");
  return {};
}

result<std::size_t> completion_port::dequeue(OVERLAPPED_ENTRY* entries, std::size_t n,
                                             DWORD timeout_ms) const {
  ULONG got = 0;
  if (!GetQueuedCompletionStatusEx(native(), entries, static_cast<ULONG>(n), &got, timeout_ms,
                                   FALSE)) {
    DWORD code = GetLastError();
    if (code == WAIT_TIMEOUT)
      return std::size_t{0};
    return error{"GetQueuedCompletionStatusEx", code};
  }
  return static_cast<std::size_t>(got);
}

} // namespace iocaf::io
