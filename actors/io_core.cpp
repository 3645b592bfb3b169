#include "actors/io_core.hpp"

namespace iocaf {

io_core::io_core(io::completion_port p) : port(std::move(p)), log(logger("core")) {
}

broker_stats io_core::stats() const {
  broker_stats s;
  s.packets = packets.load();
  s.completions = completions.load();
  s.wakes = wakes.load();
  s.unexpected = unexpected.load();
  s.orphans_released = orphans_released.load();
  s.leaked = leaked.load();
  s.inflight = static_cast<std::int64_t>(table.size());
  s.live_operations = io::operation::live_count();
  s.pending_waits = io::wait_registration::live_count();
  return s;
}

void io_core::end_wait(const io::wait_ptr& w, const caf::actor_addr& owner, bool orphaned) {
  w->try_cancel();
  if (!w->claim_unregister())
    return;
  auto ack = w->unregistered_ptr();
  if (orphaned) {
    w->fired_op().orphan();
    ack->orphan();
  }
  table.insert({ack, ack->generation(), caf::actor_cast<caf::strong_actor_ptr>(owner), w});
  if (auto err = w->begin_unregister()) {
    // No acknowledgement will come, so the callback may still touch the wait.
    log->error("ending wait (op#{}): {}; leaking the registration", w->fired_op().id(), err.to_string());
    table.erase(ack->overlapped());
    leak(w);
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

std::vector<caf::actor_addr> io_core::io_actors() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<caf::actor_addr> out;
  for (auto& kv : io_actors_)
    out.push_back(kv.second);
  return out;
}

void io_core::leak(std::vector<inflight_entry> entries) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (leaked_entries_ == nullptr)
    leaked_entries_ = new std::vector<inflight_entry>; // never freed, on purpose
  for (auto& e : entries) {
    leak_lines_.push_back("op#" + std::to_string(e.op->id()) + " kind=" + io::to_string(e.op->kind())
                          + " owner=actor#" + std::to_string(e.owner ? e.owner->id() : 0));
    leaked_entries_->push_back(std::move(e));
  }
}

std::vector<std::string> io_core::leak_report() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return leak_lines_;
}

void io_core::leak(io::wait_ptr w) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (leaked_waits_ == nullptr)
    leaked_waits_ = new std::vector<io::wait_ptr>; // never freed, on purpose
  leaked_waits_->push_back(std::move(w));
}

} // namespace iocaf
