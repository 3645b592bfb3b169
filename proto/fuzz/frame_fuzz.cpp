// libFuzzer target for the frame decoder.
//
// Input layout: byte 0 picks max_frame, byte 1 the number n (1..8) of chunk
// sizes that follow, then n chunk-size bytes, then the stream itself. The
// stream is fed to a decoder in chunks of those sizes, cycling; a chunk size
// of 0 feeds an empty chunk and then all the rest. Checked, aborting on any violation:
//   - buffered() <= max_frame + 4 after every feed, every frame <= max_frame;
//   - once failed, feed() consumes nothing and repeats the same error;
//   - a one-shot decode of the whole stream gives the same frames, error and
//     finish() result (chunking does not matter);
//   - re-encoding the decoded frames gives exactly the bytes they came from,
//     and decoding that again gives the same frames, cleanly;
//   - finish() is clean exactly when the stream ended on a frame boundary.
#include "proto/frame.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

using namespace iocaf::proto;

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "frame_fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

bool same(const std::optional<frame_error>& a, const std::optional<frame_error>& b) {
  if (a.has_value() != b.has_value())
    return false;
  return !a || (a->code == b->code && a->message == b->message);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2)
    return 0;
  // Small maxima so that the fuzzer reaches "oversized" and "complete" easily;
  // 0 allows empty frames only.
  constexpr std::size_t maxima[] = {0, 1, 2, 3, 7, 16, 100, 255, 1000, default_max_frame};
  const std::size_t max = maxima[data[0] % (sizeof(maxima) / sizeof(maxima[0]))];
  const std::size_t n_chunks = 1 + data[1] % 8;
  if (size < 2 + n_chunks)
    return 0;
  const std::uint8_t* chunks = data + 2;
  const std::string_view stream(reinterpret_cast<const char*>(data + 2 + n_chunks),
                                size - 2 - n_chunks);

  // Chunked decode.
  frame_decoder dec(max);
  std::vector<std::string> frames;
  std::optional<frame_error> err;
  std::size_t pos = 0;
  for (std::size_t k = 0; pos < stream.size(); ++k) {
    std::size_t len = std::min<std::size_t>(chunks[k % n_chunks], stream.size() - pos);
    if (len == 0) { // an empty chunk, then the rest of the stream
      const std::size_t before = frames.size();
      check(same(dec.feed({}, frames), err), "empty feed changed the error state");
      check(frames.size() == before, "empty feed produced a frame");
      len = stream.size() - pos;
    }
    const bool was_failed = err.has_value();
    const std::size_t before = frames.size();
    const auto e = dec.feed(stream.substr(pos, len), frames);
    pos += len;
    check(dec.buffered() <= max + frame_header_size, "buffered() exceeds max_frame + 4");
    for (std::size_t i = before; i < frames.size(); ++i)
      check(frames[i].size() <= max, "decoded frame larger than max_frame");
    if (was_failed) {
      check(same(e, err), "failed decoder changed its error or recovered");
      check(frames.size() == before, "failed decoder produced a frame");
    } else if (e) {
      check(e->code == frame_errc::oversized, "feed() returned a non-oversized error");
      err = e;
    }
  }
  if (err) {
    const std::size_t before = frames.size();
    check(same(dec.feed(std::string_view("\x01\x00\x00\x00x", 5), frames), err),
          "failed decoder accepted more");
    check(frames.size() == before, "failed decoder produced a frame");
  }
  const auto end = dec.finish();

  // One-shot decode must agree.
  frame_decoder whole(max);
  std::vector<std::string> whole_frames;
  const auto whole_err = whole.feed(stream, whole_frames);
  check(same(whole_err, err), "one-shot and chunked decode disagree on the error");
  check(whole_frames == frames, "one-shot and chunked decode disagree on the frames");
  check(same(whole.finish(), end), "one-shot and chunked decode disagree on finish()");

  // Re-encode: the encoding is canonical, so it must reproduce the input prefix.
  std::string reencoded;
  for (const auto& f : frames)
    check(!encode_frame(f, reencoded, max), "encode_frame rejected a decoded frame");
  check(stream.substr(0, reencoded.size()) == reencoded,
        "re-encoded frames differ from the bytes they were decoded from");
  frame_decoder again(max);
  std::vector<std::string> again_frames;
  check(!again.feed(reencoded, again_frames), "re-encoded frames fail to decode");
  check(again_frames == frames, "re-encoded frames decode differently");
  check(!again.finish() && again.buffered() == 0, "re-encoded frames leave a partial frame");

  // finish(): clean exactly when every byte went into a complete frame.
  if (err) {
    check(same(end, err), "finish() of a failed decoder lost the error");
    // The decoded frames end right where the offending header starts.
    check(stream.size() >= reencoded.size() + frame_header_size, "error without a full header");
    std::size_t announced = 0;
    for (std::size_t i = 0; i < frame_header_size; ++i)
      announced |= std::size_t{static_cast<unsigned char>(stream[reencoded.size() + i])} << (8 * i);
    check(announced > max, "oversized error for a header within max_frame");
    check(err->message == "frame of " + std::to_string(announced)
                            + " bytes exceeds the maximum of " + std::to_string(max),
          "oversized error message does not name both sizes");
  } else if (reencoded.size() == stream.size()) {
    check(!end && dec.buffered() == 0, "finish() not clean on a frame boundary");
  } else {
    check(end && end->code == frame_errc::truncated, "finish() missed a truncated frame");
    check(dec.buffered() == stream.size() - reencoded.size(), "buffered() is not the tail");
  }
  return 0;
}
