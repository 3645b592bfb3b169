#pragma once
// Internal to actors/supervision: the supervisor's state, shared by
// supervisor.cpp (the actor: requests, validation) and supervisor_children.cpp
// (the child lifecycle: start, stop queue, restarts, exits).
#include "actors/supervision/supervisor.hpp"

#include "actors/core/messages.hpp"

#include <caf/send.hpp>

#include <deque>
#include <optional>
#include <random>

namespace iocaf::supervision_detail {

// Self-sent timers and retries (anonymous: nothing to answer).
using shutdown_timeout_atom = caf::atom_constant<caf::atom("sup_kill")>;
using retry_atom = caf::atom_constant<caf::atom("sup_retry")>;
using backoff_atom = caf::atom_constant<caf::atom("sup_boff")>;       // restart one child now
using backoff_group_atom = caf::atom_constant<caf::atom("sup_boffg")>; // restart the group now

struct child {
  child_spec spec;
  caf::actor actor;
  std::uint32_t restarts = 0;
  bool terminating = false; // the supervisor asked it to stop
  bool killed = false;      // ... and had to kill it
  std::vector<caf::response_promise> on_stopped; // term_child requests
  bool restart_pending = false; // a backoff restart is scheduled
  std::uint32_t backoff_step = 0;
  std::chrono::steady_clock::time_point started_at;
};

enum class phase { running, restarting, shutting_down };

struct supervisor_state {
  supervisor_flags flags;
  caf::actor observer;
  std::vector<child> children; // start order
  std::deque<std::chrono::steady_clock::time_point> restarts;
  phase now = phase::running;
  caf::error exit_reason;
  // The children being stopped one after the other (ids, in stop order), and
  // the ones to start again when that is done (ids, in start order).
  std::deque<std::string> stop_queue;
  std::vector<std::string> restart_group;
  std::chrono::milliseconds group_delay{0}; // backoff before the group starts again
  std::vector<std::pair<std::string, caf::error>> deferred_exits;
  std::shared_ptr<spdlog::logger> log;
  std::optional<child_spec> pool_template; // simple_one_for_one
  std::uint64_t pool_next = 1;
  std::mt19937 random{std::random_device{}()};

  // The supervisor ended without stopping its children (killed, or an
  // exception): none may outlive it. CAF destroys the state whenever the
  // actor terminates, so this is its at-exit hook. (After an orderly
  // shutdown no child is running any more.)
  ~supervisor_state() {
    for (auto& c : children)
      if (c.actor) {
        if (log)
          log->warn("supervisor gone with child \"{}\" running: killing it", c.spec.id);
        caf::anon_send_exit(c.actor, caf::exit_reason::kill);
      }
  }
};

using sup = caf::stateful_actor<supervisor_state>*;

// supervisor_children.cpp
caf::error supervisor_error(supervisor_errc code, std::string text);
std::string reason_text(const caf::error& e);
bool is_normal(const caf::error& reason);
child* find(sup self, const std::string& id);
child* find(sup self, const caf::actor_addr& a);
void emit(sup self, supervisor_event_kind kind, const std::string& id, const caf::actor_addr& a,
          std::string reason = {});
bool start_child(sup self, child& c, caf::error* failure = nullptr);
void restart_failed(sup self, const std::string& id, caf::error failure);
void stop_child(sup self, child& c);
void advance_stop_queue(sup self);
bool leave_stop_queue(sup self, const std::string& id);
void restart_group_now(sup self);
void handle_exit(sup self, const std::string& id, caf::error reason);
void begin_shutdown(sup self, caf::error reason);
void on_exit(sup self, caf::exit_msg& msg);
void on_down(sup self, caf::down_msg& msg);

} // namespace iocaf::supervision_detail
