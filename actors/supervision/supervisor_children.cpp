// The supervisor's child lifecycle: starting children, the stop queue
// (reverse start order, OTP shutdown times), restarts with intensity and
// backoff, and what a child's exit means under each strategy.
#include "actors/supervision/supervisor_state.hpp"

#include <algorithm>

namespace iocaf::supervision_detail {

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
          std::string reason) {
  // Debug: events are the observer's to show (a program printing them and
  // info logs would say everything twice).
  auto& log = self->state.log;
  if (kind == supervisor_event_kind::started)
    log->debug("child \"{}\" started (actor#{})", id, a.id());
  else
    log->debug("child \"{}\" {}{}{}", id, to_string(kind), reason.empty() ? "" : ": ", reason);
  if (self->state.observer)
    self->send(self->state.observer, supervisor_event{kind, id, a, std::move(reason)});
}


// Starts (or restarts) one child; false if its start function failed.
bool start_child(sup self, child& c, caf::error* failure) {
  caf::expected<caf::actor> a = caf::sec::invalid_argument;
  try {
    a = c.spec.start(self->system());
  } catch (const std::exception& e) {
    a = make_error(errc::bad_input, std::string("start function threw: ") + e.what());
  }
  if (a && !*a)
    a = make_error(errc::bad_input, "start function returned no actor");
  if (!a && a.error() == ignore_child()) {
    emit(self, supervisor_event_kind::ignored, c.spec.id, {});
    c.actor = nullptr;
    c.restart_pending = false;
    return true;
  }
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

static void finish_stop_queue(sup self);

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

static void finish_stop_queue(sup self) {
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
static void on_terminated(sup self, child& c) {
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
static bool note_restart(sup self) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  st.restarts.push_back(now);
  while (!st.restarts.empty() && st.restarts.front() < now - st.flags.period)
    st.restarts.pop_front();
  return st.restarts.size() <= static_cast<std::size_t>(st.flags.intensity);
}

// The backoff before restarting this child (advancing its step), or zero.
static std::chrono::milliseconds backoff_delay(sup self, child& c) {
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
static void significant_child_ended(sup self, const std::string& id) {
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

} // namespace iocaf::supervision_detail
