#include "actors/core/io_core.hpp"

namespace iocaf {

io_core::io_core(io::completion_port p) : port(std::move(p)), log(logger("core")) {
}

// Normally the broker drained the table before it stopped. What is in it now
// was put in flight after that (an io actor started, or orphaned a wait, once
// the broker was gone): nothing will dequeue its packet, and the kernel or a
// wait callback may still write to it, so it is leaked, never freed.
io_core::~io_core() {
  leak_in_flight("after the broker stopped");
}

std::size_t io_core::leak_in_flight(const char* when) {
  auto left = table.drain();
  if (left.empty())
    return 0;
  auto n = left.size();
  log->error("{} operations still in flight {}; leaking them", n, when);
  leaked.fetch_add(n);
  for (auto& line : leak(std::move(left)))
    log->error("  leaked {}", line);
  return n;
}

bool io_core::put_in_flight(const io::operation_ptr& op, const caf::actor_addr& owner, io::wait_ptr wait) {
  const auto& start = op->current_start();
  return table.insert(
    {op, start, start->generation, caf::actor_cast<caf::strong_actor_ptr>(owner), std::move(wait), op->target()});
}

void io_core::complete(const inflight_entry& entry, std::uint32_t bytes, std::uint32_t error,
                       caf::execution_unit* here) {
  if (entry.wait)
    on_wait_packet(entry, here);
  deliver(entry, bytes, error, here);
}

void io_core::on_wait_packet(const inflight_entry& entry, caf::execution_unit* here) {
  auto& w = entry.wait;
  if (entry.op->kind() != io::op_kind::wait_unregistered)
    return; // fired: its callback released the registration; this packet is the last
  w->on_acknowledged();
  // Cancelled before it fired: the fired packet will never come; its
  // operation leaves the table now and its owner learns it was aborted.
  if (auto fired = table.take(w->fired_op().overlapped()))
    deliver(*fired, 0, ERROR_OPERATION_ABORTED, here);
}

void io_core::deliver(const inflight_entry& entry, std::uint32_t bytes, std::uint32_t error,
                      caf::execution_unit* here) {
  auto owner = caf::actor_cast<caf::actor>(entry.owner);
  if (entry.op->orphaned() || !owner) {
    orphans_released.fetch_add(1);
    log->debug("released orphaned op#{} ({})", entry.op->id(), io::to_string(entry.op->kind()));
    return;
  }
  completions.fetch_add(1);
  // Anonymous: a completion must not hold a reference to the broker (a
  // detached actor's thread lives until its last reference is gone).
  owner->enqueue(caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                                           io_completed{entry.op->id(), entry.generation, bytes, error}),
                 here);
}

void io_core::on_wait_post_failed(io::operation& op, const io::error& why) {
  auto entry = table.take(op.overlapped());
  if (!entry) {
    log->error("wait op#{} ({}): {}; and it is not in flight", op.id(), io::to_string(op.kind()), why.to_string());
    return;
  }
  log->error("wait op#{} ({}): {}; completing it without a packet and leaking the registration", op.id(),
             io::to_string(op.kind()), why.to_string());
  leak(entry->wait);
  synthetic.fetch_add(1);
  complete(*entry, 0, static_cast<std::uint32_t>(why.code()));
}

broker_stats io_core::stats() const {
  broker_stats s;
  s.packets = packets.load();
  s.completions = completions.load();
  s.wakes = wakes.load();
  s.unexpected = unexpected.load();
  s.stale = stale.load();
  s.leaked_waits = leaked_waits.load();
  s.synthetic = synthetic.load();
  s.inline_results = inline_results.load();
  s.orphans_released = orphans_released.load();
  s.leaked = leaked.load();
  s.inflight = static_cast<std::int64_t>(table.size());
  s.live_operations = io::operation::live_count();
  s.pending_waits = io::wait_registration::live_count();
  return s;
}

void io_core::end_wait(const io::wait_ptr& w, const caf::actor_addr& owner, bool orphaned) {
  if (!w->try_cancel() && w->current_state() == io::wait_registration::fired) {
    // Its fired packet is the last one and was posted (or soon will be).
    if (orphaned)
      w->fired_op().orphan();
    return;
  }
  if (!w->claim_unregister())
    return;
  auto ack = w->unregistered_ptr();
  if (orphaned) {
    w->fired_op().orphan();
    ack->orphan();
  }
  put_in_flight(ack, owner, w);
  if (auto err = w->begin_unregister()) {
    // No acknowledgement will come, so the callback may still touch the wait.
    log->error("ending wait (op#{}): {}; leaking the registration", w->fired_op().id(), err.to_string());
    leak(w);
    if (auto entry = table.take(ack->overlapped())) {
      synthetic.fetch_add(1);
      complete(*entry, 0, static_cast<std::uint32_t>(err.code()));
    }
  }
}

void io_core::add_io_actor(const caf::actor_addr& a) {
  std::lock_guard<std::mutex> guard{mtx_};
  io_actors_.emplace(a.id(), a);
}

void io_core::remove_io_actor(caf::actor_id id) {
  std::lock_guard<std::mutex> guard{mtx_};
  io_actors_.erase(id);
}

bool io_core::is_io_actor(caf::actor_id id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return io_actors_.count(id) != 0;
}

std::vector<caf::actor_addr> io_core::io_actors() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<caf::actor_addr> out;
  for (auto& kv : io_actors_)
    out.push_back(kv.second);
  return out;
}

std::vector<std::string> io_core::leak(std::vector<inflight_entry> entries) {
  std::vector<std::string> lines;
  std::lock_guard<std::mutex> guard{mtx_};
  if (leaked_entries_ == nullptr)
    leaked_entries_ = new std::vector<inflight_entry>; // never freed, on purpose
  for (auto& e : entries) {
    lines.push_back("op#" + std::to_string(e.op->id()) + " kind=" + io::to_string(e.op->kind())
                    + " owner=actor#" + std::to_string(e.owner ? e.owner->id() : 0));
    leaked_entries_->push_back(std::move(e));
  }
  leak_lines_.insert(leak_lines_.end(), lines.begin(), lines.end());
  return lines;
}

std::vector<std::string> io_core::leak_report() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return leak_lines_;
}

void io_core::leak(io::wait_ptr w) {
  leaked_waits.fetch_add(1);
  std::lock_guard<std::mutex> guard{mtx_};
  if (leaked_waits_ == nullptr)
    leaked_waits_ = new std::vector<io::wait_ptr>; // never freed, on purpose
  leaked_waits_->push_back(std::move(w));
}

} // namespace iocaf
