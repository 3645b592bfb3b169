#pragma once
// What chat_server and chat_client share: range checks of their options, a
// stdin reader that runs in a plain thread (never in an actor: reading stdin
// blocks) and UTF-8 output lines.
#include "demos/chat/chat_console.hpp"
#include "io/text.hpp"

#include <windows.h>

#include <atomic>
#include <cstdio>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace chat {

// An integer option and its allowed range, for out_of_range().
struct bounded_option {
  const char* name; // without the --
  std::int64_t value;
  std::int64_t min;
  std::int64_t max;
};

// The usage error for the first value outside its range (the wording of
// iocaf::program_config's), empty if all are inside.
inline std::string out_of_range(std::initializer_list<bounded_option> options) {
  for (const auto& o : options)
    if (o.value < o.min || o.value > o.max)
      return "bad value '" + std::to_string(o.value) + "' for --" + o.name + " (expected: " + std::to_string(o.min)
             + ".." + std::to_string(o.max) + ")";
  return {};
}

// Reads stdin line by line in its own thread and hands each line (without
// the line end) to on_line, then calls on_eof once. A pipe or file is read
// as UTF-8 bytes; a console as UTF-16 (ReadConsoleW), converted. stop() makes sure no
// callback runs afterwards and cancels the reader's blocking read, so the
// process does not end with a thread stuck in ReadFile (which Wine may
// report as the process being killed).
class stdin_lines {
public:
  void start(std::function<void(std::string)> on_line, std::function<void()> on_eof) {
    shared_->on_line = std::move(on_line);
    shared_->on_eof = std::move(on_eof);
    // The thread holds only the shared state: the callbacks (and the actor
    // handles they capture) are released by stop(), in the caller's thread.
    auto* arg = new std::shared_ptr<state>(shared_);
    thread_ = CreateThread(nullptr, 0, &run, arg, 0, nullptr);
    if (thread_ == nullptr) {
      delete arg;
      std::fprintf(stderr, "cannot start the stdin reader (CreateThread: %lu)\n", GetLastError());
    }
  }

  // Bounded: waits at most a second for the reader to end.
  void stop() {
    {
      std::lock_guard<std::mutex> guard{shared_->mtx};
      shared_->stopped = true;
      shared_->on_line = nullptr;
      shared_->on_eof = nullptr;
    }
    if (thread_ == nullptr)
      return;
    if (WaitForSingleObject(thread_, 0) == WAIT_TIMEOUT) {
      CancelSynchronousIo(thread_);
      WaitForSingleObject(thread_, 1000);
    }
    CloseHandle(thread_);
    thread_ = nullptr;
  }

private:
  struct state {
    std::mutex mtx;
    bool stopped = false;
    std::function<void(std::string)> on_line;
    std::function<void()> on_eof;
  };

  static DWORD WINAPI run(void* p) {
    std::shared_ptr<state> shared = std::move(*static_cast<std::shared_ptr<state>*>(p));
    delete static_cast<std::shared_ptr<state>*>(p);
    std::string line;
    while (next_line(line)) {
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      std::lock_guard<std::mutex> guard{shared->mtx};
      if (shared->stopped)
        return 0;
      shared->on_line(std::move(line));
    }
    std::lock_guard<std::mutex> guard{shared->mtx};
    if (!shared->stopped)
      shared->on_eof();
    return 0;
  }

  static bool next_line(std::string& line) {
    static const bool console = iocaf::io::is_console(GetStdHandle(STD_INPUT_HANDLE));
    if (!console)
      return static_cast<bool>(std::getline(std::cin, line));
    auto typed = iocaf::io::read_console_line(GetStdHandle(STD_INPUT_HANDLE));
    if (!typed) {
      std::fprintf(stderr, "reading the console: %s\n", typed.err().to_string().c_str());
      return false;
    }
    if (!*typed)
      return false;
    line = std::move(**typed);
    return true;
  }

  std::shared_ptr<state> shared_ = std::make_shared<state>();
  HANDLE thread_ = nullptr;
};

// Where output lines go while the client's console line editor runs.
inline std::atomic<console_ui*>& active_console() {
  static std::atomic<console_ui*> ui{nullptr};
  return ui;
}

// One output line of UTF-8, written at once (the output is read by
// scripts): the bytes to a pipe or file, UTF-16 to a console, above the
// line being typed if the console line editor runs.
inline void print_line(const std::string& line) {
  if (console_ui* ui = active_console().load()) {
    ui->print(line);
    return;
  }
  if (auto err = iocaf::io::write_text(GetStdHandle(STD_OUTPUT_HANDLE), line + "\n"))
    std::fprintf(stderr, "cannot write to standard output: %s\n", err.to_string().c_str());
}

} // namespace chat
