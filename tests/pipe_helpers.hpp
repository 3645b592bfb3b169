#pragma once
// Helpers shared by the named-pipe tests: unique names, raw overlapped
// clients driven from the test thread (which may block), frame encoding.
#include "actors/pipe/pipe_connect.hpp"
#include "actors/pipe/pipe_listener.hpp"
#include "io/pipe.hpp"
#include "proto/frame.hpp"
#include "support.hpp"

#include <atomic>
#include <string>
#include <utility>

namespace iocaf::test {

// unique_pipe_name(what) comes from support.hpp.

inline std::string frame(const std::string& payload) {
  std::string out;
  proto::encode_frame(payload, out, 1u << 30);
  return out;
}

// Reads frames until `count` were decoded (or the pipe ended / timed out).
inline std::vector<std::string> read_frames(HANDLE h, std::size_t count, std::size_t max_frame = proto::default_max_frame) {
  proto::frame_decoder dec{max_frame};
  std::vector<std::string> out;
  while (out.size() < count) {
    auto r = read_blocking(h);
    if (r.first != 0)
      break;
    if (dec.feed(r.second, out))
      break;
  }
  return out;
}

// Opens a client end, retrying while every instance is busy (test thread only).
inline io::result<io::unique_handle> open_client(const std::string& name) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto h = io::open_pipe_client(name);
    if (h || h.err().code() != ERROR_PIPE_BUSY || std::chrono::steady_clock::now() > until)
      return h;
    Sleep(5); // the test thread is no actor; it may wait for the server to re-arm
  }
}

} // namespace iocaf::test
