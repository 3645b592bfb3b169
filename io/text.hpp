#pragma once
// Text in and out of a Windows program as UTF-8, whatever the ANSI code page.
//
// Windows hands a program its arguments and console input in UTF-16 (main's
// char** argv and a console read through the C runtime arrive in the ANSI
// code page, so "Zoë" becomes "Zo\xEB"), and a console shows bytes written
// to it in its output code page. These helpers take the UTF-16 paths:
//   - argv_utf8(): the command line (GetCommandLineW) as UTF-8 arguments;
//   - read_console_line() / read_console_keys(): console input (ReadConsoleW,
//     ReadConsoleInputW) as UTF-8 / as key presses;
//   - write_text(): UTF-8 out, through WriteConsoleW on a console and as the
//     bytes themselves on a pipe or file.
// A pipe or a file carries UTF-8 bytes unchanged in both directions.
// Conversions are strict: invalid UTF-8 or a lone surrogate is an error.
#include "io/error.hpp"

#include <windows.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iocaf::io {

// Strict conversions: ERROR_NO_UNICODE_TRANSLATION (the call names the
// offset of the first bad byte or unit) for malformed input.
result<std::wstring> utf8_to_utf16(std::string_view utf8);
result<std::string> utf16_to_utf8(std::wstring_view utf16);

// The process's arguments, argv[0] included, as UTF-8: parsed from
// GetCommandLineW by CommandLineToArgvW (the rules main's argv follows).
result<std::vector<std::string>> argv_utf8();

// True if h is a console input or screen buffer (GetConsoleMode succeeds);
// false for a pipe, a file, NUL or an invalid handle.
bool is_console(HANDLE h);

// Writes UTF-8 text to h, all of it: converted to UTF-16 and written with
// WriteConsoleW if h is a console, else written as the bytes themselves.
error write_text(HANDLE h, std::string_view utf8);

// One line typed at a console in its line mode (ReadConsoleW), as UTF-8
// without the line end; nothing at the end of input (Ctrl+Z then Enter, or
// a closed console).
result<std::optional<std::string>> read_console_line(HANDLE console);

// A key press from the console (ReadConsoleInputW, key-down events only,
// each repeat counted): the character it types (0 for none) or its virtual
// key, and the state of Ctrl, Alt and Shift.
struct key_press {
  wchar_t ch = 0;
  WORD key = 0;        // VK_LEFT, VK_RETURN, ...
  DWORD modifiers = 0; // LEFT_CTRL_PRESSED, SHIFT_PRESSED, ...
};

// Blocks until the console has input, then returns the key presses of what
// it read (maybe none: mouse, focus and resize events are skipped).
result<std::vector<key_press>> read_console_keys(HANDLE console);

} // namespace iocaf::io
