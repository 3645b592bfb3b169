#pragma once
// What a stream connection needs from its transport (a pipe HANDLE or a
// SOCKET). The stream core (stream_connection.hpp) owns the transport and
// does everything else: credit, write queue, close, timers, handler protocol.
#include "actors/core/io_core.hpp"
#include "io/operation.hpp"

#include <caf/error.hpp>

#include <chrono>
#include <string>

namespace iocaf {

class stream_transport {
public:
  virtual ~stream_transport() = default;

  // The handle operations are started on (and associated with the port).
  virtual HANDLE handle() const = 0;
  // Before anything else: associate with the port, create/bind a socket, ...
  virtual caf::error prepare(io_core& core) = 0;

  // Connecting phase (an outgoing TCP connection); false: open at once.
  virtual bool connects() const { return false; }
  virtual std::chrono::milliseconds connect_timeout() const { return std::chrono::milliseconds{0}; }
  virtual unsigned long start_connect(io::operation&) { return 0; }
  // The connect's completion (or inline code): empty when now connected.
  virtual caf::error finish_connect(io::operation&, unsigned long, bool) { return {}; }

  // Once open: the names for stream_opened and log lines, socket options.
  virtual void opened(std::string& local, std::string& remote) = 0;
  virtual bool accepted() const = 0; // the accepting (server) end

  // Start one read / write of n bytes into / from op's buffer: 0 when a
  // packet will come, else the inline Win32 code.
  virtual unsigned long start_read(io::operation& op, std::size_t n) = 0;
  virtual unsigned long start_write(io::operation& op, std::size_t n) = 0;
  // Non-blocking reads (TCP): an idle connection may then give its read
  // buffer back and wait with a small read, read_now taking what did not fit
  // (stream_options::release_read_buffer_after). False: every read holds a
  // read_size buffer.
  virtual bool reads_now() const { return false; }
  // Non-blocking read: 0 with got > 0 (data) or got == 0 (end of stream),
  // would_block(code) when nothing is there, else the failure.
  virtual unsigned long read_now(char*, std::size_t, std::size_t& got) { got = 0; return ERROR_NOT_SUPPORTED; }
  virtual bool would_block(unsigned long) const { return false; }
  // Non-blocking write (TCP, libuv's try-write): 0 with sent > 0 when the
  // kernel took data at once (no packet comes), would_block(code) when it
  // cannot, else the failure. False: every write is overlapped.
  virtual bool writes_now() const { return false; }
  virtual unsigned long write_now(const char*, std::size_t, std::size_t& sent) { sent = 0; return ERROR_NOT_SUPPORTED; }
  virtual const char* read_call() const = 0;
  virtual const char* write_call() const = 0;
  // The real code behind a failed packet (WSAGetOverlappedResult for sockets).
  virtual unsigned long error_of(io::operation&, unsigned long code) { return code; }

  // Codes meaning the peer has gone: a clean end of stream (pipes) or a reset.
  virtual bool is_eof(unsigned long code) const = 0;
  virtual bool is_reset(unsigned long code) const = 0;

  // Graceful close: half-close (TCP FIN) and wait for the peer's EOF; false:
  // the transport has none, the connection ends once flushed.
  virtual bool half_closes() const { return false; }
  virtual unsigned long shutdown_send() { return 0; }
  // Abortive close: drop what is queued in the kernel (TCP: SO_LINGER 0).
  virtual void abort() {}
};

} // namespace iocaf
