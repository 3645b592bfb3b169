#pragma once
// The I/O completion port: associate handles, post packets, dequeue batches.
#include "io/error.hpp"
#include "io/handle.hpp"

#include <cstddef>
#include <memory>

namespace iocaf::io {

// Completion keys iocaf uses. Packets for operations carry key_io; a packet
// with key_wake carries no OVERLAPPED and only wakes the dequeuing thread.
enum completion_key : ULONG_PTR { key_wake = 1, key_io = 2 };

// Copies share one port handle, closed when the last copy goes: a wait
// registration keeps a copy, so its callbacks never post to a closed (or
// reused) handle value.
class completion_port {
public:
  static result<completion_port> create();

  completion_port() = default;
  HANDLE native() const { return port_.get(); }

  // Routes the completions of overlapped I/O on h to this port.
  error associate(HANDLE h, ULONG_PTR key = key_io) const;
  // Queues a packet (used by wait callbacks and to wake the dequeuer).
  error post(ULONG_PTR key, DWORD bytes, OVERLAPPED* ov) const;
  error wake() const { return post(key_wake, 0, nullptr); }
  // Dequeues up to n packets; waits at most timeout_ms (INFINITE allowed).
  // Returns the number dequeued; 0 on timeout.
  result<std::size_t> dequeue(OVERLAPPED_ENTRY* entries, std::size_t n, DWORD timeout_ms) const;

private:
  explicit completion_port(HANDLE h) : port_(h, &CloseHandle) {}
  std::shared_ptr<void> port_;
};

// How many packets the next dequeue asks for. Wine makes one wineserver
// request per entry of GetQueuedCompletionStatusEx and one more that finds
// the queue empty, so a batch asked for when one packet waits puts a second
// round trip before that packet is handled (one TCP echo: ~1 context switch
// more, p50 ~+60 us; DESIGN.md §4). So: one while the last dequeue found at
// most one; the whole batch every probe_every-th time, and while that finds
// more. On Windows a batch is one call whatever it finds, and asking for one
// when one waits costs the same.
class dequeue_size {
public:
  static constexpr std::size_t probe_every = 32;

  explicit dequeue_size(std::size_t batch) : batch_(batch) {}

  std::size_t next() {
    if (batching_ || ++singles_ % probe_every == 0)
      return batch_;
    return 1;
  }

  void got(std::size_t n) { batching_ = n > 1; }

  std::size_t batch() const { return batch_; }

private:
  std::size_t batch_;
  std::size_t singles_ = 0;
  bool batching_ = true;
};

} // namespace iocaf::io
