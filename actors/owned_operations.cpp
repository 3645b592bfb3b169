#include "actors/owned_operations.hpp"

namespace iocaf {

void owned_operations::attach(std::shared_ptr<io_core> core, caf::actor_addr owner) {
  core_ = std::move(core);
  owner_ = std::move(owner);
  core_->add_io_actor(owner_);
}

owned_operations::~owned_operations() {
  if (!core_)
    return;
  if (pending() > 0) {
    core_->log->debug("actor#{} gone with {} operations pending: orphaning them", owner_.id(), pending());
    for (auto& kv : pending_) {
      kv.second->orphan();
      kv.second->cancel();
    }
    for (auto& kv : waits_) {
      kv.second->fired_op().orphan();
      kv.second->unregistered_op().orphan();
      core_->end_wait(kv.second, owner_, true);
    }
  }
  core_->remove_io_actor(owner_.id());
}

io::result<io::wait_ptr> owned_operations::watch(HANDLE object) {
  auto w = std::make_shared<io::wait_registration>(core_->port.native());
  auto fired = w->fired_ptr();
  core_->table.insert({fired, fired->generation(), caf::actor_cast<caf::strong_actor_ptr>(owner_), w});
  if (auto err = w->arm(object)) {
    core_->table.erase(fired->overlapped());
    return err;
  }
  waits_.emplace(w->unregistered_op().id(), w);
  return w;
}

std::optional<owned_operations::completion> owned_operations::complete(const io_completed& msg) {
  if (auto i = pending_.find(msg.op_id); i != pending_.end()) {
    completion out{std::move(i->second), nullptr, msg.bytes, msg.error};
    pending_.erase(i);
    return out;
  }
  for (auto& kv : waits_) {
    auto& w = kv.second;
    if (w->fired_op().id() == msg.op_id) {
      completion out{w->fired_ptr(), w, msg.bytes, msg.error};
      core_->end_wait(w, owner_, false);
      return out;
    }
  }
  if (auto i = waits_.find(msg.op_id); i != waits_.end()) {
    completion out{i->second->unregistered_ptr(), i->second, msg.bytes, msg.error};
    waits_.erase(i);
    return out;
  }
  core_->log->error("actor#{}: completion for unknown op#{}", owner_.id(), msg.op_id);
  return std::nullopt;
}

void owned_operations::cancel_all() {
  for (auto& kv : pending_)
    if (auto code = kv.second->cancel())
      core_->log->warn("actor#{}: {}", owner_.id(), io::error{"CancelIoEx", code}.to_string());
  for (auto& kv : waits_)
    core_->end_wait(kv.second, owner_, false);
}

} // namespace iocaf
