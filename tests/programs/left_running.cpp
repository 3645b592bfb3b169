// A program that leaves an actor running when its body returns: run_program
// must still end it, with the body's status (7), within the shutdown bound.
//   left_running [--shutdown-bound=500ms]
#include "actors/core/program.hpp"

#include <caf/all.hpp>

int main(int argc, char** argv) {
  iocaf::program_config cfg{"left_running", "Leaves an actor running and returns 7."};
  if (auto rc = cfg.parse(argc, argv))
    return *rc;
  return iocaf::run_program(cfg, [](caf::actor_system& sys, iocaf::runtime&) {
    // Nobody ever stops it, and a handle keeps it from being collected:
    // ~actor_system waits for every actor to end.
    new caf::actor(sys.spawn([]() -> caf::behavior { return {[](int) {}}; }));
    return 7;
  });
}
