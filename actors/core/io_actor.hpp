#pragma once
// The cancel protocol every io actor runs (DESIGN.md §2.4). An io actor is a
// caf::stateful_actor<State> whose State has a member `owned_operations ops`.
//
//   install_cancel_protocol(self, core)  exit messages (links, shutdown) start it
//   shut_down(self, reason)        a close request or an error starts it
//
// Both cancel every pending operation and wait, switch to `draining` (only
// completions; requests are answered with errc::closing) and quit with the
// original reason when nothing is pending. Monitors and links see the actor
// go only then.
#include "actors/core/owned_operations.hpp"

#include <caf/stateful_actor.hpp>

namespace iocaf {

template <class State>
void shut_down(caf::stateful_actor<State>* self, caf::error reason);

template <class State>
caf::behavior draining(caf::stateful_actor<State>* self, caf::error reason) {
  return {
    [self, reason](const io_completed& msg) {
      auto& ops = self->state.ops;
      ops.complete(msg);
      if (ops.pending() == 0)
        self->quit(reason);
    },
  };
}

template <class State>
void shut_down(caf::stateful_actor<State>* self, caf::error reason) {
  auto& ops = self->state.ops;
  if (ops.closing())
    return; // the first reason stands
  ops.set_closing();
  ops.cancel_all();
  if (ops.pending() == 0) {
    self->quit(std::move(reason));
    return;
  }
  ops.core().log->debug("actor#{} draining {} operations", self->id(), ops.pending());
  self->set_default_handler([](caf::scheduled_actor* me, caf::message_view& msg) -> caf::result<caf::message> {
    // Requests get an error at once (nobody waits forever); plain messages
    // are dropped with a log line, not answered with an error nobody asked for.
    auto* element = me->current_mailbox_element();
    if (element != nullptr && element->mid.is_request())
      return make_error(errc::closing, "the actor is closing and takes no new requests");
    logger("io_actor")->debug("actor#{} closing: dropped {}", me->id(), msg.content().stringify());
    return caf::message{};
  });
  self->become(draining(self, std::move(reason)));
}

// Attaches the actor's operations to the runtime and makes exit messages
// start the protocol. Call first thing in the actor's behaviour function.
template <class State>
void install_cancel_protocol(caf::stateful_actor<State>* self, std::shared_ptr<io_core> core) {
  self->state.ops.attach(std::move(core), self->address());
  self->set_exit_handler([self](caf::exit_msg& msg) { shut_down(self, std::move(msg.reason)); });
  // Started while the runtime shuts down (a connection accepted just then):
  // the runtime may have asked every io actor it knew already, so this one
  // stops itself; its starts are refused from here on.
  if (self->state.ops.core().stopping.load())
    shut_down(self, caf::exit_reason::user_shutdown);
}

} // namespace iocaf
