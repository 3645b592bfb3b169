#pragma once
// The in-flight table: every operation that may still receive a packet, held
// here (by shared_ptr) until its packet is dequeued — like asyncio's _cache.
// Actors insert before they start the Win32 call; the broker takes entries
// out as packets arrive. An OVERLAPPED address cannot be reused while its
// operation is in here, because the entry keeps the operation alive.
#include "io/operation.hpp"
#include "io/wait.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_control_block.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace iocaf {

struct inflight_entry {
  io::operation_ptr op;
  // The start this entry stands for: its OVERLAPPED is the table's key and
  // stays alive (and unreused) until the entry leaves.
  io::start_record_ptr start;
  std::uint64_t generation = 0; // start->generation
  // Strong: an actor with I/O in flight stays reachable (a message for it
  // is on its way), so CAF does not end it as unreachable mid-operation.
  caf::strong_actor_ptr owner;
  io::wait_ptr wait;            // set for a wait's fired/unregistered operations
  HANDLE target = nullptr;      // op->target() at the start (not owned)
};

class operation_table {
public:
  // False if the OVERLAPPED is already in flight (cannot happen for a fresh
  // start record; refused rather than corrupting state).
  bool insert(inflight_entry entry);
  // Removes and returns the entry for a packet's OVERLAPPED, if known.
  std::optional<inflight_entry> take(OVERLAPPED* ov);
  // Removes an entry whose operation failed inline (no packet will come).
  void erase(OVERLAPPED* ov);
  std::size_t size() const;
  // Whether every operation in flight on h is owner's (a scan: for a
  // teardown, not for the I/O path).
  bool only_owner_on(HANDLE h, caf::actor_id owner) const;
  std::vector<inflight_entry> snapshot() const;
  // Empties the table, returning everything (for the shutdown leak report).
  std::vector<inflight_entry> drain();

private:
  mutable std::mutex mtx_;
  std::unordered_map<OVERLAPPED*, inflight_entry> entries_;
};

} // namespace iocaf
