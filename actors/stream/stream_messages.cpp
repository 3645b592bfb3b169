#include "actors/stream/stream_messages.hpp"

namespace iocaf {

const char* to_string(stream_close_reason r) {
  switch (r) {
    case stream_close_reason::local_close: return "local_close";
    case stream_close_reason::peer_eof: return "peer_eof";
    case stream_close_reason::peer_reset: return "peer_reset";
    case stream_close_reason::idle_timeout: return "idle_timeout";
    case stream_close_reason::connect_failed: return "connect_failed";
    case stream_close_reason::slow_consumer: return "slow_consumer";
    case stream_close_reason::handler_down: return "handler_down";
    case stream_close_reason::shutdown: return "shutdown";
    case stream_close_reason::bad_input: return "bad_input";
    case stream_close_reason::error: return "error";
  }
  return "?";
}

const char* to_string(send_refusal r) {
  switch (r) {
    case send_refusal::queue_full: return "queue_full";
    case send_refusal::too_large: return "too_large";
    case send_refusal::closing: return "closing";
  }
  return "?";
}

} // namespace iocaf
