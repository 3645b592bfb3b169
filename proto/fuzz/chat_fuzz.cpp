// libFuzzer target for the chat parser.
//
// The input is one frame payload. Checked, aborting on any violation:
//   - exactly one of message and error is set;
//   - an error is non-empty printable ASCII (safe to log);
//   - an accepted payload is canonical: encode_chat(message) == payload;
//   - parse_chat(encode_chat(message)) == message;
//   - the fields of an accepted message respect the documented limits
//     (nicks, rooms, numbers, room counts; fields a kind does not use are empty).
#include "proto/chat.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace iocaf::proto;

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "chat_fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

bool printable_ascii(const std::string& s) {
  for (char c : s)
    if (c < 0x20 || c > 0x7E)
      return false;
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const auto r = parse_chat(payload);
  check(r.message.has_value() != !r.error.empty(), "not exactly one of message and error");
  if (!r.message) {
    check(printable_ascii(r.error), "error message is not printable ASCII");
    return 0;
  }
  const chat_message& m = *r.message;
  const std::string kind = to_string(m.kind);
  check(kind != "?", "accepted a message of no known kind");

  const std::string wire = encode_chat(m);
  check(wire == payload, "accepted payload is not canonical (encode differs)");
  const auto again = parse_chat(wire);
  check(again.message && again.error.empty(), "encoded message does not parse");
  check(*again.message == m, "parse(encode(m)) != m");

  check(m.text.size() <= max_text_size, "text longer than the maximum");
  if (!m.nick.empty())
    check(valid_nick(m.nick), "accepted an invalid nick");
  if (m.kind == chat_kind::renamed || m.kind == chat_kind::enter || m.kind == chat_kind::entered)
    check(valid_nick(m.text), "accepted an invalid new nick or room");
  for (const auto& name : m.names)
    check(valid_nick(name), "accepted an invalid name or room");
  if (m.kind != chat_kind::who_reply && m.kind != chat_kind::rooms_reply)
    check(m.names.empty(), "names set outside who_reply and rooms_reply");
  if (m.kind == chat_kind::rooms_reply)
    check(m.counts.size() == m.names.size(), "a room without its count");
  else
    check(m.counts.empty(), "counts set outside rooms_reply");
  for (auto c : m.counts)
    check(c <= 999999999u, "room count above 9 digits");
  check(m.number <= 999999999999999u, "number above 15 digits");
  if (m.kind != chat_kind::hello && m.kind != chat_kind::history && m.kind != chat_kind::history_me)
    check(m.number == 0, "number set outside hello and history");
  return 0;
}
