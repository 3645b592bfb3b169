// main() of the Windows test programs. Each program keeps one CAF actor
// system that is never destroyed (support.hpp: destroying one hung under
// Wine), so its worker threads still run when main returns; running static
// destructors under them crashed a test program at exit now and then (a
// SegFault after "[  PASSED  ]"). So the program flushes its output and
// ends without static destruction, with GoogleTest's result as exit code.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  int rc = RUN_ALL_TESTS();
  std::fflush(nullptr);
  std::_Exit(rc);
}
