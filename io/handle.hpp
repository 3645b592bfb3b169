#pragma once
// Owned Win32 handles: one owner, closed exactly once.
#include <windows.h>

#include <utility>

namespace iocaf::io {

class unique_handle {
public:
  unique_handle() = default;
  explicit unique_handle(HANDLE h) : h_(h) {}
  unique_handle(unique_handle&& other) noexcept : h_(other.release()) {}
  unique_handle& operator=(unique_handle&& other) noexcept {
    if (this != &other)
      reset(other.release());
    return *this;
  }
  unique_handle(const unique_handle&) = delete;
  unique_handle& operator=(const unique_handle&) = delete;
  ~unique_handle() { reset(); }

  HANDLE get() const { return h_; }
  bool valid() const { return h_ != nullptr && h_ != INVALID_HANDLE_VALUE; }
  explicit operator bool() const { return valid(); }
  HANDLE release() { return std::exchange(h_, nullptr); }
  void reset(HANDLE h = nullptr) {
    if (valid())
      CloseHandle(h_);
    h_ = h;
  }

private:
  HANDLE h_ = nullptr;
};

} // namespace iocaf::io
