#include "proto/frame.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

using namespace iocaf::proto;

namespace {

std::string encode(std::string_view payload, std::size_t max = default_max_frame) {
  std::string out;
  auto err = encode_frame(payload, out, max);
  EXPECT_FALSE(err) << err->message;
  return out;
}

std::string encode_all(const std::vector<std::string>& payloads,
                       std::size_t max = default_max_frame) {
  std::string out;
  for (const auto& p : payloads) {
    auto err = encode_frame(p, out, max);
    EXPECT_FALSE(err) << err->message;
  }
  return out;
}

// A header for a frame of n bytes, written by hand (independent of encode_frame).
std::string header(std::uint32_t n) {
  return {static_cast<char>(n & 0xFF), static_cast<char>(n >> 8 & 0xFF),
          static_cast<char>(n >> 16 & 0xFF), static_cast<char>(n >> 24 & 0xFF)};
}

std::string binary_payload(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s)
    c = static_cast<char>(rng() & 0xFF);
  return s;
}

// Decodes a whole stream in one feed and checks it ends cleanly.
std::vector<std::string> decode_all(std::string_view bytes, std::size_t max = default_max_frame) {
  frame_decoder dec(max);
  std::vector<std::string> frames;
  auto err = dec.feed(bytes, frames);
  EXPECT_FALSE(err) << err->message;
  auto end = dec.finish();
  EXPECT_FALSE(end) << end->message;
  EXPECT_EQ(dec.buffered(), 0u);
  return frames;
}

} // namespace

TEST(Frame, HeaderIsFourBytesLittleEndianLength) {
  EXPECT_EQ(encode("abc"), std::string("\x03\x00\x00\x00" "abc", 7));
  const std::string p(258, 'x');
  EXPECT_EQ(encode(p), std::string("\x02\x01\x00\x00", 4) + p);
  EXPECT_EQ(encode(""), std::string(4, '\0'));
}

TEST(Frame, HeaderAloneMatchesTheEncodedFramesFirstBytes) {
  const std::string p(70000, 'y');
  std::string h;
  ASSERT_FALSE(encode_frame_header(p.size(), h, 1 << 20));
  EXPECT_EQ(h, header(70000));
  EXPECT_EQ(h + p, encode(p, 1 << 20));
  std::string untouched = "keep";
  auto err = encode_frame_header(p.size(), untouched, 1000);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, frame_errc::oversized);
  EXPECT_EQ(untouched, "keep");
}

TEST(Frame, EncodeAppends) {
  std::string out = "prefix";
  ASSERT_FALSE(encode_frame("ab", out));
  EXPECT_EQ(out, std::string("prefix\x02\x00\x00\x00" "ab", 12));
}

TEST(Frame, RoundTripEmptyPayload) {
  EXPECT_EQ(decode_all(encode("")), std::vector<std::string>{""});
}

TEST(Frame, RoundTripOneBytePayload) {
  EXPECT_EQ(decode_all(encode("x")), std::vector<std::string>{"x"});
  EXPECT_EQ(decode_all(encode(std::string(1, '\0'))), std::vector<std::string>{std::string(1, '\0')});
}

TEST(Frame, RoundTripManyPayloads) {
  std::vector<std::string> payloads;
  for (unsigned i = 0; i < 200; ++i)
    payloads.push_back(binary_payload(i * 7 % 1000, i));
  EXPECT_EQ(decode_all(encode_all(payloads)), payloads);
}

TEST(Frame, RoundTripMaxSizePayload) {
  const auto p = binary_payload(default_max_frame, 42);
  EXPECT_EQ(decode_all(encode(p)), std::vector<std::string>{p});

  const auto small = binary_payload(16, 7);
  EXPECT_EQ(decode_all(encode(small, 16), 16), std::vector<std::string>{small});
}

TEST(Frame, EncodeRejectsOversizedPayloadAndLeavesOutputAlone) {
  std::string out = "keep";
  auto err = encode_frame(std::string(default_max_frame + 1, 'x'), out);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, frame_errc::oversized);
  EXPECT_EQ(err->message, "frame of 65537 bytes exceeds the maximum of 65536");
  EXPECT_EQ(out, "keep");

  err = encode_frame("12345", out, 4);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message, "frame of 5 bytes exceeds the maximum of 4");
}

TEST(Frame, ByteByByteFeeding) {
  const std::vector<std::string> payloads = {"hello", "", std::string(300, 'z'), "x"};
  const auto stream = encode_all(payloads);
  frame_decoder dec;
  std::vector<std::string> frames;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    ASSERT_FALSE(dec.feed(stream.substr(i, 1), frames));
  }
  EXPECT_EQ(frames, payloads);
  EXPECT_EQ(dec.buffered(), 0u);
  EXPECT_FALSE(dec.finish());
}

TEST(Frame, PartialFrameIsHeldUntilComplete) {
  const auto stream = encode("hello");
  frame_decoder dec;
  std::vector<std::string> frames;
  ASSERT_FALSE(dec.feed(std::string_view(stream).substr(0, 6), frames));
  EXPECT_TRUE(frames.empty());
  EXPECT_EQ(dec.buffered(), 6u);
  ASSERT_FALSE(dec.feed(std::string_view(stream).substr(6), frames));
  EXPECT_EQ(frames, std::vector<std::string>{"hello"});
  EXPECT_EQ(dec.buffered(), 0u);
}

TEST(Frame, EmptyFeedDoesNothing) {
  frame_decoder dec;
  std::vector<std::string> frames;
  EXPECT_FALSE(dec.feed({}, frames));
  EXPECT_TRUE(frames.empty());
  EXPECT_EQ(dec.buffered(), 0u);
  EXPECT_FALSE(dec.finish());
}

TEST(Frame, ManyFramesInOneFeedAppendToExistingFrames) {
  std::vector<std::string> payloads;
  for (int i = 0; i < 1000; ++i)
    payloads.push_back("message " + std::to_string(i));
  frame_decoder dec;
  std::vector<std::string> frames = {"already there"};
  ASSERT_FALSE(dec.feed(encode_all(payloads), frames));
  ASSERT_EQ(frames.size(), 1001u);
  EXPECT_EQ(frames.front(), "already there");
  EXPECT_TRUE(std::equal(payloads.begin(), payloads.end(), frames.begin() + 1));
}

TEST(Frame, OversizedHeaderIsRejectedAndDecoderStaysFailed) {
  frame_decoder dec;
  std::vector<std::string> frames;
  // A good frame, then a header announcing 1 MiB, then a good frame.
  const std::string stream = encode("before") + header(1048576) + encode("after");
  auto err = dec.feed(stream, frames);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, frame_errc::oversized);
  EXPECT_NE(err->message.find("1048576"), std::string::npos) << err->message;
  EXPECT_NE(err->message.find("65536"), std::string::npos) << err->message;
  EXPECT_EQ(frames, std::vector<std::string>{"before"}); // completed before the bad header

  auto again = dec.feed(encode("more"), frames);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->code, frame_errc::oversized);
  EXPECT_EQ(again->message, err->message);
  EXPECT_EQ(frames.size(), 1u);

  auto end = dec.finish();
  ASSERT_TRUE(end);
  EXPECT_EQ(end->message, err->message);
}

TEST(Frame, OversizedHeaderIsRejectedWithoutWaitingForThePayload) {
  frame_decoder dec(16);
  std::vector<std::string> frames;
  auto err = dec.feed(header(17), frames);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message, "frame of 17 bytes exceeds the maximum of 16");
  EXPECT_EQ(dec.buffered(), 0u);

  frame_decoder largest(16);
  EXPECT_FALSE(largest.feed(header(0xFFFFFFFF).substr(0, 3), frames)); // not yet known
  err = largest.feed(header(0xFFFFFFFF).substr(3), frames);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message, "frame of 4294967295 bytes exceeds the maximum of 16");
}

TEST(Frame, FinishReportsTruncatedPayload) {
  frame_decoder dec;
  std::vector<std::string> frames;
  const auto stream = encode("complete") + encode(std::string(100, 'p'));
  ASSERT_FALSE(dec.feed(std::string_view(stream).substr(0, stream.size() - 40), frames));
  EXPECT_EQ(frames, std::vector<std::string>{"complete"});
  auto err = dec.finish();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, frame_errc::truncated);
  EXPECT_EQ(err->message, "stream ended inside a frame of 100 bytes: 60 received, 40 missing");
}

TEST(Frame, FinishReportsTruncatedHeader) {
  frame_decoder dec;
  std::vector<std::string> frames;
  ASSERT_FALSE(dec.feed(header(5).substr(0, 1), frames));
  auto err = dec.finish();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, frame_errc::truncated);
  EXPECT_EQ(err->message, "stream ended inside a frame header: 1 of 4 header bytes received, 3 missing");
}

TEST(Frame, FinishReportsHeaderOnly) {
  frame_decoder dec;
  std::vector<std::string> frames;
  ASSERT_FALSE(dec.feed(header(5), frames));
  auto err = dec.finish();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message, "stream ended inside a frame of 5 bytes: 0 received, 5 missing");
}

TEST(Frame, FinishIsCleanAfterCompleteFrames) {
  frame_decoder dec;
  std::vector<std::string> frames;
  ASSERT_FALSE(dec.feed(encode("a") + encode(""), frames));
  EXPECT_FALSE(dec.finish());
}

// Feeds a long random stream of frames in random chunk sizes and checks
// that the decoder never holds more than max + 4 bytes and loses nothing.
void check_bounded(std::size_t max, unsigned seed, std::size_t frame_count) {
  std::mt19937 rng(seed);
  std::vector<std::string> payloads;
  std::string stream;
  for (std::size_t i = 0; i < frame_count; ++i) {
    // Mostly random sizes, with the extremes 0 and max mixed in.
    std::size_t size = rng() % (max + 1);
    if (i % 10 == 0)
      size = (i % 20 == 0) ? max : 0;
    payloads.push_back(binary_payload(size, seed + static_cast<unsigned>(i)));
    ASSERT_FALSE(encode_frame(payloads.back(), stream, max));
  }
  frame_decoder dec(max);
  std::vector<std::string> frames;
  std::size_t largest = 0;
  for (std::size_t pos = 0; pos < stream.size();) {
    const std::size_t chunk = std::min<std::size_t>(rng() % (3 * max + 8), stream.size() - pos);
    ASSERT_FALSE(dec.feed(std::string_view(stream).substr(pos, chunk), frames));
    pos += chunk;
    ASSERT_LE(dec.buffered(), max + 4) << "after " << pos << " bytes";
    largest = std::max(largest, dec.buffered());
  }
  EXPECT_FALSE(dec.finish());
  EXPECT_EQ(dec.buffered(), 0u);
  EXPECT_EQ(frames, payloads);
  EXPECT_GT(largest, max / 2); // the check above was not vacuous
}

TEST(Frame, DecoderMemoryIsBoundedSmallMax) {
  check_bounded(100, 1, 3000);
}

TEST(Frame, DecoderMemoryIsBoundedDefaultMax) {
  check_bounded(default_max_frame, 2, 200);
}
