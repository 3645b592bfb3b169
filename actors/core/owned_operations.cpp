#include "actors/core/owned_operations.hpp"

#include <vector>

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
    for (auto& kv : pending_)
      kv.second->orphan();
    cancel_pending();
    for (auto& kv : waits_) {
      kv.second->fired_op().orphan();
      kv.second->unregistered_op().orphan();
      core_->end_wait(kv.second, owner_, true);
    }
  }
  core_->remove_io_actor(owner_.id());
}

unsigned long owned_operations::refuse_start(const io::operation& op) const {
  if (pending_.count(op.id()) > 0) {
    core_->log->error("actor#{}: op#{} ({}) started while in flight: refused", owner_.id(), op.id(),
                      io::to_string(op.kind()));
    return ERROR_BUSY;
  }
  if (closing_) {
    core_->log->debug("actor#{}: op#{} ({}) started while closing: refused", owner_.id(), op.id(),
                      io::to_string(op.kind()));
    return ERROR_OPERATION_ABORTED;
  }
  bool accepts = op.kind() == io::op_kind::accept || op.kind() == io::op_kind::connect_pipe;
  if (accepts && core_->stopping.load()) {
    core_->log->debug("actor#{}: op#{} ({}) refused: the runtime is shutting down", owner_.id(), op.id(),
                      io::to_string(op.kind()));
    return ERROR_OPERATION_ABORTED;
  }
  return 0;
}

// No packet will come: the operation stays pending (so the owner cannot
// quit before it has heard) until this message arrives like one.
void owned_operations::complete_inline(const io::operation_ptr& op, unsigned long code) {
  pending_.emplace(op->id(), op);
  core_->inline_results.fetch_add(1);
  caf::anon_send(caf::actor_cast<caf::actor>(owner_),
                 io_completed{op->id(), op->generation(), 0, static_cast<std::uint32_t>(code)});
}

io::result<io::wait_ptr> owned_operations::watch(HANDLE object) {
  // As a start: the cancel protocol has begun and would not end this wait.
  if (closing_)
    return io::error{"RegisterWaitForSingleObject (refused: the actor is closing)", ERROR_OPERATION_ABORTED};
  auto w = std::make_shared<io::wait_registration>(core_->port);
  std::weak_ptr<io_core> weak_core = core_;
  w->on_post_failed([weak_core](io::operation& op, const io::error& why) {
    if (auto core = weak_core.lock())
      core->on_wait_post_failed(op, why);
  });
  auto fired = w->fired_ptr();
  core_->put_in_flight(fired, owner_, w);
  if (auto err = w->arm(object)) {
    core_->table.erase(fired->overlapped());
    return err;
  }
  waits_.emplace(w->unregistered_op().id(), w);
  return w;
}

bool owned_operations::move_to_broker(const io::operation_ptr& op) {
  if (!core_->actors_on_broker.load() || core_->broker_thread.load() == std::this_thread::get_id())
    return false;
  auto& port = core_->port;
  // A failed post arrives as op's completion with its code, like any start.
  return launch(op, nullptr, [&port](io::operation& o) { return port.post(io::key_io, 0, o.overlapped()).code(); });
}

std::optional<owned_operations::completion> owned_operations::complete(const io_completed& msg) {
  if (auto i = pending_.find(msg.op_id); i != pending_.end()) {
    if (msg.generation != i->second->generation()) {
      // The broker already checks this; a second line of defence for the owner.
      core_->stale.fetch_add(1);
      core_->unexpected.fetch_add(1);
      core_->log->error("actor#{}: completion of op#{} generation {}, but it is at {}: stale, ignored",
                        owner_.id(), msg.op_id, msg.generation, i->second->generation());
      return std::nullopt;
    }
    completion out{std::move(i->second), nullptr, msg.bytes, msg.error};
    pending_.erase(i);
    return out;
  }
  for (auto i = waits_.begin(); i != waits_.end(); ++i) {
    auto& w = i->second;
    if (w->fired_op().id() == msg.op_id) {
      completion out{w->fired_ptr(), w, msg.bytes, msg.error};
      // It fired: its last packet. Aborted: the release follows.
      if (w->current_state() == io::wait_registration::fired)
        waits_.erase(i);
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

void owned_operations::cancel_pending() {
  std::unordered_map<HANDLE, std::vector<io::operation*>> by_handle;
  for (auto& kv : pending_)
    if (!kv.second->cancel_requested() && kv.second->target() != nullptr)
      by_handle[kv.second->target()].push_back(kv.second.get());
  for (auto& [h, ops] : by_handle) {
    if (ops.size() >= per_handle_cancel_from && core_->table.only_owner_on(h, owner_.id())) {
      if (auto code = io::operation::cancel_all_on(h, ops))
        core_->log->warn("actor#{}: {}", owner_.id(), io::error{"CancelIoEx(every operation on a handle)", code}.to_string());
      continue;
    }
    for (auto* op : ops)
      if (auto code = op->cancel())
        core_->log->warn("actor#{}: {}", owner_.id(), io::error{"CancelIoEx", code}.to_string());
  }
}

void owned_operations::cancel_all() {
  cancel_pending();
  for (auto& kv : waits_)
    core_->end_wait(kv.second, owner_, false);
}

} // namespace iocaf
