// Test child: exit_after MILLISECONDS [CODE] sleeps, then exits with CODE.
#include <windows.h>

#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 2)
    return 2;
  Sleep(static_cast<DWORD>(std::atoi(argv[1])));
  return argc > 2 ? static_cast<int>(std::strtoul(argv[2], nullptr, 0)) : 0;
}
