#pragma once
// What chat_server and chat_client share: flag parsing and a stdin reader
// that runs in a plain thread (never in an actor: reading stdin blocks).
#include <windows.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace chat {

// --flag VALUE pairs (and --help). Returns false with a message in *error
// for an unknown flag or a missing value.
struct flags {
  std::map<std::string, std::string> values;
  bool help = false;

  bool parse(int argc, char** argv, const std::vector<std::string>& known, std::string* error) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        help = true;
        continue;
      }
      bool is_known = false;
      for (auto& k : known)
        is_known = is_known || k == arg;
      if (!is_known) {
        *error = "unknown argument '" + arg + "'";
        return false;
      }
      if (i + 1 >= argc) {
        *error = arg + " needs a value";
        return false;
      }
      values[arg.substr(2)] = argv[++i];
    }
    return true;
  }

  std::string get(const std::string& name, const std::string& fallback = {}) const {
    auto i = values.find(name);
    return i == values.end() ? fallback : i->second;
  }
  bool has(const std::string& name) const { return values.count(name) > 0; }

  // The number given for --name (fallback if absent), within [min, max].
  // False with a message in *error if it is not such a number.
  bool number(const std::string& name, long long min, long long max, long long fallback, long long* out,
              std::string* error) const {
    *out = fallback;
    if (!has(name))
      return true;
    const std::string text = get(name);
    char* end = nullptr;
    long long n = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || end == nullptr || *end != '\0' || n < min || n > max) {
      *error = "--" + name + " must be a number from " + std::to_string(min) + " to " + std::to_string(max)
               + ", not '" + text + "'";
      return false;
    }
    *out = n;
    return true;
  }
};

// Reads stdin line by line in its own thread and hands each line (without
// the line end) to on_line, then calls on_eof once. stop() makes sure no
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
    while (std::getline(std::cin, line)) {
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

  std::shared_ptr<state> shared_ = std::make_shared<state>();
  HANDLE thread_ = nullptr;
};

// One output line, flushed at once (the output is read by scripts).
inline void print_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

} // namespace chat
