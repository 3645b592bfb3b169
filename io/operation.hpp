#pragma once
// An overlapped operation: the OVERLAPPED the kernel writes into, the buffer
// it reads or writes, and what iocaf needs to prove it is still alive.
//
// Lifetime law (DESIGN.md §2.1): an operation's memory is released or reused
// only after its completion packet has been dequeued. Operations are held by
// shared_ptr: by their owner, and by the in-flight table while the kernel may
// still write to them, so neither side alone can free them.
#include <windows.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace iocaf::io {

enum class op_kind : std::uint8_t {
  read,
  write,
  accept,
  connect,
  connect_pipe,
  wait_fired,        // a RegisterWaitForSingleObject callback posted this
  wait_unregistered, // UnregisterWaitEx acknowledged (its event fired)
  user,              // posted by the application itself
};
const char* to_string(op_kind k);

// One start of an operation: the OVERLAPPED the kernel writes for this start
// alone, and the start's generation. Every start gets a new one while the
// previous one is still held, so a packet's OVERLAPPED address names exactly
// one start: the packet itself carries its generation (DESIGN.md §2.3).
struct start_record {
  OVERLAPPED ov{};
  std::uint64_t generation = 0;
};
using start_record_ptr = std::shared_ptr<start_record>;

class operation {
public:
  static constexpr std::uint32_t live_magic = 0x10CAF0E5;
  static constexpr std::uint32_t dead_magic = 0xDEADF00D;

  explicit operation(op_kind kind, std::size_t buffer_size = 0);
  ~operation();
  operation(const operation&) = delete;
  operation& operator=(const operation&) = delete;

  // The current start's OVERLAPPED. Packets carry this pointer; the in-flight
  // table maps it back to the operation (it is never cast back, so a stray
  // pointer is never followed).
  OVERLAPPED* overlapped() { return &start_->ov; }
  const start_record_ptr& current_start() const { return start_; }

  bool alive() const { return magic_ == live_magic; }
  std::uint64_t id() const { return id_; }
  op_kind kind() const { return kind_; }
  HANDLE target() const { return target_; }
  std::vector<char>& buffer() { return buffer_; }

  // Begins a new start on handle h (not owned; remembered so the operation
  // can be cancelled): a fresh OVERLAPPED with the next generation. Call
  // before putting the operation in flight, never while it is in flight.
  void prepare(HANDLE h);
  // The current start's generation (read by the broker's thread).
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // Requests cancellation (CancelIoEx). Not finding the operation (it already
  // completed and its packet is queued) is success. Idempotent.
  bool cancel_requested() const { return cancel_requested_.load(); }
  unsigned long cancel();
  // Cancels, in one CancelIoEx(h, NULL), every operation pending on h: each
  // of `ops` (whose target is h) is marked cancel-requested, and so is
  // anything else this process started on h. For an owner that knows h's
  // operations are all its own: one wineserver call instead of one each
  // (64 reads under Wine: ~2 ms against ~6.4). Not finding any is success.
  static unsigned long cancel_all_on(HANDLE h, const std::vector<operation*>& ops);
  // Calls of each kind so far in this process (tests count them).
  static std::int64_t cancels_one_by_one();
  static std::int64_t cancels_per_handle();

  // Set when the owner went away without waiting for the packet.
  void orphan() { orphaned_.store(true); }
  bool orphaned() const { return orphaned_.load(); }

  // Live operations in this process (constructed minus destroyed).
  static std::int64_t live_count();

private:
  start_record_ptr start_;
  std::uint32_t magic_ = live_magic;
  op_kind kind_;
  std::uint64_t id_;
  HANDLE target_ = nullptr;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> cancel_requested_{false};
  std::atomic<bool> orphaned_{false};
  std::vector<char> buffer_;
};

using operation_ptr = std::shared_ptr<operation>;

// Whether a packet will come for an overlapped call that returned FALSE with
// GetLastError() == code. ERROR_IO_PENDING, and the warning ERROR_MORE_DATA
// (a message-mode pipe message longer than the buffer: the packet carries
// the partial read) queue one; errors do not (DESIGN.md §2.1).
inline bool packet_will_come(unsigned long code) {
  return code == ERROR_IO_PENDING || code == ERROR_MORE_DATA;
}

// Issue overlapped I/O on a prepared operation. Each returns the Win32 code of an inline failure
// (the operation will get no packet), or 0 if a packet will arrive (pending,
// completed synchronously, or a warning such as ERROR_MORE_DATA, which the
// completion then reports: FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is off).
unsigned long start_read(operation& op, HANDLE h, std::size_t max_bytes);
unsigned long start_write(operation& op, HANDLE h, std::size_t bytes);

} // namespace iocaf::io
