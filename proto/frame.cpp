#include "proto/frame.hpp"

#include <algorithm>

namespace iocaf::proto {

namespace {

constexpr std::size_t max_wire_length = 0xFFFFFFFFu; // what 4 header bytes can say

std::size_t effective_max(std::size_t max_frame) {
  return std::min(max_frame, max_wire_length);
}

frame_error oversized(std::size_t size, std::size_t max) {
  return {frame_errc::oversized, "frame of " + std::to_string(size)
                                   + " bytes exceeds the maximum of " + std::to_string(max)};
}

} // namespace

std::optional<frame_error> encode_frame_header(std::size_t payload_size, std::string& out,
                                               std::size_t max_frame) {
  const std::size_t max = effective_max(max_frame);
  if (payload_size > max)
    return oversized(payload_size, max);
  const auto n = static_cast<std::uint32_t>(payload_size);
  const char header[frame_header_size] = {
    static_cast<char>(n & 0xFF), static_cast<char>((n >> 8) & 0xFF),
    static_cast<char>((n >> 16) & 0xFF), static_cast<char>((n >> 24) & 0xFF)};
  out.append(header, frame_header_size);
  return std::nullopt;
}

std::optional<frame_error> encode_frame(std::string_view payload, std::string& out,
                                        std::size_t max_frame) {
  out.reserve(out.size() + frame_header_size + payload.size());
  if (auto err = encode_frame_header(payload.size(), out, max_frame))
    return err;
  out.append(payload);
  return std::nullopt;
}

frame_decoder::frame_decoder(std::size_t max_frame) : max_frame_(effective_max(max_frame)) {}

std::optional<frame_error> frame_decoder::feed(std::string_view bytes,
                                               std::vector<std::string>& frames) {
  if (failure_)
    return failure_;
  while (!bytes.empty()) {
    if (!in_payload_) {
      const std::size_t take = std::min(frame_header_size - header_len_, bytes.size());
      std::copy_n(bytes.data(), take, header_ + header_len_);
      header_len_ += take;
      bytes.remove_prefix(take);
      if (header_len_ < frame_header_size)
        break;
      expected_ = std::size_t{header_[0]} | std::size_t{header_[1]} << 8
                  | std::size_t{header_[2]} << 16 | std::size_t{header_[3]} << 24;
      if (expected_ > max_frame_) {
        failure_ = oversized(expected_, max_frame_);
        header_len_ = 0;
        return failure_;
      }
      in_payload_ = true;
      payload_.clear();
      payload_.reserve(expected_); // bounded by max_frame_ just above
    }
    const std::size_t take = std::min(expected_ - payload_.size(), bytes.size());
    payload_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (payload_.size() == expected_) {
      frames.push_back(std::move(payload_));
      payload_.clear(); // a moved-from string is valid but unspecified
      in_payload_ = false;
      header_len_ = 0;
    }
  }
  return std::nullopt;
}

std::optional<frame_error> frame_decoder::finish() const {
  if (failure_)
    return failure_;
  if (in_payload_) {
    const std::size_t missing = expected_ - payload_.size();
    return frame_error{frame_errc::truncated,
                       "stream ended inside a frame of " + std::to_string(expected_)
                         + " bytes: " + std::to_string(payload_.size()) + " received, "
                         + std::to_string(missing) + " missing"};
  }
  if (header_len_ > 0) {
    const std::size_t missing = frame_header_size - header_len_;
    return frame_error{frame_errc::truncated,
                       "stream ended inside a frame header: " + std::to_string(header_len_)
                         + " of 4 header bytes received, " + std::to_string(missing)
                         + " missing"};
  }
  return std::nullopt;
}

std::size_t frame_decoder::buffered() const {
  return in_payload_ ? frame_header_size + payload_.size() : header_len_;
}

} // namespace iocaf::proto
