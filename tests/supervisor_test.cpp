// The supervisor: OTP strategies, restart types, restart intensity, shutdown
// order and timeouts, dynamic children, and supervised child processes.
#include "actors/supervision/supervisor.hpp"
#include "process_support.hpp"

#include <map>
#include <random>

using namespace iocaf;
using kind = supervisor_event_kind;

namespace {

using crash_atom = caf::atom_constant<caf::atom("crash")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;

struct worker_options {
  bool stubborn = false;                    // ignores exit messages (only a kill ends it)
  std::chrono::milliseconds exit_delay{0};  // takes this long to leave after an exit message
};

caf::behavior worker(caf::event_based_actor* self, worker_options o) {
  if (o.stubborn) {
    self->set_exit_handler([](caf::exit_msg&) {});
  } else if (o.exit_delay.count() > 0) {
    self->set_exit_handler([self, o](caf::exit_msg& m) {
      self->delayed_send(self, o.exit_delay, crash_atom::value, m.reason);
    });
  }
  return {
    [self](crash_atom, caf::error& reason) { self->quit(std::move(reason)); },
    [](ping_atom) { return ping_atom::value; },
  };
}

child_spec worker_spec(std::string id, restart_type r = restart_type::permanent, worker_options o = {},
                       std::chrono::milliseconds shutdown = std::chrono::seconds(5)) {
  child_spec s;
  s.id = std::move(id);
  s.start = [o](caf::actor_system& sys) -> caf::expected<caf::actor> { return sys.spawn(worker, o); };
  s.restart = r;
  s.shutdown = shutdown;
  return s;
}

class supervisor_test : public test::runtime_test {
protected:
  void SetUp() override {
    runtime_test::SetUp();
    self = std::make_unique<caf::scoped_actor>(*sys);
  }
  void TearDown() override {
    if (sup) {
      (*self)->send_exit(sup, caf::exit_reason::user_shutdown);
      wait_down(sup);
    }
    self.reset();
    runtime_test::TearDown();
  }

  caf::actor start(supervisor_flags flags, std::vector<child_spec> children) {
    supervisor_options o;
    o.flags = flags;
    o.children = std::move(children);
    o.observer = caf::actor{*self};
    sup = spawn_supervisor(*sys, std::move(o));
    (*self)->monitor(sup);
    return sup;
  }

  supervisor_event next_event() {
    supervisor_event out;
    out.child = "<timeout>";
    (*self)->receive([&](supervisor_event& e) { out = std::move(e); },
                     caf::after(test::timeout) >> [] { ADD_FAILURE() << "no supervisor event"; });
    return out;
  }

  // The next events, as "kind:child" strings.
  std::vector<std::string> events(std::size_t n) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
      auto e = next_event();
      out.push_back(std::string(to_string(e.kind)) + ":" + e.child);
    }
    return out;
  }

  std::vector<child_info> children() {
    std::vector<child_info> out;
    (*self)->request(sup, test::timeout, which_child_atom::value)
      .receive([&](std::vector<child_info>& v) { out = std::move(v); },
               [&](caf::error& e) { ADD_FAILURE() << describe(e); });
    return out;
  }

  caf::actor child_actor(const std::string& id) {
    for (auto& c : children())
      if (c.id == id)
        return c.actor;
    return {};
  }

  caf::error wait_down(caf::actor& a) {
    caf::error reason;
    bool got = false;
    while (!got) {
      bool timed_out = false;
      (*self)->receive(
        [&](caf::down_msg& dm) {
          if (dm.source == a.address()) {
            got = true;
            reason = dm.reason;
          }
        },
        [&](supervisor_event&) {}, caf::after(test::timeout) >> [&] { timed_out = true; });
      if (timed_out) {
        ADD_FAILURE() << "no DOWN from actor#" << a.id();
        break;
      }
    }
    a = nullptr;
    return reason;
  }

  // Starts a supervisor with invalid options: it must exit with a
  // bad_request error before starting any child. Returns the error's text.
  std::string rejected(supervisor_flags flags, std::vector<child_spec> children) {
    start(flags, std::move(children));
    std::vector<std::string> started;
    caf::error reason;
    bool got = false;
    while (!got) {
      bool timed_out = false;
      (*self)->receive(
        [&](caf::down_msg& dm) {
          if (dm.source == sup.address()) {
            got = true;
            reason = dm.reason;
          }
        },
        [&](supervisor_event& e) { started.push_back(std::string(to_string(e.kind)) + ":" + e.child); },
        caf::after(test::timeout) >> [&] { timed_out = true; });
      if (timed_out) {
        ADD_FAILURE() << "the supervisor did not exit";
        break;
      }
    }
    sup = nullptr;
    EXPECT_TRUE(started.empty()) << "started children: " << started.front();
    EXPECT_EQ(reason.category(), supervisor_error_category) << describe(reason);
    EXPECT_EQ(reason.code(), static_cast<std::uint8_t>(supervisor_errc::bad_request)) << describe(reason);
    return supervisor_error_text(reason);
  }

  // A request answered with caf::unit; the error if it failed.
  template <class... Ts>
  caf::error call(Ts... xs) {
    caf::error out;
    (*self)->request(sup, test::timeout, xs...).receive([] {}, [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  caf::expected<caf::actor> restart(const std::string& id) {
    caf::expected<caf::actor> out = caf::sec::invalid_argument;
    (*self)->request(sup, test::timeout, restart_child_atom::value, id)
      .receive([&](caf::actor& a) { out = a; }, [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  child_counts counts() {
    child_counts n;
    (*self)->request(sup, test::timeout, count_child_atom::value)
      .receive([&](child_counts& c) { n = c; }, [&](caf::error& e) { ADD_FAILURE() << describe(e); });
    return n;
  }

  std::unique_ptr<caf::scoped_actor> self;
  caf::actor sup;
};

caf::error crash_reason() {
  return make_error(errc::bad_input, "test crash");
}

TEST_F(supervisor_test, child_spec_validation_rejects_duplicate_ids) {
  auto text = rejected({}, {worker_spec("a"), worker_spec("b"), worker_spec("a")});
  EXPECT_NE(text.find("duplicate child id \"a\""), std::string::npos) << text;
}

TEST_F(supervisor_test, child_spec_validation_rejects_negative_intensity) {
  auto text = rejected({restart_strategy::one_for_one, -1, std::chrono::seconds(5)}, {worker_spec("a")});
  EXPECT_NE(text.find("intensity -1"), std::string::npos) << text;
}

TEST_F(supervisor_test, child_spec_validation_rejects_non_positive_period) {
  auto text = rejected({restart_strategy::one_for_one, 3, std::chrono::milliseconds(0)}, {worker_spec("a")});
  EXPECT_NE(text.find("period 0 ms"), std::string::npos) << text;
}

TEST_F(supervisor_test, child_spec_validation_rejects_significant_permanent_child) {
  auto bad = worker_spec("b");
  bad.significant = true;
  auto text = rejected({}, {worker_spec("a"), bad});
  EXPECT_NE(text.find("\"b\": a permanent child cannot be significant"), std::string::npos) << text;
}

TEST_F(supervisor_test, child_spec_validation_rejects_empty_id) {
  auto text = rejected({}, {worker_spec("a"), worker_spec("")});
  EXPECT_NE(text.find("empty id"), std::string::npos) << text;
}

TEST_F(supervisor_test, child_spec_validation_rejects_missing_start_function) {
  auto bad = worker_spec("b");
  bad.start = nullptr;
  auto text = rejected({}, {worker_spec("a"), bad});
  EXPECT_NE(text.find("\"b\": no start function"), std::string::npos) << text;
}

TEST_F(supervisor_test, child_spec_validation_rejects_invalid_dynamic_child) {
  start({}, {worker_spec("a")});
  events(1);
  auto bad = worker_spec("t", restart_type::permanent);
  bad.significant = true;
  (*self)->request(sup, test::timeout, start_child_atom::value, bad)
    .receive([](caf::actor&) { ADD_FAILURE() << "invalid spec accepted"; },
             [](caf::error& e) {
               EXPECT_NE(supervisor_error_text(e).find("cannot be significant"), std::string::npos) << describe(e);
             });
  EXPECT_EQ(children().size(), 1u);
}

TEST_F(supervisor_test, terminate_child_keeps_spec) {
  start({}, {worker_spec("a"), worker_spec("b")});
  events(2);
  auto b = child_actor("b");
  (*self)->monitor(b);
  EXPECT_FALSE(call(term_child_atom::value, std::string("b")));
  EXPECT_EQ(events(1), (std::vector<std::string>{"terminated:b"}));
  EXPECT_EQ(wait_down(b), caf::exit_reason::user_shutdown);
  auto list = children();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].id, "b");
  EXPECT_FALSE(list[1].actor);
  // Terminating a stopped child is fine (OTP: ok).
  EXPECT_FALSE(call(term_child_atom::value, std::string("b")));
}

TEST_F(supervisor_test, terminate_child_drops_a_temporary_spec) {
  start({}, {worker_spec("a"), worker_spec("t", restart_type::temporary)});
  events(2);
  EXPECT_FALSE(call(term_child_atom::value, std::string("t")));
  EXPECT_EQ(events(1), (std::vector<std::string>{"terminated:t"}));
  ASSERT_EQ(children().size(), 1u);
}

TEST_F(supervisor_test, restart_child_starts_a_stopped_kept_child) {
  start({}, {worker_spec("a"), worker_spec("b")});
  events(2);
  auto b = child_actor("b");
  auto running = restart("b");
  ASSERT_FALSE(running);
  EXPECT_TRUE(is(running.error(), errc::in_use)) << describe(running.error());
  EXPECT_FALSE(call(term_child_atom::value, std::string("b")));
  EXPECT_EQ(events(1), (std::vector<std::string>{"terminated:b"}));
  auto b2 = restart("b");
  ASSERT_TRUE(b2) << describe(b2.error());
  EXPECT_EQ(events(1), (std::vector<std::string>{"started:b"}));
  EXPECT_NE(*b2, b);
  EXPECT_EQ(child_actor("b"), *b2);
  auto missing = restart("nope");
  ASSERT_FALSE(missing);
  EXPECT_TRUE(is(missing.error(), errc::not_found)) << describe(missing.error());
  // A restarted child is supervised as before: its crash restarts it.
  (*self)->send_exit(*b2, crash_reason());
  EXPECT_EQ(events(2), (std::vector<std::string>{"exited:b", "started:b"}));
}

TEST_F(supervisor_test, delete_child_only_when_not_running) {
  start({}, {worker_spec("a"), worker_spec("b")});
  events(2);
  auto err = call(delete_child_atom::value, std::string("b"));
  EXPECT_TRUE(is(err, errc::in_use)) << describe(err);
  EXPECT_EQ(children().size(), 2u);
  EXPECT_FALSE(call(term_child_atom::value, std::string("b")));
  EXPECT_EQ(events(1), (std::vector<std::string>{"terminated:b"}));
  EXPECT_FALSE(call(delete_child_atom::value, std::string("b")));
  auto list = children();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].id, "a");
  auto gone = restart("b");
  ASSERT_FALSE(gone);
  EXPECT_TRUE(is(gone.error(), errc::not_found)) << describe(gone.error());
  err = call(delete_child_atom::value, std::string("b"));
  EXPECT_TRUE(is(err, errc::not_found)) << describe(err);
}

TEST_F(supervisor_test, count_children) {
  auto sub = worker_spec("sub"); // counted by its declared type
  sub.type = child_type::supervisor;
  start({}, {worker_spec("a"), worker_spec("b"), sub});
  events(3);
  auto n = counts();
  EXPECT_EQ(n.specs, 3u);
  EXPECT_EQ(n.active, 3u);
  EXPECT_EQ(n.workers, 2u);
  EXPECT_EQ(n.supervisors, 1u);
  EXPECT_FALSE(call(term_child_atom::value, std::string("b")));
  EXPECT_EQ(events(1), (std::vector<std::string>{"terminated:b"}));
  n = counts();
  EXPECT_EQ(n.specs, 3u);
  EXPECT_EQ(n.active, 2u);
  EXPECT_EQ(n.workers, 2u);
}

TEST_F(supervisor_test, which_children_reports_id_actor_and_type) {
  auto sub = worker_spec("sub");
  sub.type = child_type::supervisor;
  start({}, {worker_spec("a"), sub});
  events(2);
  EXPECT_FALSE(call(term_child_atom::value, std::string("a")));
  EXPECT_EQ(events(1), (std::vector<std::string>{"terminated:a"}));
  auto list = children();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, "a");
  EXPECT_FALSE(list[0].actor);
  EXPECT_EQ(list[0].type, child_type::worker);
  EXPECT_EQ(list[1].id, "sub");
  EXPECT_TRUE(list[1].actor);
  EXPECT_EQ(list[1].type, child_type::supervisor);
}

TEST_F(supervisor_test, shutdown_defaults_follow_otp) {
  child_spec w = worker_spec("w");
  w.shutdown.reset();
  EXPECT_EQ(effective_shutdown(w), std::chrono::milliseconds(5000));
  auto s = supervisor_child("s", {});
  EXPECT_EQ(s.type, child_type::supervisor);
  EXPECT_EQ(effective_shutdown(s), shutdown_infinity);
  s.shutdown = std::chrono::milliseconds(100);
  EXPECT_EQ(effective_shutdown(s), std::chrono::milliseconds(100));
}

// top: w1, mid; mid: w2, bottom; bottom: w3, w4 -- all reporting to one
// observer. Started depth first, stopped in exactly the reverse order.
TEST_F(supervisor_test, three_level_tree_shuts_down_in_reverse_start_order) {
  worker_options slow; // the deepest child takes its time: the levels above wait (infinity)
  slow.exit_delay = std::chrono::milliseconds(100);
  supervisor_options bottom;
  bottom.children = {worker_spec("w3"), worker_spec("w4", restart_type::permanent, slow)};
  bottom.observer = caf::actor{*self};
  supervisor_options mid;
  mid.children = {worker_spec("w2"), supervisor_child("bottom", bottom)};
  mid.observer = caf::actor{*self};
  start({}, {worker_spec("w1"), supervisor_child("mid", mid)});
  // The levels start concurrently: check the order within each level.
  std::vector<std::string> started = events(6);
  auto pos = [&](const std::string& e) { return std::find(started.begin(), started.end(), e) - started.begin(); };
  for (auto e : {"started:w1", "started:mid", "started:w2", "started:bottom", "started:w3", "started:w4"})
    EXPECT_LT(pos(e), 6) << e;
  EXPECT_LT(pos("started:w1"), pos("started:mid"));
  EXPECT_LT(pos("started:w2"), pos("started:bottom"));
  EXPECT_LT(pos("started:w3"), pos("started:w4"));
  auto n = counts();
  EXPECT_EQ(n.supervisors, 1u);
  EXPECT_EQ(n.workers, 1u);
  (*self)->send_exit(sup, caf::exit_reason::user_shutdown);
  EXPECT_EQ(events(6), (std::vector<std::string>{"terminated:w4", "terminated:w3", "terminated:bottom",
                                                 "terminated:w2", "terminated:mid", "terminated:w1"}));
  EXPECT_EQ(wait_down(sup), caf::exit_reason::user_shutdown);
}

child_spec significant_spec(std::string id, restart_type r) {
  auto s = worker_spec(std::move(id), r);
  s.significant = true;
  return s;
}

supervisor_flags auto_shutdown_flags(auto_shutdown a) {
  supervisor_flags f;
  f.intensity = 5;
  f.shutdown_on = a;
  return f;
}

TEST_F(supervisor_test, significant_child_any_significant_auto_shutdown) {
  start(auto_shutdown_flags(auto_shutdown::any_significant),
        {worker_spec("a"), significant_spec("s1", restart_type::transient),
         significant_spec("s2", restart_type::transient)});
  events(3);
  // Stopped by the supervisor: not an auto shutdown (OTP).
  EXPECT_FALSE(call(term_child_atom::value, std::string("s2")));
  EXPECT_EQ(events(1), (std::vector<std::string>{"terminated:s2"}));
  // An abnormal exit of a transient child is restarted, not an end.
  (*self)->send_exit(child_actor("s1"), crash_reason());
  EXPECT_EQ(events(2), (std::vector<std::string>{"exited:s1", "started:s1"}));
  EXPECT_EQ(counts().active, 2u);
  // A normal exit is its end: the supervisor stops the others and exits.
  (*self)->send(child_actor("s1"), crash_atom::value, caf::make_error(caf::exit_reason::normal));
  EXPECT_EQ(events(3), (std::vector<std::string>{"exited:s1", "auto_shutdown:s1", "terminated:a"}));
  EXPECT_EQ(wait_down(sup), caf::exit_reason::user_shutdown);
}

TEST_F(supervisor_test, significant_child_all_significant_auto_shutdown) {
  start(auto_shutdown_flags(auto_shutdown::all_significant),
        {worker_spec("a"), significant_spec("s1", restart_type::transient),
         significant_spec("t", restart_type::temporary)});
  events(3);
  (*self)->send(child_actor("s1"), crash_atom::value, caf::make_error(caf::exit_reason::normal));
  EXPECT_EQ(events(1), (std::vector<std::string>{"exited:s1"}));
  EXPECT_EQ(counts().active, 2u); // t still runs: the supervisor goes on
  // A temporary child ends for good whatever its reason: the last one.
  (*self)->send_exit(child_actor("t"), crash_reason());
  EXPECT_EQ(events(3), (std::vector<std::string>{"exited:t", "auto_shutdown:t", "terminated:a"}));
  EXPECT_EQ(wait_down(sup), caf::exit_reason::user_shutdown);
}

TEST_F(supervisor_test, significant_child_never_auto_shutdown_rejects_significant_children) {
  auto text = rejected(auto_shutdown_flags(auto_shutdown::never),
                       {worker_spec("a"), significant_spec("s", restart_type::transient)});
  EXPECT_NE(text.find("\"s\": a significant child needs auto_shutdown"), std::string::npos) << text;
}

TEST_F(supervisor_test, significant_child_never_auto_shutdown_keeps_running_after_ends) {
  start(auto_shutdown_flags(auto_shutdown::never),
        {worker_spec("a"), worker_spec("tr", restart_type::transient), worker_spec("t", restart_type::temporary)});
  events(3);
  (*self)->send(child_actor("tr"), crash_atom::value, caf::make_error(caf::exit_reason::normal));
  EXPECT_EQ(events(1), (std::vector<std::string>{"exited:tr"}));
  (*self)->send_exit(child_actor("t"), crash_reason());
  EXPECT_EQ(events(1), (std::vector<std::string>{"exited:t"}));
  auto n = counts();
  EXPECT_EQ(n.specs, 2u);
  EXPECT_EQ(n.active, 1u);
}

// A child that dies as soon as it starts, under backoff: the gap between
// each exit and the next start is min * 2^n, capped at max, times at most
// 1 + random_factor; and the restarts still count for the intensity.
// A child that crashes as soon as it starts, every time.
child_spec crash_looping(std::string id) {
  child_spec s;
  s.id = std::move(id);
  s.start = [](caf::actor_system& sys) -> caf::expected<caf::actor> {
    return sys.spawn([](caf::event_based_actor* self) -> caf::behavior {
      self->quit(crash_reason());
      return {};
    });
  };
  return s;
}

TEST_F(supervisor_test, restart_backoff_grows_as_configured) {
  restart_backoff b;
  b.min = std::chrono::milliseconds(20);
  b.max = std::chrono::milliseconds(200);
  b.random_factor = 0.5;
  supervisor_flags f{restart_strategy::one_for_one, 6, std::chrono::seconds(60)};
  f.backoff = b;
  child_spec looping = crash_looping("loop");
  start(f, {looping});
  std::vector<supervisor_event> evs;
  for (int i = 0; i < 15; ++i)
    evs.push_back(next_event());
  std::vector<std::string> names;
  for (auto& e : evs)
    names.push_back(std::string(to_string(e.kind)) + ":" + e.child);
  std::vector<std::string> expected{"started:loop"};
  for (int i = 0; i < 6; ++i) {
    expected.push_back("exited:loop");
    expected.push_back("started:loop");
  }
  expected.push_back("exited:loop");
  expected.push_back("gave_up:loop");
  ASSERT_EQ(names, expected);
  using ms = std::chrono::duration<double, std::milli>;
  double previous = 0;
  for (int n = 0; n < 6; ++n) {
    double gap = ms(evs[2 + 2 * n].at - evs[1 + 2 * n].at).count();
    double base = std::min(20.0 * (1 << n), 200.0);
    EXPECT_GE(gap, base - 1.0) << "restart " << n; // a timer may round down by a tick
    EXPECT_LE(gap, base * 1.5 + 100.0) << "restart " << n;
    if (n > 0 && n < 4) { // doubling beats the random part until the cap
      EXPECT_GT(gap, previous) << "restart " << n;
    }
    previous = gap;
  }
  EXPECT_NE(supervisor_error_text(wait_down(sup)).find("max restart intensity"), std::string::npos);
}

// Backoff applies to a group restart too: the failed child's delay is
// waited once the group has stopped, before the whole group starts again.
// Returns the gaps (ms) from each "exited:loop" to the next "started:loop",
// and every event seen, until the supervisor gave up.
class supervisor_group_backoff : public supervisor_test {
protected:
std::vector<double> group_backoff_gaps(restart_strategy strategy, std::vector<std::string>& seen) {
  restart_backoff b;
  b.min = std::chrono::milliseconds(30);
  b.max = std::chrono::milliseconds(120);
  b.random_factor = 0;
  supervisor_flags f{strategy, 4, std::chrono::seconds(60)};
  f.backoff = b;
  child_spec looping = crash_looping("loop");
  start(f, {worker_spec("before"), looping, worker_spec("after")});
  std::vector<double> gaps;
  std::optional<std::chrono::steady_clock::time_point> exited;
  for (int i = 0; i < 60; ++i) {
    auto e = next_event();
    seen.push_back(std::string(to_string(e.kind)) + ":" + e.child);
    if (e.kind == supervisor_event_kind::gave_up || e.child == "<timeout>")
      break;
    if (e.child != "loop")
      continue;
    if (e.kind == supervisor_event_kind::exited)
      exited = e.at;
    else if (e.kind == supervisor_event_kind::started && exited)
      gaps.push_back(std::chrono::duration<double, std::milli>(e.at - *exited).count());
  }
  return gaps;
}
};

void expect_doubling_gaps(const std::vector<double>& gaps) {
  ASSERT_EQ(gaps.size(), 4u) << "intensity 4: four group restarts";
  for (std::size_t n = 0; n < gaps.size(); ++n) {
    double base = std::min(30.0 * (1 << n), 120.0);
    EXPECT_GE(gaps[n], base - 1.0) << "restart " << n; // a timer may round down by a tick
    EXPECT_LE(gaps[n], base + 150.0) << "restart " << n;
  }
  EXPECT_GT(gaps[2], gaps[0]) << "the group's backoff did not grow";
}

TEST_F(supervisor_group_backoff, restart_backoff_one_for_all_group_waits_before_restarting_everyone) {
  std::vector<std::string> seen;
  expect_doubling_gaps(group_backoff_gaps(restart_strategy::one_for_all, seen));
  EXPECT_NE(std::find(seen.begin(), seen.end(), "terminated:before"), seen.end())
    << "one_for_all stops the children started before the failed one too";
  EXPECT_NE(supervisor_error_text(wait_down(sup)).find("max restart intensity"), std::string::npos);
}

TEST_F(supervisor_group_backoff, restart_backoff_rest_for_one_group_waits_before_restarting_the_rest) {
  std::vector<std::string> seen;
  expect_doubling_gaps(group_backoff_gaps(restart_strategy::rest_for_one, seen));
  auto terminated_after = std::count(seen.begin(), seen.end(), "terminated:after");
  EXPECT_GE(terminated_after, 4) << "rest_for_one stops the children started after the failed one";
  // Until the supervisor gives up, `before` is left alone.
  auto up_to = std::find(seen.begin(), seen.end(), "gave_up:loop");
  EXPECT_EQ(std::find(seen.begin(), up_to, "terminated:before"), up_to);
  EXPECT_NE(supervisor_error_text(wait_down(sup)).find("max restart intensity"), std::string::npos);
}

// OTP's `ignore`: the child need not run; its spec is kept, it is not
// restarted, and it can be started later by request.
TEST_F(supervisor_test, start_function_ignore_keeps_the_spec_and_runs_nothing) {
  auto ignoring = std::make_shared<std::atomic<bool>>(true);
  child_spec maybe = worker_spec("maybe");
  maybe.start = [ignoring](caf::actor_system& sys) -> caf::expected<caf::actor> {
    if (ignoring->load())
      return ignore_child();
    return sys.spawn(worker, worker_options{});
  };
  start({}, {worker_spec("a"), maybe, worker_spec("b")});
  EXPECT_EQ(events(3), (std::vector<std::string>{"started:a", "ignored:maybe", "started:b"}));
  auto list = children();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1].id, "maybe");
  EXPECT_FALSE(list[1].actor);
  auto n = counts();
  EXPECT_EQ(n.specs, 3u);
  EXPECT_EQ(n.active, 2u);
  auto still = restart("maybe");
  ASSERT_TRUE(still) << describe(still.error());
  EXPECT_FALSE(*still) << "an ignored restart answers no actor";
  EXPECT_EQ(events(1), (std::vector<std::string>{"ignored:maybe"}));
  ignoring->store(false);
  auto started = restart("maybe");
  ASSERT_TRUE(started) << describe(started.error());
  EXPECT_TRUE(*started);
  EXPECT_EQ(events(1), (std::vector<std::string>{"started:maybe"}));
  child_spec later = worker_spec("later");
  later.start = [](caf::actor_system&) -> caf::expected<caf::actor> { return ignore_child(); };
  (*self)->request(sup, test::timeout, start_child_atom::value, later)
    .receive([](caf::actor& a) { EXPECT_FALSE(a) << "an ignored start_child answers no actor"; },
             [](caf::error& e) { ADD_FAILURE() << describe(e); });
  EXPECT_EQ(events(1), (std::vector<std::string>{"ignored:later"}));
  EXPECT_EQ(counts().specs, 4u) << "the ignored child's spec was not kept";
}

TEST_F(supervisor_test, simple_one_for_one_ignore_adds_no_child) {
  child_spec tmpl = worker_spec("pool");
  tmpl.start = [](caf::actor_system&) -> caf::expected<caf::actor> { return ignore_child(); };
  start({restart_strategy::simple_one_for_one, 3, std::chrono::seconds(5)}, {tmpl});
  (*self)->request(sup, test::timeout, pool_start_atom::value)
    .receive([](caf::actor& a) { EXPECT_FALSE(a); }, [](caf::error& e) { ADD_FAILURE() << describe(e); });
  EXPECT_EQ(events(1), (std::vector<std::string>{"ignored:pool#1"}));
  EXPECT_EQ(counts().specs, 0u) << "a pool keeps no spec for an ignored start";
}

// A subtree's default shutdown is infinity: a child that needs longer than a
// worker's default 5 s to stop is waited for, never killed on the way.
TEST_F(supervisor_test, supervisor_child_shutdown_infinity_lets_a_slow_subtree_take_longer_than_5s) {
  worker_options slow;
  slow.exit_delay = std::chrono::milliseconds(5500);
  supervisor_options sub;
  sub.children = {worker_spec("slow", restart_type::permanent, slow, std::chrono::seconds(20))};
  sub.observer = caf::actor{*self};
  start({}, {supervisor_child("sub", sub)});
  EXPECT_EQ(events(2), (std::vector<std::string>{"started:sub", "started:slow"}));
  auto began = std::chrono::steady_clock::now();
  (*self)->send_exit(sup, caf::exit_reason::user_shutdown);
  EXPECT_EQ(events(2), (std::vector<std::string>{"terminated:slow", "terminated:sub"}));
  EXPECT_GE(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(5500));
  EXPECT_EQ(wait_down(sup), caf::exit_reason::user_shutdown);
}

// A pool of workers that each take 300 ms to leave: stopped all at once,
// the pool is down well before five sequential stops (1500 ms) would be.
TEST_F(supervisor_test, simple_one_for_one_pool_starts_many_from_one_spec_and_stops_them_in_parallel) {
  worker_options slow;
  slow.exit_delay = std::chrono::milliseconds(300);
  start({restart_strategy::simple_one_for_one, 5, std::chrono::seconds(5)},
        {worker_spec("w", restart_type::permanent, slow)});
  EXPECT_EQ(counts().specs, 0u);
  std::vector<caf::actor> pool;
  for (int i = 0; i < 5; ++i)
    (*self)->request(sup, test::timeout, pool_start_atom::value)
      .receive([&](caf::actor& a) { pool.push_back(a); }, [](caf::error& e) { ADD_FAILURE() << describe(e); });
  ASSERT_EQ(pool.size(), 5u);
  EXPECT_EQ(events(5), (std::vector<std::string>{"started:w#1", "started:w#2", "started:w#3", "started:w#4",
                                                 "started:w#5"}));
  // One of them crashes: only it is restarted.
  (*self)->send_exit(pool[2], crash_reason());
  EXPECT_EQ(events(2), (std::vector<std::string>{"exited:w#3", "started:w#3"}));
  EXPECT_EQ(counts().active, 5u);
  auto t0 = std::chrono::steady_clock::now();
  (*self)->send_exit(sup, caf::exit_reason::user_shutdown);
  std::vector<supervisor_event> stopped;
  for (int i = 0; i < 5; ++i)
    stopped.push_back(next_event());
  for (auto& e : stopped)
    EXPECT_EQ(e.kind, kind::terminated) << e.child;
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(stopped.back().at - t0);
  EXPECT_GE(took.count(), 290);
  EXPECT_LT(took.count(), 1200) << "stopped one after the other";
  EXPECT_EQ(wait_down(sup), caf::exit_reason::user_shutdown);
}

TEST_F(supervisor_test, simple_one_for_one_needs_exactly_one_spec) {
  auto text = rejected({restart_strategy::simple_one_for_one, 5, std::chrono::seconds(5)},
                       {worker_spec("a"), worker_spec("b")});
  EXPECT_NE(text.find("exactly one child spec"), std::string::npos) << text;
}

TEST_F(supervisor_test, one_for_one_restarts_only_the_failed_child) {
  start({restart_strategy::one_for_one, 5, std::chrono::seconds(5)},
        {worker_spec("a"), worker_spec("b"), worker_spec("c")});
  EXPECT_EQ(events(3), (std::vector<std::string>{"started:a", "started:b", "started:c"}));
  auto a = child_actor("a"), b = child_actor("b"), c = child_actor("c");
  (*self)->send_exit(b, crash_reason());
  EXPECT_EQ(events(2), (std::vector<std::string>{"exited:b", "started:b"}));
  EXPECT_EQ(child_actor("a"), a);
  EXPECT_EQ(child_actor("c"), c);
  auto b2 = child_actor("b");
  EXPECT_TRUE(b2);
  EXPECT_NE(b2, b);
}

TEST_F(supervisor_test, one_for_all_restarts_everyone_stopping_in_reverse_order) {
  start({restart_strategy::one_for_all, 5, std::chrono::seconds(5)},
        {worker_spec("a"), worker_spec("b"), worker_spec("c")});
  events(3);
  auto a = child_actor("a");
  (*self)->send_exit(child_actor("b"), crash_reason());
  EXPECT_EQ(events(6), (std::vector<std::string>{"exited:b", "terminated:c", "terminated:a", "started:a", "started:b",
                                                 "started:c"}));
  EXPECT_NE(child_actor("a"), a);
}

TEST_F(supervisor_test, rest_for_one_restarts_the_child_and_those_after_it) {
  start({restart_strategy::rest_for_one, 5, std::chrono::seconds(5)},
        {worker_spec("a"), worker_spec("b"), worker_spec("c"), worker_spec("d")});
  events(4);
  auto a = child_actor("a");
  (*self)->send_exit(child_actor("b"), crash_reason());
  EXPECT_EQ(events(5),
            (std::vector<std::string>{"exited:b", "terminated:d", "terminated:c", "started:b", "started:c"}));
  EXPECT_EQ(events(1), (std::vector<std::string>{"started:d"}));
  EXPECT_EQ(child_actor("a"), a);
}

TEST_F(supervisor_test, restart_types_follow_otp) {
  start({restart_strategy::one_for_one, 10, std::chrono::seconds(5)},
        {worker_spec("perm", restart_type::permanent), worker_spec("trans", restart_type::transient),
         worker_spec("temp", restart_type::temporary)});
  events(3);
  // permanent: restarted even after a normal exit
  (*self)->send(child_actor("perm"), crash_atom::value, caf::make_error(caf::exit_reason::normal));
  EXPECT_EQ(events(2), (std::vector<std::string>{"exited:perm", "started:perm"}));
  // transient: a normal exit is final...
  (*self)->send(child_actor("trans"), crash_atom::value, caf::make_error(caf::exit_reason::normal));
  EXPECT_EQ(events(1), (std::vector<std::string>{"exited:trans"}));
  EXPECT_FALSE(child_actor("trans"));
  // ... but an abnormal one is restarted
  (*self)->request(sup, test::timeout, term_child_atom::value, std::string("trans")).receive([] {}, [](caf::error&) {});
  (*self)->request(sup, test::timeout, delete_child_atom::value, std::string("trans"))
    .receive([] {}, [](caf::error& e) { ADD_FAILURE() << describe(e); });
  caf::actor trans;
  (*self)->request(sup, test::timeout, start_child_atom::value, worker_spec("trans", restart_type::transient))
    .receive([&](caf::actor& a) { trans = a; }, [](caf::error& e) { ADD_FAILURE() << describe(e); });
  EXPECT_EQ(events(1), (std::vector<std::string>{"started:trans"}));
  (*self)->send_exit(trans, crash_reason());
  EXPECT_EQ(events(2), (std::vector<std::string>{"exited:trans", "started:trans"}));
  // temporary: never restarted, forgotten
  (*self)->send_exit(child_actor("temp"), crash_reason());
  EXPECT_EQ(events(1), (std::vector<std::string>{"exited:temp"}));
  auto list = children();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, "perm");
  EXPECT_EQ(list[0].restarts, 1u);
  EXPECT_EQ(list[1].id, "trans");
}

TEST_F(supervisor_test, intensity_exceeded_ends_the_supervisor_naming_the_child) {
  start({restart_strategy::one_for_one, 2, std::chrono::seconds(10)}, {worker_spec("x"), worker_spec("flaky")});
  events(2);
  for (int i = 0; i < 2; ++i) {
    (*self)->send_exit(child_actor("flaky"), crash_reason());
    EXPECT_EQ(events(2), (std::vector<std::string>{"exited:flaky", "started:flaky"}));
  }
  (*self)->send_exit(child_actor("flaky"), crash_reason());
  EXPECT_EQ(events(3), (std::vector<std::string>{"exited:flaky", "gave_up:flaky", "terminated:x"}));
  auto reason = wait_down(sup);
  auto text = supervisor_error_text(reason);
  EXPECT_NE(text.find("max restart intensity"), std::string::npos) << text;
  EXPECT_NE(text.find("\"flaky\""), std::string::npos) << text;
  EXPECT_NE(text.find("test crash"), std::string::npos) << text;
}

TEST_F(supervisor_test, restarts_outside_the_period_do_not_count) {
  start({restart_strategy::one_for_one, 1, std::chrono::milliseconds(300)}, {worker_spec("w")});
  events(1);
  for (int i = 0; i < 3; ++i) {
    (*self)->send_exit(child_actor("w"), crash_reason());
    EXPECT_EQ(events(2), (std::vector<std::string>{"exited:w", "started:w"}));
    Sleep(400); // the test thread may sleep: the period must pass
  }
}

TEST_F(supervisor_test, shutdown_in_reverse_order_with_timeouts) {
  worker_options slow;
  slow.exit_delay = std::chrono::milliseconds(200);
  worker_options stubborn;
  stubborn.stubborn = true;
  start({restart_strategy::one_for_one, 3, std::chrono::seconds(5)},
        {worker_spec("a"), worker_spec("slow", restart_type::permanent, slow),
         worker_spec("stubborn", restart_type::permanent, stubborn, std::chrono::milliseconds(300)),
         worker_spec("brutal", restart_type::permanent, {}, std::chrono::milliseconds(0))});
  events(4);
  auto t0 = std::chrono::steady_clock::now();
  (*self)->send_exit(sup, caf::exit_reason::user_shutdown);
  auto e = events(4);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(e, (std::vector<std::string>{"killed:brutal", "killed:stubborn", "terminated:slow", "terminated:a"}));
  EXPECT_GE(took, std::chrono::milliseconds(500)); // 300 ms before the kill, then 200 ms
  auto reason = wait_down(sup);
  EXPECT_EQ(reason, caf::exit_reason::user_shutdown);
}

TEST_F(supervisor_test, dynamic_children) {
  start({restart_strategy::one_for_one, 3, std::chrono::seconds(5), auto_shutdown::never, {}}, {worker_spec("a")});
  events(1);
  caf::actor d;
  (*self)->request(sup, test::timeout, start_child_atom::value, worker_spec("d"))
    .receive([&](caf::actor& a) { d = a; }, [](caf::error& e) { ADD_FAILURE() << describe(e); });
  ASSERT_TRUE(d);
  EXPECT_EQ(events(1), (std::vector<std::string>{"started:d"}));
  (*self)->request(sup, test::timeout, start_child_atom::value, worker_spec("d"))
    .receive([](caf::actor&) { ADD_FAILURE() << "duplicate id accepted"; },
             [](caf::error& e) { EXPECT_TRUE(is(e, errc::in_use)) << describe(e); });
  child_spec failing;
  failing.id = "failing";
  failing.start = [](caf::actor_system&) -> caf::expected<caf::actor> {
    return make_error(errc::not_found, "no such thing");
  };
  (*self)->request(sup, test::timeout, start_child_atom::value, failing)
    .receive([](caf::actor&) { ADD_FAILURE() << "failed start accepted"; },
             [](caf::error& e) { EXPECT_TRUE(is(e, errc::not_found)) << describe(e); });
  EXPECT_EQ(events(1), (std::vector<std::string>{"start_failed:failing"}));
  (*self)->monitor(d);
  bool removed = false;
  (*self)->request(sup, test::timeout, term_child_atom::value, std::string("d"))
    .receive([&] { removed = true; }, [](caf::error& e) { ADD_FAILURE() << describe(e); });
  EXPECT_TRUE(removed);
  EXPECT_EQ(events(1), (std::vector<std::string>{"terminated:d"}));
  wait_down(d);
  (*self)->request(sup, test::timeout, delete_child_atom::value, std::string("d"))
    .receive([] {}, [](caf::error& e) { ADD_FAILURE() << describe(e); });
  auto list = children();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].id, "a");
  (*self)->request(sup, test::timeout, term_child_atom::value, std::string("nope"))
    .receive([] { ADD_FAILURE() << "removed a missing child"; },
             [](caf::error& e) { EXPECT_TRUE(is(e, errc::not_found)) << describe(e); });
}

TEST_F(supervisor_test, a_child_that_cannot_start_fails_the_supervisor) {
  child_spec bad;
  bad.id = "bad";
  bad.start = [](caf::actor_system&) -> caf::expected<caf::actor> { return caf::actor{}; };
  start({}, {worker_spec("a"), bad, worker_spec("c")});
  EXPECT_EQ(events(3), (std::vector<std::string>{"started:a", "start_failed:bad", "terminated:a"}));
  auto reason = wait_down(sup);
  EXPECT_NE(supervisor_error_text(reason).find("\"bad\""), std::string::npos) << describe(reason);
}

// A kill from a third actor is the child's death like any other: CAF sends
// exit_reason::kill over links unchanged and no exit handler can trap it, so
// a linked supervisor used to die with it, taking every sibling along.
TEST_F(supervisor_test, third_party_kill_of_child_is_a_child_failure) {
  start({restart_strategy::one_for_one, 5, std::chrono::seconds(5)},
        {worker_spec("a"), worker_spec("b"), worker_spec("c")});
  EXPECT_EQ(events(3), (std::vector<std::string>{"started:a", "started:b", "started:c"}));
  auto a = child_actor("a"), b = child_actor("b"), c = child_actor("c");
  (*self)->monitor(a);
  (*self)->monitor(c);
  {
    caf::scoped_actor third{*sys};
    third->send_exit(b, caf::exit_reason::kill);
  }
  auto e = next_event();
  EXPECT_EQ(std::string(to_string(e.kind)) + ":" + e.child, "exited:b");
  EXPECT_EQ(e.reason, describe(caf::make_error(caf::exit_reason::kill)));
  EXPECT_EQ(events(1), (std::vector<std::string>{"started:b"}));
  // The supervisor answers (it is alive) and the siblings are the same actors.
  auto list = children();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].actor, a);
  EXPECT_NE(list[1].actor, b);
  EXPECT_TRUE(list[1].actor);
  EXPECT_EQ(list[1].restarts, 1u);
  EXPECT_EQ(list[2].actor, c);
  // Nothing died besides b: no DOWN for the supervisor or a sibling is queued.
  bool any_down = false;
  (*self)->receive([&](caf::down_msg& dm) {
                     any_down = true;
                     ADD_FAILURE() << "DOWN from actor#" << dm.source.id() << ": " << describe(dm.reason);
                   },
                   caf::after(std::chrono::milliseconds(0)) >> [] {});
  EXPECT_FALSE(any_down);
}

// The other half of the guarantee: a supervisor that is killed takes its
// children with it (it cannot stop them in order, but none may survive it).
TEST_F(supervisor_test, killed_supervisor_kills_its_children) {
  start({restart_strategy::one_for_one, 5, std::chrono::seconds(5)}, {worker_spec("a"), worker_spec("b")});
  events(2);
  auto a = child_actor("a"), b = child_actor("b");
  (*self)->monitor(a);
  (*self)->monitor(b);
  (*self)->send_exit(sup, caf::exit_reason::kill);
  std::map<caf::actor_id, caf::error> downs;
  while (downs.size() < 3) {
    bool timed_out = false;
    (*self)->receive([&](caf::down_msg& dm) { downs[dm.source.id()] = dm.reason; }, [](supervisor_event&) {},
                     caf::after(test::timeout) >> [&] { timed_out = true; });
    if (timed_out) {
      ADD_FAILURE() << "only " << downs.size() << " of 3 DOWN messages (supervisor and two children)";
      break;
    }
  }
  EXPECT_EQ(downs[sup.id()], caf::exit_reason::kill);
  EXPECT_EQ(downs[a.id()], caf::exit_reason::kill);
  EXPECT_EQ(downs[b.id()], caf::exit_reason::kill);
  sup = nullptr;
}

// The runtime's shutdown kills io actors still draining at its bound (step 2
// in actors/runtime.cpp). A supervised process actor killed that way is a
// child failure like any other, but its restart fails because the runtime is
// stopping: the supervisor then stops the sibling in order at once (no
// restarts spent on starts that cannot work) and ends naming the child -- it
// is not killed through a link.
TEST_F(supervisor_test, runtime_kill_of_supervised_process_stops_supervisor_at_once_in_order) {
  rt.reset(); // nothing runs on it yet; a runtime with a short bound instead
  runtime_options ro;
  ro.shutdown_bound = std::chrono::milliseconds(500);
  runtime_test::start(ro);
  expect_clean_shutdown = false; // the process actor is killed, its operations orphaned
  child_spec deaf;
  deaf.id = "deaf";
  auto core = rt->core();
  auto start_retries = std::make_shared<int>(0);
  // The process actor says process_started at the end of its start; only
  // then is it sure to drain at the bound (started after the shutdown
  // began, it quits at once: the cause of this test's old flake).
  caf::scoped_actor probe{*sys};
  caf::actor started_to = probe;
  deaf.start = [core, start_retries, started_to](caf::actor_system& s) {
    process_actor_options o;
    o.spawn = test::child_options({"sleep", "600000"});
    o.grace = std::chrono::seconds(60); // still draining at the bound
    o.handler = started_to;
    return test::spawn_process_retrying(s, core, o, *start_retries);
  };
  start({restart_strategy::one_for_one, 3, std::chrono::seconds(60)}, {worker_spec("w"), deaf});
  EXPECT_EQ(events(2), (std::vector<std::string>{"started:w", "started:deaf"}));
  bool started = false;
  probe->receive([&](const process_started&) { started = true; },
                 caf::after(test::timeout) >> [] { ADD_FAILURE() << "the process actor never finished its start"; });
  ASSERT_TRUE(started);
  auto w = child_actor("w");
  (*self)->monitor(w);
  auto report = rt->shutdown();
  EXPECT_EQ(report.actors_killed, 1u);
  EXPECT_EQ(events(3), (std::vector<std::string>{"exited:deaf", "start_failed:deaf", "terminated:w"}));
  std::map<caf::actor_id, caf::error> downs;
  while (downs.size() < 2) {
    bool timed_out = false;
    (*self)->receive([&](caf::down_msg& dm) { downs[dm.source.id()] = dm.reason; }, [](supervisor_event&) {},
                     caf::after(test::timeout) >> [&] { timed_out = true; });
    if (timed_out) {
      ADD_FAILURE() << "only " << downs.size() << " of 2 DOWN messages (supervisor and w)";
      break;
    }
  }
  EXPECT_EQ(downs[w.id()], caf::exit_reason::user_shutdown) << describe(downs[w.id()]);
  auto text = supervisor_error_text(downs[sup.id()]);
  EXPECT_EQ(text.find("max restart intensity"), std::string::npos) << describe(downs[sup.id()]);
  EXPECT_NE(text.find("\"deaf\""), std::string::npos) << text;
  EXPECT_NE(text.find("runtime is stopping"), std::string::npos) << text;
  sup = nullptr;
}

// Supervised child processes: crashing workers are restarted, and when the
// supervisor stops no process is left behind.
TEST_F(supervisor_test, supervised_processes_leave_nothing_behind) {
  auto process_spec = [this](std::string id, std::vector<std::string> args, restart_type r) {
    child_spec s;
    s.id = std::move(id);
    s.restart = r;
    s.shutdown = std::chrono::seconds(5);
    auto core = rt->core();
    s.start = [core, args](caf::actor_system& sys) {
      process_actor_options o;
      o.spawn = test::child_options(args);
      o.grace = std::chrono::milliseconds(200);
      return spawn_process(sys, core, o);
    };
    return s;
  };
  start({restart_strategy::one_for_one, 1000, std::chrono::seconds(1)},
        {process_spec("crasher", {"sleep", "50", "3"}, restart_type::permanent),
         process_spec("clean", {"exit", "0"}, restart_type::transient),
         process_spec("eof", {"untileof", "0"}, restart_type::permanent),
         process_spec("deaf", {"sleep", "600000"}, restart_type::permanent)});
  int crasher_restarts = 0;
  std::string crash_reason_text;
  int clean_exits = 0;
  while (crasher_restarts < 5) {
    auto e = next_event();
    if (e.child == "<timeout>")
      break;
    if (e.kind == kind::exited && e.child == "crasher") {
      crash_reason_text = e.reason;
      auto next = next_event();
      while (next.child != "crasher")
        next = next_event();
      EXPECT_EQ(next.kind, kind::started);
      ++crasher_restarts;
    }
    if (e.kind == kind::exited && e.child == "clean")
      ++clean_exits;
  }
  EXPECT_EQ(crasher_restarts, 5);
  EXPECT_NE(crash_reason_text.find("exited with code 3"), std::string::npos) << crash_reason_text;
  EXPECT_GE(test::live_children_named(L"proc_child.exe"), 2u); // eof and deaf at least
  (*self)->send_exit(sup, caf::exit_reason::user_shutdown);
  auto reason = wait_down(sup);
  EXPECT_EQ(reason, caf::exit_reason::user_shutdown);
  std::size_t alive = 1;
  for (int i = 0; i < 100 && alive != 0; ++i) {
    alive = test::live_children_named(L"proc_child.exe");
    if (alive != 0)
      Sleep(50);
  }
  EXPECT_EQ(alive, 0u) << "child processes outlived the supervisor";
  (void)clean_exits;
}

} // namespace
