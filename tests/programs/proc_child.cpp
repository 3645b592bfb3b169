// Test child for the process actor. proc_child MODE [ARGS...]:
//   argv              writes each CommandLineToArgvW argument after argv[0], UTF-8, each followed by '\0'
//   exit CODE         exits with CODE (decimal or 0x hex)
//   echo              copies stdin to stdout until end-of-file, exits 0
//   big N SEED        writes N pseudo-random bytes to stdout and N to stderr, interleaved in random chunks
//   sleep MS [CODE]   sleeps, then exits with CODE (ignores stdin)
//   untileof CODE     reads stdin until end-of-file, then exits with CODE
//   env NAME          writes the variable's value (or "<unset>")
//   cwd               writes the current directory
//   lines             writes "alpha\nbeta\r\n\ngamma" in pieces (no final newline)
//   grandchild        starts "proc_child sleep 600000" sharing its stdout/stderr, writes its pid, exits 0
//   handle HEX        SetEvent on that handle value (it works only if the parent's event was inherited)
//   console           writes "console" if it has a console (CONOUT$ opens), else "none"
#include <windows.h>
#include <shellapi.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

std::string narrow(const std::wstring& s) {
  if (s.empty())
    return {};
  int n = WideCharToMultiByte(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n, nullptr, nullptr);
  return out;
}

bool write_all(HANDLE h, const char* data, std::size_t n) {
  while (n > 0) {
    DWORD done = 0;
    if (!WriteFile(h, data, static_cast<DWORD>(n), &done, nullptr))
      return false;
    data += done;
    n -= done;
  }
  return true;
}

bool write_all(HANDLE h, const std::string& s) {
  return write_all(h, s.data(), s.size());
}

// The same generator the tests use to check the bytes.
struct xorshift {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

} // namespace

int main() {
  int argc = 0;
  wchar_t** wargv = CommandLineToArgvW(GetCommandLineW(), &argc);
  std::vector<std::string> args;
  for (int i = 0; i < argc; ++i)
    args.push_back(narrow(wargv[i]));
  LocalFree(wargv);
  if (args.size() < 2)
    return 100;
  HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
  HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  const std::string& mode = args[1];
  auto arg = [&](std::size_t i) -> std::string { return i < args.size() ? args[i] : std::string{}; };

  if (mode == "argv") {
    for (std::size_t i = 2; i < args.size(); ++i) {
      write_all(out, args[i]);
      write_all(out, std::string(1, '\0'));
    }
    return 0;
  }
  if (mode == "exit")
    ExitProcess(static_cast<UINT>(std::strtoul(arg(2).c_str(), nullptr, 0)));
  if (mode == "echo" || mode == "untileof") {
    std::vector<char> buf(64 * 1024);
    for (;;) {
      DWORD n = 0;
      if (!ReadFile(in, buf.data(), static_cast<DWORD>(buf.size()), &n, nullptr) || n == 0)
        break;
      if (mode == "echo" && !write_all(out, buf.data(), n))
        return 101;
    }
    return mode == "echo" ? 0 : static_cast<int>(std::strtoul(arg(2).c_str(), nullptr, 0));
  }
  if (mode == "big") {
    std::uint64_t n = std::strtoull(arg(2).c_str(), nullptr, 0);
    std::uint64_t seed = std::strtoull(arg(3).c_str(), nullptr, 0);
    xorshift gen_out{seed * 2 + 1}, gen_err{seed * 2 + 2}, sizes{seed + 77};
    std::uint64_t left_out = n, left_err = n;
    std::string chunk;
    while (left_out > 0 || left_err > 0) {
      bool to_out = left_err == 0 || (left_out > 0 && (sizes.next() & 1) != 0);
      auto& left = to_out ? left_out : left_err;
      auto& gen = to_out ? gen_out : gen_err;
      std::uint64_t size = 1 + sizes.next() % 8192;
      if (size > left)
        size = left;
      chunk.resize(size);
      for (auto& c : chunk)
        c = static_cast<char>(gen.next() & 0xFF);
      if (!write_all(to_out ? out : err, chunk))
        return 102;
      left -= size;
    }
    return 0;
  }
  if (mode == "sleep") {
    Sleep(static_cast<DWORD>(std::strtoul(arg(2).c_str(), nullptr, 0)));
    return static_cast<int>(std::strtoul(arg(3).c_str(), nullptr, 0));
  }
  if (mode == "env") {
    std::wstring name(arg(2).begin(), arg(2).end());
    wchar_t value[4096];
    DWORD n = GetEnvironmentVariableW(name.c_str(), value, 4096);
    write_all(out, n == 0 && GetLastError() == ERROR_ENVVAR_NOT_FOUND ? std::string("<unset>")
                                                                       : narrow(std::wstring(value, n)));
    return 0;
  }
  if (mode == "cwd") {
    wchar_t dir[MAX_PATH];
    DWORD n = GetCurrentDirectoryW(MAX_PATH, dir);
    write_all(out, narrow(std::wstring(dir, n)));
    return 0;
  }
  if (mode == "lines") {
    for (const char* piece : {"al", "pha\nbe", "ta\r", "\n", "\ngam", "ma"}) {
      write_all(out, piece);
      Sleep(20);
    }
    return 0;
  }
  if (mode == "grandchild") {
    wchar_t self_path[MAX_PATH];
    DWORD n = GetModuleFileNameW(nullptr, self_path, MAX_PATH);
    std::wstring cmd = L"\"" + std::wstring(self_path, n) + L"\" sleep 600000";
    STARTUPINFOW si{};
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = nullptr;
    si.hStdOutput = out;
    si.hStdError = err;
    PROCESS_INFORMATION pi{};
    if (!CreateProcessW(nullptr, cmd.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi))
      return 104;
    write_all(out, std::to_string(pi.dwProcessId));
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    if (arg(2) == "stay") // until terminated, the grandchild still holding the outputs
      Sleep(600000);
    return 0;
  }
  if (mode == "handle") {
    auto h = reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(std::strtoull(arg(2).c_str(), nullptr, 16)));
    // The parent's event is signalled only if the handle was inherited.
    write_all(out, SetEvent(h) ? "set" : "not set");
    return 0;
  }
  if (mode == "console") {
    HANDLE con = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                             OPEN_EXISTING, 0, nullptr);
    bool has = con != INVALID_HANDLE_VALUE;
    if (has)
      CloseHandle(con);
    write_all(out, has ? "console" : "none");
    return 0;
  }
  return 103;
}
