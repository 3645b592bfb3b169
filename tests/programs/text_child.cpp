// Child program of the text tests (tests/text_test.cpp):
//   text_child wide ARGS...   writes each argument after argv[0], as
//                             argv_utf8() gives it, one per line (write_text)
//   text_child ansi ARGS...   the same from main's argv (the ANSI code page)
//   text_child env NAME       writes the variable NAME (GetEnvironmentVariableW) as UTF-8
//   text_child echo           copies standard input to standard output through
//                             write_text, line by line (UTF-8 bytes unchanged)
#include "io/text.hpp"

#include <cstdio>
#include <string>

using namespace iocaf::io;

namespace {

int say(const std::string& line) {
  if (auto err = write_text(GetStdHandle(STD_OUTPUT_HANDLE), line + "\n")) {
    std::fprintf(stderr, "text_child: %s\n", err.to_string().c_str());
    return 1;
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "ansi") {
    for (int i = 2; i < argc; ++i)
      say(argv[i]);
    return 0;
  }
  if (mode == "wide") {
    auto args = argv_utf8();
    if (!args) {
      std::fprintf(stderr, "text_child: %s\n", args.err().to_string().c_str());
      return 1;
    }
    for (std::size_t i = 2; i < args->size(); ++i)
      say((*args)[i]);
    return 0;
  }
  if (mode == "env") {
    auto args = argv_utf8();
    auto name = args && args->size() > 2 ? utf8_to_utf16((*args)[2]) : result<std::wstring>(std::wstring());
    wchar_t value[4096];
    DWORD n = name ? GetEnvironmentVariableW(name->c_str(), value, 4096) : 0;
    if (n == 0 || n >= 4096) {
      std::fprintf(stderr, "text_child: %s\n", last_error("GetEnvironmentVariableW").to_string().c_str());
      return 1;
    }
    auto text = utf16_to_utf8(std::wstring_view(value, n));
    return text ? say(*text) : 1;
  }
  if (mode == "echo") {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, stdin))
      if (say(std::string(buf).substr(0, std::string(buf).find_first_of("\r\n"))) != 0)
        return 1;
    return 0;
  }
  std::fprintf(stderr, "usage: text_child wide|ansi ARGS... | env NAME | echo\n");
  return 2;
}
