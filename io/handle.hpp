#pragma once
// Owned Win32 resources: one owner, closed exactly once. One template for
// every kind (a HANDLE, a SOCKET), its traits say what "none" is and how
// to close it.
#include <windows.h>

#include <utility>

namespace iocaf::io {

template <class Traits>
class unique_resource {
public:
  using native_type = typename Traits::native_type;

  unique_resource() = default;
  explicit unique_resource(native_type v) : v_(v) {}
  unique_resource(unique_resource&& other) noexcept : v_(other.release()) {}
  unique_resource& operator=(unique_resource&& other) noexcept {
    if (this != &other)
      reset(other.release());
    return *this;
  }
  unique_resource(const unique_resource&) = delete;
  unique_resource& operator=(const unique_resource&) = delete;
  ~unique_resource() { reset(); }

  native_type get() const { return v_; }
  // As a kernel HANDLE (for the completion port and CancelIoEx).
  HANDLE handle() const { return Traits::as_handle(v_); }
  bool valid() const { return Traits::valid(v_); }
  explicit operator bool() const { return valid(); }
  native_type release() { return std::exchange(v_, Traits::none()); }
  void reset(native_type v = Traits::none()) {
    if (valid())
      Traits::close(v_);
    v_ = v;
  }

private:
  native_type v_ = Traits::none();
};

struct handle_traits {
  using native_type = HANDLE;
  static HANDLE none() { return nullptr; }
  // Win32 has two "no handle" values: CreateFile's INVALID_HANDLE_VALUE and null.
  static bool valid(HANDLE h) { return h != nullptr && h != INVALID_HANDLE_VALUE; }
  static void close(HANDLE h) { CloseHandle(h); }
  static HANDLE as_handle(HANDLE h) { return h; }
};

using unique_handle = unique_resource<handle_traits>;

} // namespace iocaf::io
