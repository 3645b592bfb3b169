// bench_process's child: "exit" leaves at once; "sleep" waits (ignoring stdin) until killed.
#include <windows.h>

#include <cstring>

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "sleep") == 0)
    Sleep(600000);
  return 0;
}
