#pragma once
// Who handles a listener's accepted connections (pipe and TCP alike): one
// actor for all of them, or a fresh actor per connection from a factory.
//
//   spawn_tcp_listener(sys, core, opts, room);                                  // one handler
//   spawn_tcp_listener(sys, core, opts, [&sys] { return sys.spawn(echo); });   // one per connection
#include <caf/actor.hpp>
#include <caf/scoped_actor.hpp>

#include <functional>
#include <type_traits>
#include <utility>

namespace iocaf {

class connection_handler {
public:
  connection_handler() = default;
  connection_handler(caf::actor shared) : shared_(std::move(shared)) {}
  // A scoped_actor (tests, blocking code) is one shared handler too.
  connection_handler(const caf::scoped_actor& shared) : shared_(shared) {}
  // Anything callable as caf::actor() (a lambda, a std::function): a factory.
  template <class Make, class = std::enable_if_t<std::is_invocable_r_v<caf::actor, Make&>>>
  connection_handler(Make make) : make_(std::move(make)) {}

  // False when there is neither an actor nor a factory (listeners refuse that).
  explicit operator bool() const { return static_cast<bool>(shared_) || static_cast<bool>(make_); }

  // The handler of the next accepted connection; null if the factory gave none.
  caf::actor next() const { return make_ ? make_() : shared_; }

private:
  caf::actor shared_;
  std::function<caf::actor()> make_;
};

} // namespace iocaf
