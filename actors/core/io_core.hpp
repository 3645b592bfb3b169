#pragma once
// What the broker, the runtime and every io actor share: the completion
// port, the in-flight table, the counters and the set of live io actors.
// Held by shared_ptr so no party can outlive it.
#include "actors/core/messages.hpp"
#include "actors/core/operation_table.hpp"
#include "io/completion_port.hpp"
#include "io/log.hpp"

#include <caf/actor_addr.hpp>

#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace iocaf {

struct io_core {
  explicit io_core(io::completion_port p);
  ~io_core();

  io::completion_port port;
  operation_table table;
  std::shared_ptr<spdlog::logger> log;

  std::atomic<std::uint64_t> packets{0};
  std::atomic<std::uint64_t> completions{0};
  std::atomic<std::uint64_t> wakes{0};
  std::atomic<std::uint64_t> unexpected{0}; // unknown or stale packets
  std::atomic<std::uint64_t> stale{0};      // of those: an earlier start's packet
  std::atomic<std::uint64_t> orphans_released{0};
  std::atomic<std::uint64_t> leaked{0};
  std::atomic<std::uint64_t> leaked_waits{0};       // registrations given up on (never freed)
  std::atomic<std::uint64_t> synthetic{0};          // completions made without a packet
  std::atomic<std::uint64_t> inline_results{0};     // starts completed inline (owned_operations::launch)
  std::atomic<bool> stopping{false};
  // The broker's thread while it runs: what must never wait for the broker
  // (runtime::stats, shutdown) checks it is not on that thread.
  std::atomic<std::thread::id> broker_thread{};
  // runtime_options::broker_runs_actors: a completion runs its owner on the
  // broker's thread.
  std::atomic<bool> actors_on_broker{false};

  broker_stats stats() const;

  // Puts a start in flight for `owner` (the table keeps op and its start
  // record alive until the packet). False if its OVERLAPPED is already there.
  bool put_in_flight(const io::operation_ptr& op, const caf::actor_addr& owner, io::wait_ptr wait = nullptr);

  // The single completion path: a dequeued packet's entry (or a synthetic
  // one, when no packet can come) goes to its owner as io_completed; a wait's
  // packets also advance the wait. Any thread. `here`: the execution unit
  // the owner is scheduled on if the message wakes it (the broker's own
  // thread); null: CAF's scheduler.
  void complete(const inflight_entry& entry, std::uint32_t bytes, std::uint32_t error,
                caf::execution_unit* here = nullptr);

  // A wait callback could not post its packet: complete the operation
  // without one and leak the registration (its callbacks may still run).
  void on_wait_post_failed(io::operation& op, const io::error& why);

  // Ends a wait. One that fired needs nothing (its fired packet is its last;
  // `orphaned` marks it for release). One still armed is cancelled: its
  // unregistered operation goes in flight for `owner` and UnregisterWaitEx
  // starts (once, whoever calls). A failure is logged and the wait leaked
  // (without an acknowledgement its callback may still run); its owner gets
  // synthetic completions (fired: aborted, unregistered: the failure's code)
  // so it can still finish its protocol.
  void end_wait(const io::wait_ptr& w, const caf::actor_addr& owner, bool orphaned);

  // Live io actors, so the runtime can stop them at shutdown.
  void add_io_actor(const caf::actor_addr& a);
  void remove_io_actor(caf::actor_id id);
  std::vector<caf::actor_addr> io_actors() const;
  bool is_io_actor(caf::actor_id id) const;

  // Keeps memory alive forever: for operations and waits that the kernel or
  // a thread-pool callback may still touch when we must give up on them.
  // leak_in_flight takes everything still in the table (`when` says when, for
  // the log), counts it in `leaked`, logs one line each; returns how many.
  std::size_t leak_in_flight(const char* when);
  // One line per operation leaked at shutdown ("op#12 kind=read ...").
  std::vector<std::string> leak_report() const;
  void leak(io::wait_ptr w);

private:
  void deliver(const inflight_entry& entry, std::uint32_t bytes, std::uint32_t error, caf::execution_unit* here);
  void on_wait_packet(const inflight_entry& entry, caf::execution_unit* here);
  std::vector<std::string> leak(std::vector<inflight_entry> entries);

  mutable std::mutex mtx_;
  std::unordered_map<caf::actor_id, caf::actor_addr> io_actors_;
  std::vector<inflight_entry>* leaked_entries_ = nullptr;
  std::vector<io::wait_ptr>* leaked_waits_ = nullptr;
  std::vector<std::string> leak_lines_;
};

} // namespace iocaf
