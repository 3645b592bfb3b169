// Field checks of the chat codec (proto/chat.cpp): UTF-8 decoding, nick,
// room, text and number rules, and safe quoting of untrusted bytes for error
// messages. Internal to the codec; portable (no Windows headers, no CAF).
#pragma once

#include "proto/chat.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace iocaf::proto::detail {

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

inline bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

// Unicode White_Space characters that are not control characters.
inline bool is_space(char32_t cp) {
  return cp == 0x20 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A)
         || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

inline std::string code_point_name(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

// Printable-ASCII rendering of untrusted bytes for error messages.
inline std::string quote(std::string_view s) {
  constexpr std::size_t limit = 32;
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  out += '\'';
  if (s.size() > limit)
    out += "...";
  return out;
}

// label names the field in messages: "nick", "old nick", "name 3".
inline bool check_nick(std::string_view nick, const std::string& label, std::string& why) {
  if (nick.empty()) {
    why = label + " is empty";
    return false;
  }
  if (nick.size() > max_nick_size) {
    why = label + " is " + utf8_size(nick) + "; " + utf8_limit(max_nick_size);
    return false;
  }
  for (std::size_t i = 0; i < nick.size();) {
    const std::size_t at = i;
    char32_t cp;
    if (!next_code_point(nick, i, cp)) {
      why = label + " is not valid UTF-8 at offset " + std::to_string(at);
      return false;
    }
    if (cp == ' ') {
      why = label + " contains a space at offset " + std::to_string(at);
      return false;
    }
    if (is_space(cp)) {
      why = label + " contains white-space character " + code_point_name(cp) + " at offset "
            + std::to_string(at);
      return false;
    }
    if (is_control(cp)) {
      why = label + " contains control character " + code_point_name(cp) + " at offset "
            + std::to_string(at);
      return false;
    }
  }
  return true;
}

inline bool check_text(std::string_view text, std::string& why) {
  if (text.size() > max_text_size) {
    why = "text is " + utf8_size(text) + "; " + utf8_limit(max_text_size);
    return false;
  }
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t at = i;
    char32_t cp;
    if (!next_code_point(text, i, cp)) {
      why = "text is not valid UTF-8 at offset " + std::to_string(at);
      return false;
    }
    if (is_control(cp) && cp != '\t') {
      why = "text contains control character " + code_point_name(cp) + " at offset "
            + std::to_string(at);
      return false;
    }
  }
  return true;
}

// Canonical decimal: digits only, no leading zero, at most max_digits.
inline bool parse_number(std::string_view s, std::size_t max_digits, const std::string& label,
                  std::uint64_t& value, std::string& why) {
  if (s.empty()) {
    why = label + " is empty";
    return false;
  }
  if (s.size() > max_digits) {
    why = label + " has " + std::to_string(s.size()) + " digits, the maximum is "
          + std::to_string(max_digits);
    return false;
  }
  value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      why = label + " " + quote(s) + " is not a decimal number";
      return false;
    }
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (s.size() > 1 && s[0] == '0') {
    why = label + " " + quote(s) + " has a leading zero";
    return false;
  }
  return true;
}

constexpr std::size_t max_number_digits = 15;
constexpr std::size_t max_count_digits = 9;

} // namespace iocaf::proto::detail
