// Length-prefixed frames.
//
// Wire format: a 4-byte little-endian unsigned payload length, then exactly
// that many payload bytes. Nothing else: no magic, no version, no checksum.
// Both sides agree on a maximum payload size; a larger frame is an error,
// never a reason to allocate.
//
// Portable: no Windows headers, no CAF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iocaf::proto {

constexpr std::size_t frame_header_size = 4;
constexpr std::size_t default_max_frame = 64 * 1024;

enum class frame_errc { oversized, truncated };

struct frame_error {
  frame_errc code;
  std::string message; // e.g. "frame of 1048576 bytes exceeds the maximum of 65536"
};

// Appends the encoded frame (header + payload) to out. If the payload is
// larger than max_frame (or than 2^32-1, which the header cannot express),
// returns an `oversized` error and leaves out unchanged.
std::optional<frame_error> encode_frame(std::string_view payload, std::string& out,
                                        std::size_t max_frame = default_max_frame);

// Appends only the 4-byte header of a frame whose payload has payload_size
// bytes, so a sender can queue the payload itself without copying it. Same
// `oversized` rule as encode_frame; out is unchanged on error.
std::optional<frame_error> encode_frame_header(std::size_t payload_size, std::string& out,
                                               std::size_t max_frame = default_max_frame);

// Incremental decoder: feed it the bytes of a stream in chunks of any size.
class frame_decoder {
public:
  explicit frame_decoder(std::size_t max_frame = default_max_frame);

  // Consumes all of bytes and appends each completed payload to frames.
  // When a header announces more than max_frame bytes, returns an `oversized`
  // error; frames completed earlier in the same call are still appended.
  // After that the decoder is failed: every further feed() consumes nothing
  // and returns the same error.
  std::optional<frame_error> feed(std::string_view bytes, std::vector<std::string>& frames);

  // Call at end of stream. Returns a `truncated` error, naming how many bytes
  // were missing, if a frame was started but not finished; the `oversized`
  // error if the decoder has failed; nothing otherwise.
  std::optional<frame_error> finish() const;

  // Bytes held for the unfinished frame (header bytes plus payload bytes
  // received so far). Never more than max_frame + 4.
  std::size_t buffered() const;

  std::size_t max_frame() const { return max_frame_; }

private:
  std::size_t max_frame_;
  unsigned char header_[frame_header_size] = {};
  std::size_t header_len_ = 0;  // header bytes received for the current frame
  bool in_payload_ = false;     // header complete, payload_ is being filled
  std::size_t expected_ = 0;    // payload length announced by the header
  std::string payload_;
  std::optional<frame_error> failure_;
};

} // namespace iocaf::proto
