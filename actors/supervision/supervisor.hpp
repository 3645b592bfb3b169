#pragma once
// An OTP-style supervisor: child specs with a start function, restart
// strategies (one_for_one, one_for_all, rest_for_one), restart types
// (permanent, transient, temporary), restart intensity (more than
// `intensity` restarts within `period` ends the supervisor with a reason
// naming the child), shutdown in reverse start order with a per-child
// timeout before a kill, and children added and removed at run time.
//
// The supervisor monitors its children and traps exits: a child's death, for
// any reason and from anyone (even exit_reason::kill), is a child failure for
// the restart strategy; an exit message from anyone but a child (its parent,
// a link) shuts it down, children first. Unlike OTP it does not link to its
// children (CAF forwards kill over links untrappably); if the supervisor is
// killed anyway, it kills its running children as it goes.
#include "io/log.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace iocaf {

// simple_one_for_one (OTP): a dynamic pool. The options hold exactly one
// spec, a template: no child starts at first; each (pool_start_atom) request
// starts one more from it (id "<template id>#<n>"), restarted one_for_one;
// on shutdown all are stopped at once, each within its shutdown time.
enum class restart_strategy : std::uint8_t { one_for_one, one_for_all, rest_for_one, simple_one_for_one };
enum class restart_type : std::uint8_t {
  permanent, // always restarted
  transient, // restarted only after an abnormal exit (not normal, not user_shutdown)
  temporary, // never restarted, forgotten when it exits
};

// OTP: a worker, or a supervisor (a subtree: see spawn_supervisor).
enum class child_type : std::uint8_t { worker, supervisor };
const char* to_string(child_type t);

constexpr std::chrono::milliseconds shutdown_infinity = std::chrono::milliseconds::max();
constexpr std::chrono::milliseconds default_worker_shutdown{5000};

struct child_spec {
  std::string id;
  // Starts the child (any actor: a process actor, a server, ...). The
  // supervisor monitors it. An error (or an invalid actor) is a failed start;
  // ignore_child() is OTP's `ignore`: nothing runs, the spec is kept.
  std::function<caf::expected<caf::actor>(caf::actor_system&)> start;
  restart_type restart = restart_type::permanent;
  child_type type = child_type::worker;
  // On shutdown: how long the child gets after its exit message before it is
  // killed (exit_reason::kill). Zero: killed at once (OTP's brutal_kill);
  // shutdown_infinity: never killed. Unset: OTP's defaults, 5000 ms for a
  // worker and infinity for a supervisor (a subtree stops in its own time).
  std::optional<std::chrono::milliseconds> shutdown;
  // OTP 24: a significant child's exit may end the supervisor (see
  // auto_shutdown). Only transient or temporary children can be significant.
  bool significant = false;
};

enum class auto_shutdown : std::uint8_t {
  never,           // significant children are not allowed
  any_significant, // the first significant child to end ends the supervisor
  all_significant, // ... the last running significant child to end
};

// Restart backoff (as Akka's BackoffSupervisor): the n-th consecutive
// restart of a child (n = 0, 1, ...) waits min * 2^n, at most max, times
// 1 + a random part up to random_factor. The count starts again once the
// child has run for reset_after. Restart intensity still applies (a restart
// counts when the child exits, not when it starts again).
struct restart_backoff {
  std::chrono::milliseconds min{100};
  std::chrono::milliseconds max{10000};
  double random_factor = 0.2;
  std::chrono::milliseconds reset_after{10000};
};

struct supervisor_flags {
  restart_strategy strategy = restart_strategy::one_for_one;
  int intensity = 3;                      // at most this many restarts (>= 0) ...
  std::chrono::milliseconds period{5000}; // ... within this window
  // OTP 24: when a significant child ends by itself (not stopped by the
  // supervisor, and not to be restarted), the supervisor shuts down if this
  // says so. With never, a significant child is invalid.
  auto_shutdown shutdown_on = auto_shutdown::never;
  std::optional<restart_backoff> backoff{}; // none: restart at once (OTP)
};

// What the supervisor tells its observer (for logs, demos and tests).
enum class supervisor_event_kind : std::uint8_t {
  started,      // a child started (or restarted)
  exited,       // a child exited on its own; `reason` says why
  terminated,   // the supervisor stopped a child and it left within its shutdown time
  killed,       // ... and it had to be killed after its shutdown time
  start_failed, // a start function failed
  ignored,      // a start function returned ignore_child(): the spec is kept, nothing runs
  gave_up,      // restart intensity exceeded: the supervisor shuts down
  auto_shutdown,// a significant child ended: the supervisor shuts down (auto_shutdown)
};
const char* to_string(supervisor_event_kind k);

struct supervisor_event {
  supervisor_event_kind kind = supervisor_event_kind::started;
  std::string child;
  caf::actor_addr actor;
  std::string reason;
  std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now(); // when it happened
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, supervisor_event& x) {
  auto k = static_cast<std::uint8_t>(x.kind);
  auto at = static_cast<std::int64_t>(x.at.time_since_epoch().count());
  return f(caf::meta::type_name("supervisor_event"), k, x.child, x.actor, x.reason, at);
}

struct child_info {
  std::string id;
  caf::actor actor; // invalid when not running
  child_type type = child_type::worker;
  std::uint32_t restarts = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, child_info& x) {
  auto t = static_cast<std::uint8_t>(x.type);
  return f(caf::meta::type_name("child_info"), x.id, x.actor, t, x.restarts);
}

// OTP's count_children.
struct child_counts {
  std::size_t specs = 0;       // all children, running or not
  std::size_t active = 0;      // running
  std::size_t supervisors = 0; // specs of type supervisor
  std::size_t workers = 0;     // specs of type worker
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, child_counts& x) {
  return f(caf::meta::type_name("child_counts"), x.specs, x.active, x.supervisors, x.workers);
}

struct supervisor_options {
  supervisor_flags flags;
  std::vector<child_spec> children; // started in this order, stopped in reverse
  caf::actor observer;              // gets supervisor_event messages; may be empty
};

// Why these options (or this spec) cannot be used: an error of the
// supervisor category with bad_request and a clear text, or none. Checked by
// the supervisor before it starts any child (it then exits with that error)
// and by start_child.
caf::error validate(const supervisor_flags& flags);
caf::error validate(const child_spec& spec);
caf::error validate(const supervisor_flags& flags, const child_spec& spec); // both, and the two together
caf::error validate(const supervisor_options& opts);

// Requests (OTP's supervisor API):
//   (start_child_atom, child_spec)       -> caf::actor (invalid if ignored), or an error (invalid spec,
//                                           id in use, start failed)
//   (term_child_atom, std::string id)    -> caf::unit once it is stopped; the spec is kept
//                                           (a temporary child's is dropped), not_found
//   (restart_child_atom, std::string id) -> caf::actor: starts a kept, stopped child again;
//                                           in_use if it runs, not_found, or the start's error
//   (delete_child_atom, std::string id)  -> caf::unit: drops a stopped child's spec; in_use if it runs
//   (which_child_atom)                   -> std::vector<child_info> in start order
//   (count_child_atom)                   -> child_counts
using start_child_atom = caf::atom_constant<caf::atom("start_ch")>;
using term_child_atom = caf::atom_constant<caf::atom("term_ch")>;
using restart_child_atom = caf::atom_constant<caf::atom("restart_ch")>;
using delete_child_atom = caf::atom_constant<caf::atom("delete_ch")>;
using which_child_atom = caf::atom_constant<caf::atom("which_ch")>;
using count_child_atom = caf::atom_constant<caf::atom("count_ch")>;
//   (pool_start_atom)                    -> caf::actor: simple_one_for_one only, a new child from the template
using pool_start_atom = caf::atom_constant<caf::atom("pool_start")>;

// The supervisor's own exit reasons (besides the one it was stopped with).
constexpr caf::atom_value supervisor_error_category = caf::atom("supervisor");
enum class supervisor_errc : std::uint8_t { intensity = 1, start_failed = 2, bad_request = 3, ignore = 4 };
// What a start function returns for OTP's `ignore`: the child need not run
// now. Its spec is kept (a pool's is not added) and it is not restarted;
// start_child, restart_child and pool_start answer an invalid actor handle.
caf::error ignore_child();
// The text of a supervisor error ("" if it is none).
std::string supervisor_error_text(const caf::error& e);
void configure_supervisor_errors(caf::actor_system_config& cfg);

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_options opts);

// The shutdown time a child gets (its own, or OTP's default for its type).
std::chrono::milliseconds effective_shutdown(const child_spec& spec);

// A child spec for a subtree: a supervisor with these options, of type
// supervisor (shutdown infinity unless set). Each (re)start spawns a new one.
child_spec supervisor_child(std::string id, supervisor_options opts,
                            restart_type restart = restart_type::permanent);

} // namespace iocaf

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(iocaf::child_spec)
