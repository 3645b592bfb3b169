#pragma once
// IOCAF_SOAK=N multiplies the iteration counts of the race tests (default 1,
// clamped to 1..10000), for long soak runs.
#include <windows.h>

#include <cwchar>

namespace iocaf::test {

inline int soak_factor() {
  wchar_t buf[16] = {};
  DWORD n = GetEnvironmentVariableW(L"IOCAF_SOAK", buf, 16);
  if (n == 0 || n >= 16)
    return 1;
  long v = std::wcstol(buf, nullptr, 10);
  return v < 1 ? 1 : v > 10000 ? 10000 : static_cast<int>(v);
}

} // namespace iocaf::test
