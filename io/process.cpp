#include "io/process.hpp"

#include "io/pipe.hpp"

#include <algorithm>
#include <atomic>
#include <cwctype>
#include <map>
#include <memory>

namespace iocaf::io {

std::wstring quote_argument(const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos)
    return arg;
  // Backslashes are literal unless they precede a quote: then each one is
  // doubled, and the quote itself gets one more.
  std::wstring out = L"\"";
  for (auto it = arg.begin();; ++it) {
    std::size_t backslashes = 0;
    while (it != arg.end() && *it == L'\\') {
      ++it;
      ++backslashes;
    }
    if (it == arg.end()) {
      out.append(backslashes * 2, L'\\'); // the closing quote follows
      break;
    }
    if (*it == L'"') {
      out.append(backslashes * 2 + 1, L'\\');
      out.push_back(L'"');
    } else {
      out.append(backslashes, L'\\');
      out.push_back(*it);
    }
  }
  out.push_back(L'"');
  return out;
}

result<std::wstring> build_command_line(const std::string& program, const std::vector<std::string>& args) {
  if (program.empty())
    return error{"build_command_line(empty program name)", ERROR_INVALID_PARAMETER};
  // argv[0] is parsed without escapes: quoted up to the next quote.
  if (program.find('"') != std::string::npos)
    return error{"build_command_line(\"" + program + "\": a program name cannot contain '\"')",
                 ERROR_INVALID_NAME};
  std::wstring line = L"\"" + widen(program) + L"\"";
  for (auto& a : args) {
    line.push_back(L' ');
    line += quote_argument(widen(a));
  }
  return line;
}

result<unique_handle> create_kill_on_close_job() {
  HANDLE job = CreateJobObjectW(nullptr, nullptr);
  if (job == nullptr)
    return last_error("CreateJobObjectW");
  unique_handle owned{job};
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION info{};
  info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &info, sizeof(info)))
    return last_error("SetInformationJobObject(JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE)");
  return owned;
}

result<DWORD> job_active_processes(HANDLE job) {
  JOBOBJECT_BASIC_ACCOUNTING_INFORMATION info{};
  if (!QueryInformationJobObject(job, JobObjectBasicAccountingInformation, &info, sizeof(info), nullptr))
    return last_error("QueryInformationJobObject(JobObjectBasicAccountingInformation)");
  return info.ActiveProcesses;
}

namespace {

std::atomic<unsigned> pipe_counter{0};

SECURITY_ATTRIBUTES inheritable() {
  SECURITY_ATTRIBUTES sa{};
  sa.nLength = sizeof(sa);
  sa.bInheritHandle = TRUE;
  return sa;
}

result<unique_handle> open_null() {
  auto sa = inheritable();
  HANDLE h = CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                         OPEN_EXISTING, 0, nullptr);
  if (h == INVALID_HANDLE_VALUE)
    return last_error("CreateFileW(NUL)");
  return unique_handle{h};
}

std::wstring upper(const std::wstring& s) {
  std::wstring out = s;
  for (auto& c : out)
    c = static_cast<wchar_t>(std::towupper(c));
  return out;
}

// A CREATE_UNICODE_ENVIRONMENT block, sorted by name without case as Windows expects.
std::wstring environment_block(const process_options& opts) {
  std::map<std::wstring, std::wstring> vars; // upper-case name -> "Name=Value"
  if (opts.inherit_env) {
    if (wchar_t* block = GetEnvironmentStringsW()) {
      for (wchar_t* p = block; *p != L'\0'; p += wcslen(p) + 1) {
        std::wstring entry = p;
        // "=C:=C:\dir" entries start with '=': the name runs to the second '='.
        auto eq = entry.find(L'=', 1);
        vars[upper(entry.substr(0, eq))] = entry;
      }
      FreeEnvironmentStringsW(block);
    }
  }
  for (auto& kv : opts.env) {
    auto name = widen(kv.first);
    vars[upper(name)] = name + L"=" + widen(kv.second);
  }
  std::wstring out;
  for (auto& kv : vars) {
    out += kv.second;
    out.push_back(L'\0');
  }
  if (out.empty())
    out.push_back(L'\0');
  out.push_back(L'\0');
  return out;
}

class attribute_list {
public:
  error init(std::vector<HANDLE>& handles) {
    SIZE_T size = 0;
    InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
    storage_.resize(size);
    auto* list = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(storage_.data());
    if (!InitializeProcThreadAttributeList(list, 1, 0, &size))
      return last_error("InitializeProcThreadAttributeList");
    list_ = list;
    if (!UpdateProcThreadAttribute(list, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles.data(),
                                   handles.size() * sizeof(HANDLE), nullptr, nullptr))
      return last_error("UpdateProcThreadAttribute(PROC_THREAD_ATTRIBUTE_HANDLE_LIST)");
    return {};
  }
  ~attribute_list() {
    if (list_ != nullptr)
      DeleteProcThreadAttributeList(list_);
  }
  LPPROC_THREAD_ATTRIBUTE_LIST get() const { return list_; }

private:
  std::vector<char> storage_;
  LPPROC_THREAD_ATTRIBUTE_LIST list_ = nullptr;
};

bool is_directory(const std::wstring& path) {
  DWORD attrs = GetFileAttributesW(path.c_str());
  return attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY) != 0;
}

} // namespace

result<stdio_pipe> create_stdio_pipe(bool parent_reads, DWORD buffer_size) {
  std::wstring name = L"\\\\.\\pipe\\iocaf-stdio-" + std::to_wstring(GetCurrentProcessId()) + L"-" +
                      std::to_wstring(pipe_counter.fetch_add(1)) + L"-" + std::to_wstring(GetTickCount64());
  // One instance only, created first: nobody else can open or pose as it.
  DWORD mode = (parent_reads ? PIPE_ACCESS_INBOUND : PIPE_ACCESS_OUTBOUND) | FILE_FLAG_OVERLAPPED |
               FILE_FLAG_FIRST_PIPE_INSTANCE;
  HANDLE server = CreateNamedPipeW(name.c_str(), mode,
                                   PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1,
                                   buffer_size, buffer_size, 0, nullptr);
  if (server == INVALID_HANDLE_VALUE)
    return last_error("CreateNamedPipeW(stdio)");
  stdio_pipe out;
  out.parent.reset(server);
  auto sa = inheritable();
  HANDLE client = CreateFileW(name.c_str(), parent_reads ? GENERIC_WRITE : GENERIC_READ, 0, &sa, OPEN_EXISTING, 0,
                              nullptr);
  if (client == INVALID_HANDLE_VALUE)
    return last_error("CreateFileW(stdio pipe child end)");
  out.child.reset(client);
  // The client is connected already: this completes inline (ERROR_PIPE_CONNECTED).
  OVERLAPPED ov{};
  if (!ConnectNamedPipe(server, &ov)) {
    DWORD code = GetLastError();
    if (code == ERROR_IO_PENDING) {
      CancelIoEx(server, &ov);
      DWORD ignored = 0;
      GetOverlappedResult(server, &ov, &ignored, TRUE);
      return error{"ConnectNamedPipe(stdio: client not connected)", ERROR_PIPE_NOT_CONNECTED};
    }
    if (code != ERROR_PIPE_CONNECTED)
      return error{"ConnectNamedPipe(stdio)", code};
  }
  return out;
}

result<child_process> start_process(const process_options& opts) {
  auto quoted = build_command_line(opts.program, opts.args);
  if (!quoted)
    return quoted.err();
  std::wstring cmdline = std::move(*quoted);
  const std::string who = "CreateProcessW(\"" + opts.program + "\")";
  std::wstring program = widen(opts.program);
  if (is_directory(program))
    return error{"CreateProcessW(\"" + opts.program + "\" is a directory, not a program)", ERROR_ACCESS_DENIED};
  std::wstring cwd = widen(opts.working_dir);
  if (!cwd.empty() && !is_directory(cwd))
    return error{who + " with working directory \"" + opts.working_dir + "\" (no such directory)", ERROR_DIRECTORY};

  child_process child;
  unique_handle child_in, child_out, child_err;
  auto make_stream = [&](stdio_mode mode, bool parent_reads, unique_handle& parent_end,
                         unique_handle& child_end) -> error {
    if (mode == stdio_mode::null) {
      auto h = open_null();
      if (!h)
        return h.err();
      child_end = std::move(*h);
      return {};
    }
    auto p = create_stdio_pipe(parent_reads, opts.pipe_buffer);
    if (!p)
      return p.err();
    parent_end = std::move(p->parent);
    child_end = std::move(p->child);
    return {};
  };
  if (auto err = make_stream(opts.in, false, child.stdin_w, child_in))
    return err;
  if (auto err = make_stream(opts.out, true, child.stdout_r, child_out))
    return err;
  if (auto err = make_stream(opts.err, true, child.stderr_r, child_err))
    return err;

  HANDLE job = opts.job;
  if (job == nullptr) {
    auto j = create_kill_on_close_job();
    if (!j)
      return j.err();
    child.job = std::move(*j);
    job = child.job.get();
  }

  // Only the three child ends are inherited.
  std::vector<HANDLE> inherit{child_in.get(), child_out.get(), child_err.get()};
  attribute_list attrs;
  if (auto err = attrs.init(inherit))
    return err;
  STARTUPINFOEXW si{};
  si.StartupInfo.cb = sizeof(si);
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = child_in.get();
  si.StartupInfo.hStdOutput = child_out.get();
  si.StartupInfo.hStdError = child_err.get();
  si.lpAttributeList = attrs.get();

  std::wstring env = environment_block(opts);
  PROCESS_INFORMATION pi{};
  DWORD flags = CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT |
                (opts.console == console_mode::none ? DETACHED_PROCESS : CREATE_NO_WINDOW);
  if (!CreateProcessW(nullptr, cmdline.data(), nullptr, nullptr, TRUE, flags, env.data(),
                      cwd.empty() ? nullptr : cwd.c_str(), &si.StartupInfo, &pi))
    return last_error(who.c_str());
  child.process.reset(pi.hProcess);
  unique_handle thread{pi.hThread};
  child.pid = pi.dwProcessId;
  if (!AssignProcessToJobObject(job, pi.hProcess)) {
    DWORD code = GetLastError();
    error err{"AssignProcessToJobObject(\"" + opts.program + "\")", code};
    TerminateProcess(pi.hProcess, 1);
    return err;
  }
  if (ResumeThread(pi.hThread) == static_cast<DWORD>(-1)) {
    DWORD code = GetLastError();
    error err{"ResumeThread(\"" + opts.program + "\")", code};
    TerminateProcess(pi.hProcess, 1);
    return err;
  }
  return child;
}

bool process_running(HANDLE process) {
  return WaitForSingleObject(process, 0) == WAIT_TIMEOUT;
}

result<DWORD> exit_code(HANDLE process) {
  DWORD code = 0;
  if (!GetExitCodeProcess(process, &code))
    return last_error("GetExitCodeProcess");
  return code;
}

std::string exe_directory() {
  // Long paths: grow the buffer until the name fits.
  std::wstring path(MAX_PATH, L'\0');
  for (;;) {
    DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    if (n == 0)
      return {};
    if (n < path.size()) {
      path.resize(n);
      break;
    }
    path.resize(path.size() * 2);
  }
  path.erase(path.find_last_of(L"\\/") + 1);
  return narrow(path);
}

} // namespace iocaf::io
