#pragma once
// Who handles a listener's accepted connections (pipe and TCP alike): one
// actor for all of them, or a fresh actor per connection from a factory.
// Either may be dynamically typed (caf::actor) or a typed handler
// (stream_handler_actor, frame_handler_actor, or any typed_actor).
//
//   spawn_tcp_listener(sys, core, opts, room);                                  // one handler
//   spawn_tcp_listener(sys, core, opts, [&sys] { return sys.spawn(echo); });   // one per connection
#include <caf/actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/infer_handle.hpp>
#include <caf/typed_actor.hpp>

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
  template <class... Sigs>
  connection_handler(const caf::typed_actor<Sigs...>& shared) : shared_(caf::actor_cast<caf::actor>(shared)) {}
  // Anything callable without arguments that returns an actor handle, typed
  // or not (a lambda, a std::function): a factory.
  template <class Make, class Handle = std::invoke_result_t<Make&>,
            class = std::enable_if_t<caf::is_handle<Handle>::value>>
  connection_handler(Make make)
    : make_([make = std::move(make)]() mutable { return caf::actor_cast<caf::actor>(make()); }) {}

  // False when there is neither an actor nor a factory (listeners refuse that).
  explicit operator bool() const { return static_cast<bool>(shared_) || static_cast<bool>(make_); }

  // The handler of the next accepted connection; null if the factory gave none.
  caf::actor next() const { return make_ ? make_() : shared_; }

private:
  caf::actor shared_;
  std::function<caf::actor()> make_;
};

} // namespace iocaf
