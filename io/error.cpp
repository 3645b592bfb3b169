#include "io/error.hpp"

#include <windows.h>
#include <winternl.h>

namespace iocaf::io {

std::string system_message(unsigned long code) {
  wchar_t* text = nullptr;
  DWORD n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM
                             | FORMAT_MESSAGE_IGNORE_INSERTS,
                           nullptr, code, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
  if (n == 0 || text == nullptr)
    return "unknown error " + std::to_string(code);
  int len = WideCharToMultiByte(CP_UTF8, 0, text, static_cast<int>(n), nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(len > 0 ? len : 0), '\0');
  if (len > 0)
    WideCharToMultiByte(CP_UTF8, 0, text, static_cast<int>(n), out.data(), len, nullptr, nullptr);
  LocalFree(text);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' '))
    out.pop_back();
  return out;
}

std::string error::message() const {
  return system_message(code_);
}

std::string error::to_string() const {
  if (code_ == 0)
    return "success";
  return call_ + " failed: " + std::to_string(code_) + " (" + message() + ")";
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
