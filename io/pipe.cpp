#include "io/pipe.hpp"

#include <sddl.h>

namespace iocaf::io {

std::wstring widen(const std::string& s) {
  if (s.empty())
    return {};
  int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n);
  return out;
}

std::string narrow(const std::wstring& s) {
  if (s.empty())
    return {};
  int n = WideCharToMultiByte(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n, nullptr, nullptr);
  return out;
}

std::wstring pipe_path(const std::string& name) {
  return L"\\\\.\\pipe\\" + widen(name);
}

namespace {

// A DACL granting full access to the current user and SYSTEM only.
class user_only_security {
public:
  error init() {
    HANDLE token = nullptr;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
      return last_error("OpenProcessToken");
    unique_handle owned{token};
    DWORD len = 0;
    GetTokenInformation(token, TokenUser, nullptr, 0, &len);
    std::string buf(len, '\0');
    if (!GetTokenInformation(token, TokenUser, buf.data(), len, &len))
      return last_error("GetTokenInformation");
    LPWSTR sid = nullptr;
    if (!ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buf.data())->User.Sid, &sid))
      return last_error("ConvertSidToStringSidW");
    std::wstring sddl = L"D:P(A;;GA;;;SY)(A;;GA;;;" + std::wstring(sid) + L")";
    LocalFree(sid);
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1, &sd_, nullptr))
      return last_error("ConvertStringSecurityDescriptorToSecurityDescriptorW");
    attrs_.nLength = sizeof(attrs_);
    attrs_.lpSecurityDescriptor = sd_;
    attrs_.bInheritHandle = FALSE;
    return {};
  }
  ~user_only_security() {
    if (sd_ != nullptr)
      LocalFree(sd_);
  }
  SECURITY_ATTRIBUTES* get() { return &attrs_; }

private:
  PSECURITY_DESCRIPTOR sd_ = nullptr;
  SECURITY_ATTRIBUTES attrs_{};
};

} // namespace

result<unique_handle> create_pipe_instance(const std::string& name, const pipe_instance_options& opts) {
  user_only_security sec;
  SECURITY_ATTRIBUTES* sa = nullptr;
  if (opts.current_user_only) {
    if (auto err = sec.init())
      return err;
    sa = sec.get();
  }
  DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
  if (opts.first_instance) {
    open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
    // Wine 8 ignores FILE_FLAG_FIRST_PIPE_INSTANCE, so ask first whether the
    // name is served. WaitNamedPipeW connects nothing: it succeeds when an
    // instance is free and times out (after 1 ms) when all are busy.
    if (WaitNamedPipeW(pipe_path(name).c_str(), 1) || GetLastError() == ERROR_SEM_TIMEOUT)
      return error{"CreateNamedPipeW(FILE_FLAG_FIRST_PIPE_INSTANCE)", ERROR_ACCESS_DENIED};
  }
  HANDLE h = CreateNamedPipeW(pipe_path(name).c_str(), open_mode,
                              PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                              PIPE_UNLIMITED_INSTANCES, opts.buffer_size, opts.buffer_size, 0, sa);
  if (h == INVALID_HANDLE_VALUE)
    return last_error("CreateNamedPipeW");
  return unique_handle{h};
}

unsigned long start_connect_pipe(operation& op, HANDLE pipe) {
  if (ConnectNamedPipe(pipe, op.overlapped()))
    return 0;
  DWORD code = GetLastError();
  return code == ERROR_IO_PENDING ? 0 : code;
}

error disconnect_pipe(HANDLE pipe) {
  if (!DisconnectNamedPipe(pipe))
    return last_error("DisconnectNamedPipe");
  return {};
}

result<unique_handle> open_pipe_client(const std::string& name) {
  HANDLE h = CreateFileW(pipe_path(name).c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                         OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr);
  if (h == INVALID_HANDLE_VALUE)
    return last_error("CreateFileW(pipe client)");
  return unique_handle{h};
}

} // namespace iocaf::io
