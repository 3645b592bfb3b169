// Field checks of the chat codec (proto/chat.cpp): UTF-8 decoding, nick,
// room, text and number rules, and safe quoting of untrusted bytes for error
// messages. Internal to the codec; portable (no Windows headers, no CAF).
#pragma once

#include "proto/chat.hpp"
#include "proto/utf8.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace iocaf::proto::detail {

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
