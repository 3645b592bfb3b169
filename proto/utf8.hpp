// UTF-8 decoding, strict (shortest form, no surrogates, at most U+10FFFF).
// Portable: no Windows headers, no CAF. Used by the chat codec and by io/text.
#pragma once

#include <cstddef>
#include <string_view>

namespace iocaf::proto {

// Decodes the code point starting at s[i] and advances i past it. Returns
// false, leaving i alone, if the bytes there are not valid UTF-8: a stray
// continuation byte, a truncated sequence, an overlong form, a surrogate or
// a value above U+10FFFF.
inline bool next_code_point(std::string_view s, std::size_t& i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len;
  char32_t min;
  if (b0 < 0x80) {
    cp = b0;
    ++i;
    return true;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (s.size() - i < len)
    return false;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80)
      return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return false;
  i += len;
  return true;
}

// Offset of the first byte that does not start a valid UTF-8 sequence, or npos.
inline std::size_t first_invalid_utf8(std::string_view s) {
  char32_t cp = 0;
  for (std::size_t i = 0; i < s.size();)
    if (!next_code_point(s, i, cp))
      return i;
  return std::string_view::npos;
}

} // namespace iocaf::proto
