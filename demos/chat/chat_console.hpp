#pragma once
// The chat client at a console: the line being typed stays on the bottom
// line, and incoming lines are printed above it (the input line is cleared,
// the incoming line written, the input line redrawn), so nothing typed is
// overwritten. Reads keys with ReadConsoleInputW and draws with the console
// API (cursor position, fill, WriteConsoleW), which Windows' console and
// Wine's (also Wine's bridge to a Unix terminal) both implement.
//
// A long input line scrolls sideways within the console's width rather
// than wrapping, so the input is always one row that can be cleared and
// redrawn without tracking how the console scrolled.
#include "demos/chat/line_editor.hpp"
#include "io/text.hpp"

#include <windows.h>

#include <cstdio>
#include <functional>
#include <mutex>
#include <string>

namespace chat {

// Console cells a code point takes: 2 for East Asian wide characters and
// emoji, 0 for combining marks, joiners and variation selectors, else 1.
inline int cell_width(char32_t c) {
  if ((c >= 0x300 && c <= 0x36F) || c == 0x200D || (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0x1F3FB && c <= 0x1F3FF))
    return 0;
  if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3)
      || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60)
      || (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) || (c >= 0x1F900 && c <= 0x1F9FF)
      || (c >= 0x20000 && c <= 0x3FFFD))
    return 2;
  return 1;
}

class console_ui {
public:
  static constexpr const char* prompt = "> ";

  console_ui(std::size_t max_bytes, std::function<void()> on_refused)
      : editor_(max_bytes), on_refused_(std::move(on_refused)) {}

  // Both standard input and output are consoles: the only case this is for.
  static bool wanted() {
    return iocaf::io::is_console(GetStdHandle(STD_INPUT_HANDLE)) && iocaf::io::is_console(GetStdHandle(STD_OUTPUT_HANDLE));
  }

  // Takes the console's input keys (no line mode, no echo: this class draws
  // the line) and starts the reader thread. False with *why on failure.
  bool start(std::function<void(std::string)> on_line, std::function<void()> on_eof, std::string* why) {
    in_ = GetStdHandle(STD_INPUT_HANDLE);
    out_ = GetStdHandle(STD_OUTPUT_HANDLE);
    on_line_ = std::move(on_line);
    on_eof_ = std::move(on_eof);
    if (!GetConsoleMode(in_, &saved_mode_))
      return fail("GetConsoleMode(input)", why);
    // Ctrl+C stays a signal (ENABLE_PROCESSED_INPUT); the rest are keys for us.
    if (!SetConsoleMode(in_, ENABLE_PROCESSED_INPUT))
      return fail("SetConsoleMode(input)", why);
    {
      std::lock_guard<std::mutex> guard{mtx_};
      active_ = true;
      redraw();
    }
    thread_ = CreateThread(nullptr, 0, &run, this, 0, nullptr);
    if (thread_ == nullptr) {
      auto err = iocaf::io::last_error("CreateThread(console reader)");
      stop();
      *why = err.to_string();
      return false;
    }
    return true;
  }

  // Prints a line above the one being typed.
  void print(const std::string& line) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!active_) {
      write(line + "\n");
      return;
    }
    clear_row();
    write(line + "\n");
    redraw();
  }

  // Clears the input line and gives the console its modes back. The reader
  // thread may stay blocked in ReadConsoleInputW (the client ends without
  // joining it); it delivers nothing more.
  void stop() {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!active_)
      return;
    active_ = false;
    on_line_ = nullptr;
    on_eof_ = nullptr;
    clear_row();
    if (!SetConsoleMode(in_, saved_mode_))
      report(iocaf::io::last_error("SetConsoleMode(restore input)"));
  }

private:
  bool fail(const char* call, std::string* why) {
    *why = iocaf::io::last_error(call).to_string();
    return false;
  }

  static DWORD WINAPI run(void* p) {
    static_cast<console_ui*>(p)->read_keys();
    return 0;
  }

  void read_keys() {
    for (;;) {
      auto keys = iocaf::io::read_console_keys(in_);
      if (!keys) {
        std::fprintf(stderr, "chat_client: reading the console: %s\n", keys.err().to_string().c_str());
        end_of_input();
        return;
      }
      for (auto& k : *keys)
        if (!on_key(k))
          return;
    }
  }

  // False once the input ended.
  bool on_key(const iocaf::io::key_press& k) {
    std::function<void()> then;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (!active_)
        return false;
      switch (editor_.key(k)) {
        case line_editor::outcome::unchanged: return true;
        case line_editor::outcome::changed:
          full_said_ = false;
          redraw();
          return true;
        case line_editor::outcome::refused: // said once per full line, not per key
          if (!full_said_)
            then = on_refused_;
          full_said_ = true;
          break;
        case line_editor::outcome::end_of_input: then = on_eof_; break;
        case line_editor::outcome::submit: {
          full_said_ = false;
          auto line = editor_.take();
          clear_row();
          write(prompt + line + "\n"); // what was typed stays on screen, as a terminal's echo would
          redraw();
          then = [f = on_line_, line] { f(line); };
          break;
        }
      }
    }
    if (then)
      then();
    return true;
  }

  void end_of_input() {
    std::function<void()> f;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      f = active_ ? on_eof_ : nullptr;
    }
    if (f)
      f();
  }

  void write(const std::string& text) { report(iocaf::io::write_text(out_, text)); }

  // Drawing failures go to stderr, once: the chat goes on without the screen.
  void report(const iocaf::io::error& err) {
    if (err && !reported_) {
      reported_ = true;
      std::fprintf(stderr, "chat_client: drawing on the console: %s\n", err.to_string().c_str());
    }
  }

  iocaf::io::result<CONSOLE_SCREEN_BUFFER_INFO> screen_info() {
    CONSOLE_SCREEN_BUFFER_INFO info;
    if (!GetConsoleScreenBufferInfo(out_, &info))
      return iocaf::io::last_error("GetConsoleScreenBufferInfo");
    return info;
  }

  // Blanks the cursor's row and puts the cursor at its start.
  void clear_row() {
    auto info = screen_info();
    if (!info)
      return report(info.err());
    const COORD start{0, info->dwCursorPosition.Y};
    const auto width = static_cast<DWORD>(info->dwSize.X);
    DWORD done = 0;
    if (!FillConsoleOutputCharacterW(out_, L' ', width, start, &done))
      return report(iocaf::io::last_error("FillConsoleOutputCharacterW"));
    if (!FillConsoleOutputAttribute(out_, info->wAttributes, width, start, &done))
      return report(iocaf::io::last_error("FillConsoleOutputAttribute"));
    if (!SetConsoleCursorPosition(out_, start))
      report(iocaf::io::last_error("SetConsoleCursorPosition"));
  }

  // Draws prompt and line on the cursor's row, scrolled sideways so the
  // cursor is visible, and puts the cursor where the editor has it.
  void redraw() {
    clear_row();
    auto info = screen_info();
    if (!info)
      return report(info.err());
    const auto& line = editor_.chars();
    const std::size_t cursor = editor_.cursor();
    const int room = std::max(info->dwSize.X - 1 - 2, 8); // width - prompt - a cell for the cursor at the end
    if (cursor < scroll_)
      scroll_ = cursor;
    while (cells(line, scroll_, cursor) > room)
      ++scroll_;
    std::size_t end = cursor;
    while (end < line.size() && cells(line, scroll_, end + 1) <= room)
      ++end;
    write(prompt + line_editor::to_utf8(line.substr(scroll_, end - scroll_)));
    const COORD at{static_cast<SHORT>(2 + cells(line, scroll_, cursor)), info->dwCursorPosition.Y};
    if (!SetConsoleCursorPosition(out_, at))
      report(iocaf::io::last_error("SetConsoleCursorPosition"));
  }

  static int cells(const std::u32string& s, std::size_t from, std::size_t to) {
    int n = 0;
    for (std::size_t i = from; i < to && i < s.size(); ++i)
      n += cell_width(s[i]);
    return n;
  }

  std::mutex mtx_; // the console's screen and the editor: the reader thread and the printing actor share them
  line_editor editor_;
  std::function<void()> on_refused_;
  std::function<void(std::string)> on_line_;
  std::function<void()> on_eof_;
  HANDLE in_ = nullptr;
  HANDLE out_ = nullptr;
  DWORD saved_mode_ = 0;
  HANDLE thread_ = nullptr;
  bool active_ = false;
  std::size_t scroll_ = 0; // first character shown
  bool reported_ = false;  // a drawing failure was reported
  bool full_said_ = false; // the line is full and the user was told
};

} // namespace chat
