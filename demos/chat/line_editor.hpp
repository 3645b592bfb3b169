#pragma once
// The line being typed at the chat client's console, as state: key presses
// in, the line and its cursor out; no console calls, so tests drive it with
// made-up keys. Editing: characters insert at the cursor; Backspace, Delete,
// Left, Right, Home, End (and Ctrl+A, Ctrl+E); Up and Down walk the history
// of sent lines (the line being typed is kept while walking); Esc or Ctrl+U
// clear the line; Enter sends it; Ctrl+D or Ctrl+Z on an empty line end the
// input. A character that would take the line past max_bytes of UTF-8 is
// refused (the line stays as it was).
#include "io/text.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace chat {

class line_editor {
public:
  enum class outcome { unchanged, changed, submit, end_of_input, refused };

  explicit line_editor(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  outcome key(const iocaf::io::key_press& k) {
    const char32_t c = k.ch;
    if (c >= 0xD800 && c <= 0xDBFF) { // the first half of a pair: wait for the second
      high_ = c;
      return outcome::unchanged;
    }
    if (c >= 0xDC00 && c <= 0xDFFF) {
      const char32_t high = high_;
      high_ = 0;
      return high == 0 ? outcome::unchanged : insert(0x10000 + ((high - 0xD800) << 10) + (c - 0xDC00));
    }
    high_ = 0;
    switch (k.key) {
      case VK_RETURN: return outcome::submit;
      case VK_BACK: return cursor_ > 0 ? (line_.erase(--cursor_, 1), outcome::changed) : outcome::unchanged;
      case VK_DELETE: return cursor_ < line_.size() ? (line_.erase(cursor_, 1), outcome::changed) : outcome::unchanged;
      case VK_LEFT: return move_to(cursor_ > 0 ? cursor_ - 1 : 0);
      case VK_RIGHT: return move_to(std::min(cursor_ + 1, line_.size()));
      case VK_HOME: return move_to(0);
      case VK_END: return move_to(line_.size());
      case VK_UP: return recall(-1);
      case VK_DOWN: return recall(+1);
      case VK_ESCAPE: return clear();
      default: break;
    }
    switch (c) {
      case 0x01: return move_to(0);            // Ctrl+A
      case 0x05: return move_to(line_.size()); // Ctrl+E
      case 0x15: return clear();               // Ctrl+U
      case 0x04:                               // Ctrl+D
      case 0x1A:                               // Ctrl+Z
        return line_.empty() ? outcome::end_of_input : outcome::unchanged;
      case '\r':
      case '\n': return outcome::submit;
      default: break;
    }
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) // other control keys, and keys typing nothing
      return outcome::unchanged;
    return insert(c);
  }

  // The line as UTF-8 (the editor only ever holds whole code points).
  std::string text() const { return to_utf8(line_); }
  const std::u32string& chars() const { return line_; }
  std::size_t cursor() const { return cursor_; }

  // Takes the line to send: kept in the history (unless empty or the same
  // as the last one), and the editor starts a new, empty line.
  std::string take() {
    std::string out = text();
    if (!line_.empty() && (history_.empty() || history_.back() != line_))
      history_.push_back(line_);
    line_.clear();
    draft_.clear();
    cursor_ = 0;
    recalled_ = history_.size();
    return out;
  }

  static std::size_t utf8_size(char32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }

  static std::string to_utf8(const std::u32string& s) {
    std::string out;
    for (char32_t c : s) {
      if (c < 0x80) {
        out += static_cast<char>(c);
      } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
      } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
      } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
      }
    }
    return out;
  }

private:
  outcome insert(char32_t c) {
    std::size_t bytes = utf8_size(c);
    for (char32_t have : line_)
      bytes += utf8_size(have);
    if (bytes > max_bytes_)
      return outcome::refused;
    line_.insert(cursor_++, 1, c);
    return outcome::changed;
  }

  outcome move_to(std::size_t at) {
    if (at == cursor_)
      return outcome::unchanged;
    cursor_ = at;
    return outcome::changed;
  }

  outcome clear() {
    if (line_.empty())
      return outcome::unchanged;
    line_.clear();
    cursor_ = 0;
    return outcome::changed;
  }

  // Up (-1) to older lines, down (+1) to newer ones and finally back to the
  // line that was being typed.
  outcome recall(int step) {
    if (step < 0 && recalled_ == 0)
      return outcome::unchanged;
    if (step > 0 && recalled_ >= history_.size())
      return outcome::unchanged;
    if (recalled_ == history_.size())
      draft_ = line_;
    recalled_ = step < 0 ? recalled_ - 1 : recalled_ + 1;
    line_ = recalled_ == history_.size() ? draft_ : history_[recalled_];
    cursor_ = line_.size();
    return outcome::changed;
  }

  std::size_t max_bytes_;
  std::u32string line_;
  std::size_t cursor_ = 0;
  std::vector<std::u32string> history_;
  std::size_t recalled_ = 0; // index into history_; history_.size(): the line being typed
  std::u32string draft_;     // the line being typed while the history is shown
  char32_t high_ = 0;        // a high surrogate waiting for its low half
};

} // namespace chat
