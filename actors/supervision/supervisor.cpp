#include "actors/supervision/supervisor.hpp"

#include "actors/core/messages.hpp"

#include <caf/send.hpp>

#include <algorithm>
#include <deque>
#include <random>

namespace iocaf {

const char* to_string(supervisor_event_kind k) {
  switch (k) {
    case supervisor_event_kind::started: return "started";
    case supervisor_event_kind::exited: return "exited";
    case supervisor_event_kind::terminated: return "terminated";
    case supervisor_event_kind::killed: return "killed";
    case supervisor_event_kind::start_failed: return "start_failed";
    case supervisor_event_kind::gave_up: return "gave_up";
    case supervisor_event_kind::auto_shutdown: return "auto_shutdown";
  }
  return "?";
}

const char* to_string(child_type t) {
  return t == child_type::supervisor ? "supervisor" : "worker";
}

namespace {

// Self-sent timers and retries (anonymous: nothing to answer).
using shutdown_timeout_atom = caf::atom_constant<caf::atom("sup_kill")>;
using retry_atom = caf::atom_constant<caf::atom("sup_retry")>;
using backoff_atom = caf::atom_constant<caf::atom("sup_boff")>;       // restart one child now
using backoff_group_atom = caf::atom_constant<caf::atom("sup_boffg")>; // restart the group now

caf::error supervisor_error(supervisor_errc code, std::string text) {
  return caf::error{static_cast<std::uint8_t>(code), supervisor_error_category, caf::make_message(std::move(text))};
}

std::string reason_text(const caf::error& e) {
  if (!e)
    return "normal";
  auto s = supervisor_error_text(e);
  if (!s.empty())
    return s;
  // Other categories' errors whose context ends in a text (e.g. a process exit): that text.
  auto& ctx = e.context();
  if (e.category() != caf::atom("iocaf") && e.category() != caf::atom("system") && !ctx.empty() &&
      ctx.match_element<std::string>(ctx.size() - 1))
    return ctx.get_as<std::string>(ctx.size() - 1);
  return describe(e);
}

// OTP: a transient child is restarted unless it left with normal or shutdown.
bool is_normal(const caf::error& reason) {
  return !reason || reason == caf::exit_reason::normal || reason == caf::exit_reason::user_shutdown;
}

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

child* find(sup self, const std::string& id) {
  for (auto& c : self->state.children)
    if (c.spec.id == id)
      return &c;
  return nullptr;
}

child* find(sup self, const caf::actor_addr& a) {
  for (auto& c : self->state.children)
    if (c.actor && c.actor.address() == a)
      return &c;
  return nullptr;
}

void emit(sup self, supervisor_event_kind kind, const std::string& id, const caf::actor_addr& a,
          std::string reason = {}) {
  auto& log = self->state.log;
  if (kind == supervisor_event_kind::started)
    log->info("child \"{}\" started (actor#{})", id, a.id());
  else if (kind == supervisor_event_kind::exited || kind == supervisor_event_kind::start_failed ||
           kind == supervisor_event_kind::gave_up)
    log->info("child \"{}\" {}: {}", id, to_string(kind), reason);
  else
    log->debug("child \"{}\" {}", id, to_string(kind));
  if (self->state.observer)
    self->send(self->state.observer, supervisor_event{kind, id, a, std::move(reason)});
}

void begin_shutdown(sup self, caf::error reason);
void handle_exit(sup self, const std::string& id, caf::error reason);

// Starts (or restarts) one child; false if its start function failed.
bool start_child(sup self, child& c, caf::error* failure = nullptr) {
  caf::expected<caf::actor> a = caf::sec::invalid_argument;
  try {
    a = c.spec.start(self->system());
  } catch (const std::exception& e) {
    a = make_error(errc::bad_input, std::string("start function threw: ") + e.what());
  }
  if (a && !*a)
    a = make_error(errc::bad_input, "start function returned no actor");
  if (!a) {
    emit(self, supervisor_event_kind::start_failed, c.spec.id, {}, describe(a.error()));
    if (failure != nullptr)
      *failure = a.error();
    return false;
  }
  c.actor = std::move(*a);
  c.started_at = std::chrono::steady_clock::now();
  c.restart_pending = false;
  c.terminating = false;
  c.killed = false;
  // Monitored, not linked: CAF sends exit_reason::kill over a link unchanged
  // and no exit handler can trap it, so a child killed by anyone would kill
  // us and every sibling. Its DOWN is a child failure; if we die first, our
  // state's destructor kills it.
  self->monitor(c.actor);
  emit(self, supervisor_event_kind::started, c.spec.id, c.actor.address());
  return true;
}

// A restart failed. OTP retries it as another restart (it counts), except
// when the iocaf runtime is stopping: no start can succeed then, so the
// supervisor shuts down at once, naming the child, instead of spending its
// intensity on restarts that cannot work.
void restart_failed(sup self, const std::string& id, caf::error failure) {
  if (is(failure, errc::shutdown)) {
    begin_shutdown(self, supervisor_error(supervisor_errc::start_failed,
                                          "cannot restart child \"" + id + "\": " + describe(failure)));
    return;
  }
  caf::anon_send(caf::actor{self}, retry_atom::value, id, std::move(failure));
}

void stop_child(sup self, child& c) {
  if (!c.actor || c.terminating)
    return;
  c.terminating = true;
  auto limit = effective_shutdown(c.spec);
  if (limit.count() <= 0) {
    c.killed = true;
    self->send_exit(c.actor, caf::exit_reason::kill);
    return;
  }
  self->send_exit(c.actor, caf::exit_reason::user_shutdown);
  if (limit != shutdown_infinity)
    caf::delayed_anon_send(caf::actor{self}, limit, shutdown_timeout_atom::value, c.actor.address());
}

void finish_stop_queue(sup self);

// Stops the queued children one at a time, reverse start order (OTP); a
// pool's all at once.
void advance_stop_queue(sup self) {
  auto& q = self->state.stop_queue;
  if (self->state.pool_template) {
    q.erase(std::remove_if(q.begin(), q.end(),
                           [&](const std::string& id) {
                             auto* c = find(self, id);
                             return c == nullptr || !c->actor;
                           }),
            q.end());
    for (auto& id : q)
      stop_child(self, *find(self, id)); // no-op if it is stopping already
    if (q.empty())
      finish_stop_queue(self);
    return;
  }
  while (!q.empty()) {
    auto* c = find(self, q.front());
    if (c == nullptr || !c->actor) {
      q.pop_front();
      continue;
    }
    stop_child(self, *c); // no-op if it is stopping already
    return;
  }
  finish_stop_queue(self);
}

// Takes child `id` out of the stop queue; true if it was the one being stopped.
bool leave_stop_queue(sup self, const std::string& id) {
  auto& q = self->state.stop_queue;
  bool was_front = !q.empty() && q.front() == id;
  q.erase(std::remove(q.begin(), q.end(), id), q.end());
  return was_front;
}

void restart_group_now(sup self) {
  auto& st = self->state;
  auto group = std::move(st.restart_group);
  st.restart_group.clear();
  st.now = phase::running;
  for (auto& id : group) {
    auto* c = find(self, id);
    if (c == nullptr || c->actor)
      continue;
    if (c->spec.restart == restart_type::temporary) {
      st.children.erase(st.children.begin() + (c - st.children.data()));
      continue;
    }
    ++c->restarts;
    caf::error failure;
    if (!start_child(self, *c, &failure))
      restart_failed(self, id, std::move(failure));
  }
  auto deferred = std::move(st.deferred_exits);
  st.deferred_exits.clear();
  for (auto& d : deferred)
    if (st.now == phase::running)
      handle_exit(self, d.first, std::move(d.second));
}

void finish_stop_queue(sup self) {
  auto& st = self->state;
  if (st.now == phase::shutting_down) {
    st.log->info("all children stopped; supervisor exits: {}", reason_text(st.exit_reason));
    self->quit(st.exit_reason);
  } else if (st.now == phase::restarting) {
    if (st.group_delay.count() > 0)
      caf::delayed_anon_send(caf::actor{self}, st.group_delay, backoff_group_atom::value);
    else
      restart_group_now(self);
  }
}

// A child we asked to stop is gone.
void on_terminated(sup self, child& c) {
  auto& st = self->state;
  emit(self, c.killed ? supervisor_event_kind::killed : supervisor_event_kind::terminated, c.spec.id,
       c.actor.address());
  c.actor = nullptr;
  c.terminating = false;
  std::string id = c.spec.id;
  auto stopped = std::move(c.on_stopped);
  c.on_stopped.clear();
  // OTP: a terminated child's spec is kept, except a temporary child's.
  if (!stopped.empty() && c.spec.restart == restart_type::temporary)
    st.children.erase(st.children.begin() + (&c - st.children.data()));
  for (auto& rp : stopped)
    rp.deliver(caf::unit);
  bool was_front = leave_stop_queue(self, id);
  if (was_front || (st.stop_queue.empty() && st.now != phase::running))
    advance_stop_queue(self);
}

// Records a restart; false when that exceeds the intensity.
bool note_restart(sup self) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  st.restarts.push_back(now);
  while (!st.restarts.empty() && st.restarts.front() < now - st.flags.period)
    st.restarts.pop_front();
  return st.restarts.size() <= static_cast<std::size_t>(st.flags.intensity);
}

// The backoff before restarting this child (advancing its step), or zero.
std::chrono::milliseconds backoff_delay(sup self, child& c) {
  auto& st = self->state;
  if (!st.flags.backoff)
    return std::chrono::milliseconds(0);
  auto& b = *st.flags.backoff;
  if (std::chrono::steady_clock::now() - c.started_at >= b.reset_after)
    c.backoff_step = 0;
  double base = static_cast<double>(b.min.count());
  for (std::uint32_t i = 0; i < c.backoff_step && base < static_cast<double>(b.max.count()); ++i)
    base *= 2;
  base = std::min(base, static_cast<double>(b.max.count()));
  ++c.backoff_step;
  std::uniform_real_distribution<double> noise(0.0, std::max(0.0, b.random_factor));
  return std::chrono::milliseconds(static_cast<std::int64_t>(base * (1.0 + noise(st.random))));
}

// OTP 24 auto_shutdown: a significant child ended by itself for good.
void significant_child_ended(sup self, const std::string& id) {
  auto& st = self->state;
  if (st.flags.shutdown_on == auto_shutdown::never)
    return;
  if (st.flags.shutdown_on == auto_shutdown::all_significant)
    for (auto& c : st.children)
      if (c.spec.significant && c.actor)
        return;
  auto text = "significant child \"" + id + "\" ended";
  emit(self, supervisor_event_kind::auto_shutdown, id, {}, text);
  begin_shutdown(self, caf::make_error(caf::exit_reason::user_shutdown));
}

// A child left on its own (or failed to restart): apply the strategy.
void handle_exit(sup self, const std::string& id, caf::error reason) {
  auto& st = self->state;
  auto* c = find(self, id);
  if (c == nullptr)
    return;
  if (c->spec.restart == restart_type::temporary) {
    bool significant = c->spec.significant;
    st.children.erase(st.children.begin() + (c - st.children.data()));
    if (significant)
      significant_child_ended(self, id);
    return;
  }
  if (c->spec.restart == restart_type::transient && is_normal(reason)) {
    if (c->spec.significant) // stays in the list, not running
      significant_child_ended(self, id);
    return;
  }
  if (!note_restart(self)) {
    auto text = "reached max restart intensity (" + std::to_string(st.flags.intensity) + " restarts in " +
                std::to_string(st.flags.period.count()) + " ms); child \"" + id + "\" exited: " + reason_text(reason);
    emit(self, supervisor_event_kind::gave_up, id, {}, text);
    begin_shutdown(self, supervisor_error(supervisor_errc::intensity, text));
    return;
  }
  auto pos = static_cast<std::size_t>(c - st.children.data());
  auto delay = backoff_delay(self, *c);
  bool single = st.flags.strategy == restart_strategy::one_for_one ||
                st.flags.strategy == restart_strategy::simple_one_for_one;
  if (single && delay.count() > 0) {
    st.log->info("restarting child \"{}\" in {} ms (backoff)", id, delay.count());
    c->restart_pending = true;
    caf::delayed_anon_send(caf::actor{self}, delay, backoff_atom::value, id);
    return;
  }
  if (single) {
    ++c->restarts;
    caf::error failure;
    if (!start_child(self, *c, &failure))
      restart_failed(self, id, std::move(failure));
    return;
  }
  // one_for_all: every child; rest_for_one: this one and those started after it.
  std::size_t first = st.flags.strategy == restart_strategy::one_for_all ? 0 : pos;
  st.now = phase::restarting;
  st.group_delay = delay;
  st.restart_group.clear();
  st.stop_queue.clear();
  for (std::size_t i = first; i < st.children.size(); ++i)
    st.restart_group.push_back(st.children[i].spec.id);
  for (std::size_t i = st.children.size(); i-- > first;)
    if (st.children[i].actor)
      st.stop_queue.push_back(st.children[i].spec.id);
  advance_stop_queue(self);
}

void begin_shutdown(sup self, caf::error reason) {
  auto& st = self->state;
  if (st.now == phase::shutting_down)
    return;
  st.log->info("shutting down {} children: {}", st.children.size(), reason_text(reason));
  st.now = phase::shutting_down;
  st.exit_reason = std::move(reason);
  st.restart_group.clear();
  st.deferred_exits.clear();
  st.stop_queue.clear();
  for (auto i = st.children.size(); i-- > 0;)
    if (st.children[i].actor)
      st.stop_queue.push_back(st.children[i].spec.id);
  advance_stop_queue(self);
}

void on_exit(sup self, caf::exit_msg& msg) {
  // From a child (it is not linked, so an explicit send_exit): not a request
  // to stop; its death, if it dies, comes as a DOWN message.
  if (find(self, msg.source) != nullptr)
    return;
  // Not a child: our parent (or a link of ours) wants us gone.
  begin_shutdown(self, std::move(msg.reason));
}

void on_down(sup self, caf::down_msg& msg) {
  auto& st = self->state;
  auto* c = find(self, msg.source);
  if (c == nullptr)
    return;
  if (c->terminating) {
    on_terminated(self, *c);
    return;
  }
  emit(self, supervisor_event_kind::exited, c->spec.id, msg.source, reason_text(msg.reason));
  c->actor = nullptr;
  switch (st.now) {
    case phase::running:
      handle_exit(self, c->spec.id, std::move(msg.reason));
      break;
    case phase::restarting: {
      // In the group being restarted: it is down already, which is what we wanted.
      auto& g = st.restart_group;
      if (std::find(g.begin(), g.end(), c->spec.id) == g.end())
        st.deferred_exits.emplace_back(c->spec.id, std::move(msg.reason));
      if (leave_stop_queue(self, c->spec.id))
        advance_stop_queue(self);
      break;
    }
    case phase::shutting_down: {
      if (leave_stop_queue(self, c->spec.id))
        advance_stop_queue(self);
      break;
    }
  }
}

caf::behavior supervisor(sup self, supervisor_options opts) {
  auto& st = self->state;
  st.flags = opts.flags;
  st.observer = opts.observer;
  st.log = logger("supervisor");
  self->set_exit_handler([self](caf::exit_msg& msg) { on_exit(self, msg); });
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  // Invalid options start nothing (OTP: init fails with the spec's error).
  if (auto err = validate(opts)) {
    st.log->error("{}", reason_text(err));
    self->quit(std::move(err));
    return {};
  }
  if (st.flags.strategy == restart_strategy::simple_one_for_one)
    st.pool_template = opts.children.front(); // started on request only
  for (auto& spec : st.pool_template ? std::vector<child_spec>{} : opts.children) {
    st.children.push_back(child{spec, {}, 0, false, false, {}, false, 0, {}});
    caf::error failure;
    if (!start_child(self, st.children.back(), &failure)) {
      // OTP: a child that fails to start at init fails the supervisor.
      st.children.pop_back();
      begin_shutdown(self, supervisor_error(supervisor_errc::start_failed,
                                            "failed to start child \"" + spec.id + "\": " + describe(failure)));
      break;
    }
  }
  return {
    [self](shutdown_timeout_atom, const caf::actor_addr& a) {
      auto* c = find(self, a);
      if (c == nullptr || !c->terminating)
        return;
      self->state.log->warn("child \"{}\" still running after its shutdown time ({} ms): killing it", c->spec.id,
                            effective_shutdown(c->spec).count());
      c->killed = true;
      self->send_exit(c->actor, caf::exit_reason::kill);
    },
    [self](backoff_atom, const std::string& id) {
      auto* c = find(self, id);
      if (self->state.now != phase::running || c == nullptr || !c->restart_pending || c->actor)
        return; // stopped, removed or restarted by request meanwhile
      ++c->restarts;
      caf::error failure;
      if (!start_child(self, *c, &failure))
        restart_failed(self, id, std::move(failure));
    },
    [self](backoff_group_atom) {
      if (self->state.now == phase::restarting && self->state.stop_queue.empty())
        restart_group_now(self);
    },
    [self](retry_atom, const std::string& id, const caf::error& failure) {
      if (self->state.now == phase::running)
        handle_exit(self, id, failure);
    },
    [self](pool_start_atom) -> caf::result<caf::actor> {
      auto& st = self->state;
      if (!st.pool_template)
        return make_error(errc::bad_input, "not a simple_one_for_one supervisor");
      if (st.now == phase::shutting_down)
        return make_error(errc::closing, "the supervisor is shutting down");
      st.children.push_back(child{*st.pool_template, {}, 0, false, false, {}, false, 0, {}});
      st.children.back().spec.id += "#" + std::to_string(st.pool_next++);
      caf::error failure;
      if (!start_child(self, st.children.back(), &failure)) {
        st.children.pop_back();
        return failure;
      }
      return st.children.back().actor;
    },
    [self](start_child_atom, child_spec& spec) -> caf::result<caf::actor> {
      auto& st = self->state;
      if (st.pool_template)
        return make_error(errc::bad_input, "a simple_one_for_one supervisor starts children from its template");
      if (st.now == phase::shutting_down)
        return make_error(errc::closing, "the supervisor is shutting down");
      if (auto err = validate(st.flags, spec))
        return err;
      if (find(self, spec.id) != nullptr)
        return make_error(errc::in_use, "a child with id \"" + spec.id + "\" exists already");
      st.children.push_back(child{std::move(spec), {}, 0, false, false, {}, false, 0, {}});
      caf::error failure;
      if (!start_child(self, st.children.back(), &failure)) {
        st.children.pop_back();
        return failure;
      }
      return st.children.back().actor;
    },
    [self](term_child_atom, const std::string& id) -> caf::result<caf::unit_t> {
      auto* c = find(self, id);
      if (c == nullptr)
        return make_error(errc::not_found, "no child with id \"" + id + "\"");
      c->restart_pending = false;
      // Not part of a restart any more.
      auto& g = self->state.restart_group;
      g.erase(std::remove(g.begin(), g.end(), id), g.end());
      if (!c->actor) {
        if (c->spec.restart == restart_type::temporary)
          self->state.children.erase(self->state.children.begin() + (c - self->state.children.data()));
        return caf::unit;
      }
      c->on_stopped.push_back(self->make_response_promise());
      stop_child(self, *c);
      return caf::delegated<caf::unit_t>{};
    },
    [self](restart_child_atom, const std::string& id) -> caf::result<caf::actor> {
      auto& st = self->state;
      if (st.now != phase::running)
        return make_error(errc::closing, "the supervisor is " +
                                           std::string(st.now == phase::restarting ? "restarting" : "shutting down"));
      auto* c = find(self, id);
      if (c == nullptr)
        return make_error(errc::not_found, "no child with id \"" + id + "\"");
      if (c->actor)
        return make_error(errc::in_use, "child \"" + id + "\" is running");
      caf::error failure;
      if (!start_child(self, *c, &failure))
        return failure;
      return c->actor;
    },
    [self](delete_child_atom, const std::string& id) -> caf::result<caf::unit_t> {
      auto& st = self->state;
      auto* c = find(self, id);
      if (c == nullptr)
        return make_error(errc::not_found, "no child with id \"" + id + "\"");
      if (c->actor)
        return make_error(errc::in_use, "child \"" + id + "\" is running");
      auto& g = st.restart_group;
      if (std::find(g.begin(), g.end(), id) != g.end())
        return make_error(errc::in_use, "child \"" + id + "\" is being restarted");
      st.children.erase(st.children.begin() + (c - st.children.data()));
      return caf::unit;
    },
    [self](which_child_atom) {
      std::vector<child_info> out;
      for (auto& c : self->state.children)
        out.push_back(child_info{c.spec.id, c.actor, c.spec.type, c.restarts});
      return out;
    },
    [self](count_child_atom) {
      child_counts n;
      for (auto& c : self->state.children) {
        ++n.specs;
        n.active += c.actor ? 1 : 0;
        ++(c.spec.type == child_type::supervisor ? n.supervisors : n.workers);
      }
      return n;
    },
  };
}

} // namespace

caf::error validate(const supervisor_flags& flags) {
  if (flags.intensity < 0)
    return supervisor_error(supervisor_errc::bad_request,
                            "invalid restart intensity " + std::to_string(flags.intensity) + " (must be >= 0)");
  if (flags.period.count() <= 0)
    return supervisor_error(supervisor_errc::bad_request,
                            "invalid restart period " + std::to_string(flags.period.count()) + " ms (must be > 0)");
  if (flags.backoff && (flags.backoff->min.count() <= 0 || flags.backoff->max < flags.backoff->min ||
                        flags.backoff->random_factor < 0))
    return supervisor_error(supervisor_errc::bad_request,
                            "invalid restart backoff (need 0 < min <= max and random_factor >= 0)");
  return {};
}

caf::error validate(const child_spec& spec) {
  if (spec.id.empty())
    return supervisor_error(supervisor_errc::bad_request, "invalid child spec: empty id");
  auto bad = [&](const std::string& why) {
    return supervisor_error(supervisor_errc::bad_request, "invalid child spec \"" + spec.id + "\": " + why);
  };
  if (!spec.start)
    return bad("no start function");
  if (spec.shutdown && spec.shutdown->count() < 0)
    return bad("negative shutdown time");
  if (spec.significant && spec.restart == restart_type::permanent)
    return bad("a permanent child cannot be significant");
  return {};
}

caf::error validate(const supervisor_flags& flags, const child_spec& spec) {
  if (auto err = validate(flags))
    return err;
  if (auto err = validate(spec))
    return err;
  if (spec.significant && flags.shutdown_on == auto_shutdown::never)
    return supervisor_error(supervisor_errc::bad_request,
                            "invalid child spec \"" + spec.id +
                              "\": a significant child needs auto_shutdown any_significant or all_significant");
  return {};
}

caf::error validate(const supervisor_options& opts) {
  if (auto err = validate(opts.flags))
    return err;
  if (opts.flags.strategy == restart_strategy::simple_one_for_one && opts.children.size() != 1)
    return supervisor_error(supervisor_errc::bad_request, "simple_one_for_one needs exactly one child spec (got " +
                                                            std::to_string(opts.children.size()) + ")");
  for (std::size_t i = 0; i < opts.children.size(); ++i) {
    if (auto err = validate(opts.flags, opts.children[i]))
      return err;
    for (std::size_t j = 0; j < i; ++j)
      if (opts.children[j].id == opts.children[i].id)
        return supervisor_error(supervisor_errc::bad_request, "duplicate child id \"" + opts.children[i].id + "\"");
  }
  return {};
}

std::string supervisor_error_text(const caf::error& e) {
  if (e.category() != supervisor_error_category || !e.context().match_elements<std::string>())
    return {};
  return "supervisor: " + e.context().get_as<std::string>(0);
}

void configure_supervisor_errors(caf::actor_system_config& cfg) {
  cfg.add_error_category(supervisor_error_category, [](std::uint8_t, caf::atom_value, const caf::message& ctx) {
    return ctx.match_elements<std::string>() ? "supervisor: " + ctx.get_as<std::string>(0)
                                             : std::string("supervisor error");
  });
}

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_options opts) {
  return sys.spawn(supervisor, std::move(opts));
}

std::chrono::milliseconds effective_shutdown(const child_spec& spec) {
  if (spec.shutdown)
    return *spec.shutdown;
  return spec.type == child_type::supervisor ? shutdown_infinity : default_worker_shutdown;
}

child_spec supervisor_child(std::string id, supervisor_options opts, restart_type restart) {
  child_spec s;
  s.id = std::move(id);
  s.type = child_type::supervisor;
  s.restart = restart;
  s.start = [opts = std::move(opts)](caf::actor_system& sys) -> caf::expected<caf::actor> {
    return spawn_supervisor(sys, opts);
  };
  return s;
}

} // namespace iocaf
