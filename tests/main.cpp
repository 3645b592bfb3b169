// main() of the Windows test programs. After the last test it ends the
// program's one actor system (support.hpp), bounded: CAF's threads are
// joined before the process exits, because exiting under them crashed a test
// program under Wine now and then (a SegFault after "[  PASSED  ]"). An actor
// still alive then is a leak the tests missed: the program says which count
// still runs and fails with status 3.
#include "support.hpp"
#include "actors/core/program.hpp"

#include <gtest/gtest.h>

#include <cstdio>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  int rc = RUN_ALL_TESTS();
  std::fflush(nullptr);
  if (auto& sys = iocaf::test::shared_system_slot())
    iocaf::end_actor_system(std::move(sys), std::chrono::seconds(10), 3);
  std::fflush(nullptr);
  return rc;
}
