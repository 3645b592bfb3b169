#include "actors/core/runtime.hpp"

#include "actors/core/io_broker.hpp"

#include <caf/scoped_actor.hpp>

#include <stdexcept>
#include <string>
#include <thread>
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace iocaf {

namespace {

std::shared_ptr<io_core> make_core() {
  auto port = io::completion_port::create();
  if (!port)
    throw std::runtime_error("iocaf runtime: " + port.err().to_string());
  return std::make_shared<io_core>(std::move(*port));
}

} // namespace

runtime::runtime(caf::actor_system& sys, runtime_options opts)
  : sys_(sys), opts_(opts), core_(make_core()) {
  core_->actors_on_broker.store(opts_.broker_runs_actors);
  broker_ = sys_.spawn<caf::detached>(io_broker, core_, opts_);
}

runtime::~runtime() {
  shutdown();
}

// An actor run there with broker_runs_actors.
bool runtime::on_broker_thread() const {
  return core_->broker_thread.load() == std::this_thread::get_id();
}

broker_stats runtime::stats() {
  // On the broker's thread (an actor run there) the broker cannot take a
  // request; what it would answer is these counters, read here.
  if (on_broker_thread())
    return core_->stats();
  caf::scoped_actor self{sys_};
  broker_stats out;
  auto pending = self->request(broker_, std::chrono::seconds(10), stats_atom::value);
  if (auto err = core_->port.wake())
    core_->log->error("stats: {}", err.to_string());
  pending.receive([&](broker_stats& s) { out = s; },
                  [&](caf::error& err) {
                    core_->log->error("stats request failed: {}", describe(err));
                    throw std::runtime_error("iocaf: broker did not answer stats: " + describe(err));
                  });
  return out;
}

shutdown_report runtime::shutdown() {
  // Waiting there for the broker to stop would wait for that very thread:
  // the bound, then a failure, with every connection stalled meanwhile.
  if (on_broker_thread())
    throw std::logic_error("iocaf: runtime::shutdown() called on the broker's thread (an actor run there with"
                           " broker_runs_actors); it would wait for that very thread: call it from another actor"
                           " or thread");
  if (stopped_)
    return report_;
  stopped_ = true;
  auto& log = core_->log;
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + opts_.shutdown_bound;
  auto remaining = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? left : std::chrono::milliseconds(0);
  };
  core_->stopping.store(true);
  caf::scoped_actor self{sys_};

  // 1. Every io actor runs its cancel protocol, also those spawned meanwhile
  //    (a listener that accepted during shutdown): the list is taken again
  //    after each DOWN until no new io actor shows up.
  std::unordered_set<caf::actor_id> asked;
  std::unordered_map<caf::actor_id, caf::actor> waiting;
  auto ask_new_ones = [&] {
    for (auto& addr : core_->io_actors())
      if (asked.insert(addr.id()).second)
        if (auto a = caf::actor_cast<caf::actor>(addr)) {
          self->monitor(a);
          self->send_exit(a, caf::exit_reason::user_shutdown);
          waiting.emplace(a.id(), a);
        }
  };
  auto await_downs = [&](std::chrono::milliseconds bound, bool ask) {
    auto until = std::chrono::steady_clock::now() + bound;
    if (ask)
      ask_new_ones();
    while (!waiting.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return;
      bool timed_out = false;
      self->receive([&](caf::down_msg& dm) { waiting.erase(dm.source.id()); },
                    caf::after(left) >> [&] { timed_out = true; });
      if (timed_out)
        return;
      if (ask)
        ask_new_ones();
    }
  };
  await_downs(remaining(), true);
  report_.actors_stopped = asked.size() - waiting.size();

  // 2. Stragglers are killed: their operations become orphans, cancelled by
  //    their destructors; the packets of those cancels come after the kill.
  auto broker_bound = remaining();
  if (!waiting.empty()) {
    log->error("shutdown: {} io actors still draining after {} ms; killing them", waiting.size(),
               opts_.shutdown_bound.count());
    report_.actors_killed = waiting.size();
    for (auto& kv : waiting)
      self->send_exit(kv.second, caf::exit_reason::kill);
    await_downs(std::chrono::seconds(5), false);
    broker_bound = std::max(remaining(), opts_.kill_grace);
  }

  // 3. The broker waits for the last packets, up to the bound, then leaks the rest.
  self->monitor(broker_);
  self->send(broker_, stop_atom::value, static_cast<std::int64_t>(broker_bound.count()));
  if (auto err = core_->port.wake())
    log->error("shutdown: {}", err.to_string());
  bool broker_down = false;
  bool gave_up = false;
  while (!broker_down && !gave_up)
    self->receive([&](caf::down_msg& dm) { broker_down = dm.source == broker_.address(); },
                  caf::after(opts_.shutdown_bound + std::chrono::seconds(5)) >> [&] { gave_up = true; });
  if (!broker_down)
    log->critical("shutdown: the IO broker did not stop");
  report_.leaked = core_->leaked.load();
  report_.leaked_operations = core_->leak_report();
  report_.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  log->debug("shutdown in {} ms: {} io actors stopped, {} killed, {} operations leaked", report_.took.count(),
             report_.actors_stopped, report_.actors_killed, report_.leaked);
  return report_;
}

} // namespace iocaf
