#include "io/text.hpp"
#include "proto/utf8.hpp"

#include <shellapi.h>

#include <algorithm>
#include <iterator>
#include <memory>

namespace iocaf::io {

namespace {

// Offset of the first byte that does not start a valid UTF-8 sequence
// (shortest form, no surrogates, at most U+10FFFF), or npos. Checked here
// rather than trusting MB_ERR_INVALID_CHARS, whose strictness differs
// between Windows versions and Wine, and to name the offset.
std::size_t first_bad_utf8(std::string_view s) {
  return proto::first_invalid_utf8(s);
}

// Index of the first unpaired surrogate, or npos.
std::size_t first_lone_surrogate(std::wstring_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const wchar_t c = s[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < s.size() && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF)
      ++i;
    else if (c >= 0xD800 && c <= 0xDFFF)
      return i;
  }
  return std::wstring_view::npos;
}

} // namespace

result<std::wstring> utf8_to_utf16(std::string_view utf8) {
  if (utf8.empty())
    return std::wstring{};
  if (auto bad = first_bad_utf8(utf8); bad != std::string_view::npos)
    return error{"utf8_to_utf16(invalid UTF-8 at byte " + std::to_string(bad) + ")", ERROR_NO_UNICODE_TRANSLATION};
  if (utf8.size() > 0x7FFFFFFF)
    return error{"utf8_to_utf16(" + std::to_string(utf8.size()) + " bytes)", ERROR_INVALID_PARAMETER};
  const int in = static_cast<int>(utf8.size());
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), in, nullptr, 0);
  if (n == 0)
    return last_error("MultiByteToWideChar(CP_UTF8, size)");
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), in, out.data(), n) != n)
    return last_error("MultiByteToWideChar(CP_UTF8)");
  return out;
}

result<std::string> utf16_to_utf8(std::wstring_view utf16) {
  if (utf16.empty())
    return std::string{};
  if (auto bad = first_lone_surrogate(utf16); bad != std::wstring_view::npos)
    return error{"utf16_to_utf8(lone surrogate at unit " + std::to_string(bad) + ")", ERROR_NO_UNICODE_TRANSLATION};
  if (utf16.size() > 0x7FFFFFFF / 4)
    return error{"utf16_to_utf8(" + std::to_string(utf16.size()) + " units)", ERROR_INVALID_PARAMETER};
  const int in = static_cast<int>(utf16.size());
  int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, utf16.data(), in, nullptr, 0, nullptr, nullptr);
  if (n == 0)
    return last_error("WideCharToMultiByte(CP_UTF8, size)");
  std::string out(static_cast<std::size_t>(n), '\0');
  if (WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, utf16.data(), in, out.data(), n, nullptr, nullptr) != n)
    return last_error("WideCharToMultiByte(CP_UTF8)");
  return out;
}

result<std::vector<std::string>> argv_utf8() {
  int argc = 0;
  std::unique_ptr<LPWSTR, decltype(&LocalFree)> argv{CommandLineToArgvW(GetCommandLineW(), &argc), &LocalFree};
  if (!argv)
    return last_error("CommandLineToArgvW");
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    auto arg = utf16_to_utf8(argv.get()[i]);
    if (!arg)
      return error{"argument " + std::to_string(i) + ": " + arg.err().call(), arg.err().code()};
    out.push_back(std::move(*arg));
  }
  return out;
}

bool is_console(HANDLE h) {
  DWORD mode = 0;
  return h != nullptr && h != INVALID_HANDLE_VALUE && GetConsoleMode(h, &mode) != 0;
}

error write_text(HANDLE h, std::string_view utf8) {
  if (is_console(h)) {
    auto wide = utf8_to_utf16(utf8);
    if (!wide)
      return wide.err();
    for (std::size_t at = 0; at < wide->size();) {
      DWORD wrote = 0;
      // Chunks well below the console's 64 KiB message limit.
      const auto chunk = static_cast<DWORD>(std::min<std::size_t>(wide->size() - at, 8192));
      if (!WriteConsoleW(h, wide->data() + at, chunk, &wrote, nullptr))
        return last_error("WriteConsoleW");
      if (wrote == 0)
        return error{"WriteConsoleW(wrote nothing)", ERROR_WRITE_FAULT};
      at += wrote;
    }
    return {};
  }
  for (std::size_t at = 0; at < utf8.size();) {
    DWORD wrote = 0;
    const auto chunk = static_cast<DWORD>(std::min<std::size_t>(utf8.size() - at, 1 << 20));
    if (!WriteFile(h, utf8.data() + at, chunk, &wrote, nullptr))
      return last_error("WriteFile");
    if (wrote == 0)
      return error{"WriteFile(wrote nothing)", ERROR_WRITE_FAULT};
    at += wrote;
  }
  return {};
}

result<std::optional<std::string>> read_console_line(HANDLE console) {
  std::wstring line;
  for (;;) {
    wchar_t buf[512];
    DWORD got = 0;
    if (!ReadConsoleW(console, buf, static_cast<DWORD>(std::size(buf)), &got, nullptr))
      return last_error("ReadConsoleW");
    if (got == 0) // the console was closed
      break;
    line.append(buf, got);
    if (line.back() == L'\n')
      break;
  }
  // Ctrl+Z as the first character of a line ends the input, as for the C runtime.
  if (line.empty() || line[0] == L'\x1A')
    return std::optional<std::string>{};
  while (!line.empty() && (line.back() == L'\n' || line.back() == L'\r'))
    line.pop_back();
  auto text = utf16_to_utf8(line);
  if (!text)
    return text.err();
  return std::optional<std::string>{std::move(*text)};
}

result<std::vector<key_press>> read_console_keys(HANDLE console) {
  INPUT_RECORD records[64];
  DWORD got = 0;
  if (!ReadConsoleInputW(console, records, static_cast<DWORD>(std::size(records)), &got))
    return last_error("ReadConsoleInputW");
  std::vector<key_press> keys;
  for (DWORD i = 0; i < got; ++i) {
    const auto& r = records[i];
    if (r.EventType != KEY_EVENT || !r.Event.KeyEvent.bKeyDown)
      continue;
    const auto& k = r.Event.KeyEvent;
    for (WORD n = 0; n < std::max<WORD>(k.wRepeatCount, 1); ++n)
      keys.push_back(key_press{k.uChar.UnicodeChar, k.wVirtualKeyCode, k.dwControlKeyState});
  }
  return keys;
}

} // namespace iocaf::io
