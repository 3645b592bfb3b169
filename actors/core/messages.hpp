#pragma once
// The typed messages iocaf's actors speak, and iocaf's error category.
#include "io/error.hpp"
#include "io/log.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

// An invariant of an io actor's state machine (pending()==0 at quit, no
// start while closing, queued bytes within the bound). Always on: a broken
// invariant logs critical and aborts, in tests and in release builds alike.
#define IOCAF_ASSERT(cond, what)                                                                          \
  do {                                                                                                     \
    if (!(cond))                                                                                           \
      ::iocaf::detail::assert_failed(#cond, what, __FILE__, __LINE__);                                    \
  } while (false)

namespace iocaf {

namespace detail {
[[noreturn]] inline void assert_failed(const char* cond, const char* what, const char* file, int line) {
  logger("assert")->critical("{}:{}: invariant broken: {} ({})", file, line, what, cond);
  logger("assert")->flush();
  std::abort();
}
} // namespace detail

// --- atoms (CAF 0.17: at most 10 characters) -------------------------------
using close_atom = caf::atom_constant<caf::atom("close")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;

// Broker -> owner: one operation's packet was dequeued (or, for a cancelled
// wait's fired operation, will never come). error is a Win32 code, 0 = success.
// generation names the start it completes, so an owner never takes an
// earlier start's completion for the current one.
struct io_completed {
  std::uint64_t op_id = 0;
  std::uint64_t generation = 0;
  std::uint32_t bytes = 0;
  std::uint32_t error = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, io_completed& x) {
  return f(caf::meta::type_name("io_completed"), x.op_id, x.generation, x.bytes, x.error);
}

// The broker's counters (answer to stats_atom).
struct broker_stats {
  std::uint64_t packets = 0;            // packets dequeued (wake packets excluded)
  std::uint64_t completions = 0;        // io_completed messages sent to owners
  std::uint64_t wakes = 0;              // wake packets
  std::uint64_t unexpected = 0;         // unknown or stale OVERLAPPED: must stay 0
  std::uint64_t stale = 0;              // of those: packets of an earlier start
  std::uint64_t synthetic = 0;          // completions made because no packet could come
  std::uint64_t inline_results = 0;     // starts that failed or were refused inline, delivered as completions
  std::uint64_t leaked_waits = 0;       // wait registrations given up on (never freed)
  std::uint64_t orphans_released = 0;   // operations whose owner was gone
  std::uint64_t leaked = 0;             // still in flight at the shutdown bound
  std::int64_t inflight = 0;            // operations awaiting a packet now
  std::int64_t live_operations = 0;     // io::operation objects alive in the process
  std::int64_t pending_waits = 0;       // wait registrations alive in the process
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, broker_stats& x) {
  return f(caf::meta::type_name("broker_stats"), x.packets, x.completions, x.wakes, x.unexpected, x.stale,
           x.synthetic, x.inline_results, x.leaked_waits, x.orphans_released, x.leaked, x.inflight, x.live_operations,
           x.pending_waits);
}

// --- errors -----------------------------------------------------------------
// iocaf errors: a code in the "iocaf" category plus a context string that
// names the cause (for win32: the call, the code and the system's message).
enum class errc : std::uint8_t {
  win32 = 1,     // a Win32 call failed
  closing,       // the actor is shutting down and takes no new requests
  bad_input,     // a peer or caller sent something malformed
  timeout,       // a bounded wait ran out
  queue_full,    // a bounded queue refused more
  not_found,     // no such server / program / file
  in_use,        // a name or address is taken
  shutdown,      // the runtime is stopping
};
const char* to_string(errc x);

caf::error make_error(errc code, std::string context);
caf::error make_error(const io::error& e);
// A readable line for any caf::error, iocaf's or CAF's own.
std::string describe(const caf::error& e);
bool is(const caf::error& e, errc code);

// Registers the iocaf error category with a config (for CAF's own renderings).
void configure(caf::actor_system_config& cfg);

} // namespace iocaf
