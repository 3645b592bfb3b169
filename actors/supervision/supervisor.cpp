#include "actors/supervision/supervisor_state.hpp"

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
    case supervisor_event_kind::ignored: return "ignored";
    case supervisor_event_kind::gave_up: return "gave_up";
    case supervisor_event_kind::auto_shutdown: return "auto_shutdown";
  }
  return "?";
}

const char* to_string(child_type t) {
  return t == child_type::supervisor ? "supervisor" : "worker";
}

namespace {

using namespace supervision_detail;

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
      if (!start_child(self, st.children.back(), &failure) || !st.children.back().actor) {
        st.children.pop_back(); // failed, or ignored: a pool keeps no idle spec (OTP)
        return failure ? caf::result<caf::actor>{failure} : caf::result<caf::actor>{caf::actor{}};
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

caf::error ignore_child() {
  return caf::error{static_cast<std::uint8_t>(supervisor_errc::ignore), supervisor_error_category,
                    caf::make_message(std::string("the start function returned ignore"))};
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
