// The supervise demo's worker: prints a few lines, then either crashes (exits
// with a random code) or keeps going; leaves with code 0 when its stdin ends
// (that is how its process actor asks it to stop).
//   iocaf_supervise_worker NAME SEED
#include <windows.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

namespace {

DWORD WINAPI watch_stdin(void*) {
  char buf[256];
  DWORD n = 0;
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  while (ReadFile(in, buf, sizeof(buf), &n, nullptr) && n > 0) {
  }
  std::printf("stdin closed: leaving cleanly\n");
  std::fflush(stdout);
  ExitProcess(0);
}

} // namespace

int main(int argc, char** argv) {
  std::string name = argc > 1 ? argv[1] : "worker";
  unsigned seed = argc > 2 ? static_cast<unsigned>(std::strtoul(argv[2], nullptr, 0)) : GetCurrentProcessId();
  std::mt19937 rng{seed ^ GetCurrentProcessId() ^ GetTickCount()};
  CreateThread(nullptr, 0, watch_stdin, nullptr, 0, nullptr);
  static const unsigned codes[] = {1, 2, 3, 42, 255, 0xC0000005u};
  int ticks = 2 + static_cast<int>(rng() % 15);
  std::printf("%s up (pid %lu), %d ticks to live\n", name.c_str(), GetCurrentProcessId(), ticks);
  std::fflush(stdout);
  for (int i = 1; i <= ticks; ++i) {
    Sleep(100 + rng() % 200);
    std::printf("%s tick %d\n", name.c_str(), i);
    std::fflush(stdout);
  }
  unsigned code = codes[rng() % (sizeof(codes) / sizeof(codes[0]))];
  std::fprintf(stderr, "%s crashing with code %u\n", name.c_str(), code);
  std::fflush(stderr);
  ExitProcess(code);
}
