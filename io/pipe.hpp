#pragma once
// Overlapped named pipes (byte mode: framing is proto/'s job, and byte mode
// avoids ERROR_MORE_DATA completions of message mode).
#include "io/error.hpp"
#include "io/handle.hpp"
#include "io/operation.hpp"

#include <string>

namespace iocaf::io {

struct pipe_instance_options {
  bool first_instance = false;       // FILE_FLAG_FIRST_PIPE_INSTANCE: ERROR_ACCESS_DENIED if the name is served
  bool current_user_only = true;     // DACL: the current user (and SYSTEM) only
  DWORD buffer_size = 64 * 1024;
};

// "\\.\pipe\" + name, as UTF-16.
std::wstring pipe_path(const std::string& name);
std::wstring widen(const std::string& utf8);
std::string narrow(const std::wstring& utf16);

// Creates one overlapped, byte-mode server instance that rejects remote clients.
result<unique_handle> create_pipe_instance(const std::string& name, const pipe_instance_options& opts);

// Starts ConnectNamedPipe. Returns 0 if a packet will arrive, ERROR_PIPE_CONNECTED
// if the client connected before the call (success, no packet), or another
// code for an inline failure (no packet).
unsigned long start_connect_pipe(operation& op, HANDLE pipe);

// DisconnectNamedPipe: frees a server instance for its next client (after a
// client left, e.g. when ConnectNamedPipe failed with ERROR_NO_DATA).
error disconnect_pipe(HANDLE pipe);

// Opens the client end (overlapped). ERROR_PIPE_BUSY means every instance is
// taken: retry later. ERROR_FILE_NOT_FOUND means no server.
result<unique_handle> open_pipe_client(const std::string& name);

} // namespace iocaf::io
