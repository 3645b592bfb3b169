#pragma once
// Win32 failures as values: the call that failed, its Win32 code, the code's
// name and the system's own text for it (FormatMessageW), never a bare bool.
// FormatMessage under Wine knows few Winsock texts: a table of the common
// Winsock codes (and the Win32 codes sockets and pipes produce) fills in.
#include <string>
#include <utility>

namespace iocaf::io {

class error {
public:
  error() = default;
  error(std::string call, unsigned long code) : call_(std::move(call)), code_(code) {}

  explicit operator bool() const { return code_ != 0; }
  const std::string& call() const { return call_; }
  unsigned long code() const { return code_; }
  std::string message() const;   // FormatMessage text, trimmed (see system_message)
  // "connect failed: 10061 WSAECONNREFUSED (No connection could be made ...)";
  // without a name for codes outside the table: "CreateFileW failed: 1920 (...)".
  std::string to_string() const;

private:
  std::string call_;
  unsigned long code_ = 0;
};

// The calling thread's GetLastError() for `call`.
error last_error(const char* call);
// A Win32 or Winsock code's text: FormatMessage's when it knows the code,
// else the table's, else "unknown error N".
std::string system_message(unsigned long code);
// The code's symbolic name ("WSAECONNREFUSED", "ERROR_BROKEN_PIPE"), or ""
// for a code outside the table.
const char* error_name(unsigned long code);
// Converts an NTSTATUS (OVERLAPPED::Internal) into a Win32 error code.
unsigned long win32_from_status(long status);

// A value or an error.
template <class T>
class result {
public:
  result(T value) : value_(std::move(value)), ok_(true) {}
  result(error e) : error_(std::move(e)), ok_(false) {}
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  T& value() { return value_; }
  const T& value() const { return value_; }
  T& operator*() { return value_; }
  T* operator->() { return &value_; }
  const error& err() const { return error_; }

private:
  T value_{};
  error error_;
  bool ok_;
};

} // namespace iocaf::io
