#include "actors/core/operation_table.hpp"

namespace iocaf {

bool operation_table::insert(inflight_entry entry) {
  OVERLAPPED* key = &entry.start->ov;
  std::lock_guard<std::mutex> guard{mtx_};
  return entries_.emplace(key, std::move(entry)).second;
}

std::optional<inflight_entry> operation_table::take(OVERLAPPED* ov) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(ov);
  if (i == entries_.end())
    return std::nullopt;
  inflight_entry out = std::move(i->second);
  entries_.erase(i);
  return out;
}

void operation_table::erase(OVERLAPPED* ov) {
  inflight_entry victim; // destroyed outside the lock
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(ov);
  if (i != entries_.end()) {
    victim = std::move(i->second);
    entries_.erase(i);
  }
}

std::size_t operation_table::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return entries_.size();
}

bool operation_table::only_owner_on(HANDLE h, caf::actor_id owner) const {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& kv : entries_)
    if (kv.second.target == h && (!kv.second.owner || kv.second.owner->id() != owner))
      return false;
  return true;
}

std::vector<inflight_entry> operation_table::snapshot() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<inflight_entry> out;
  out.reserve(entries_.size());
  for (auto& kv : entries_)
    out.push_back(kv.second);
  return out;
}

std::vector<inflight_entry> operation_table::drain() {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<inflight_entry> out;
  out.reserve(entries_.size());
  for (auto& kv : entries_)
    out.push_back(std::move(kv.second));
  entries_.clear();
  return out;
}

} // namespace iocaf
