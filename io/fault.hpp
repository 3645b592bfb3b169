#pragma once
// Fault injection for tests: makes the next N calls at a named point fail
// with a chosen Win32 code, so paths that real systems reach only under
// memory pressure or a closed port (UnregisterWaitEx failing,
// PostQueuedCompletionStatus failing in a wait callback) are exercised; or,
// at a delay point, pause for `code` milliseconds, so an order that is rare
// under Wine happens on demand.
// Costs one relaxed atomic load per call when nothing is injected.
namespace iocaf::io::fault {

enum class point : int {
  unregister_wait, // UnregisterWaitEx in wait_registration::begin_unregister
  wait_post,       // PostQueuedCompletionStatus in a wait callback
  accept_start,    // AcceptEx in start_accept (fails inline with the code)
  arm_delay,       // delay: wait_registration::arm between registering and storing the handle
  count_,
};

// The next `times` calls at p fail with `code`.
void inject(point p, unsigned long code, int times = 1);
// Called at p: true, with the code to fail with, if this call must fail.
bool take(point p, unsigned long& code);

} // namespace iocaf::io::fault
