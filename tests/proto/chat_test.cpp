#include "proto/chat.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace iocaf::proto {
// Readable failure output for gtest.
void PrintTo(const chat_message& m, std::ostream* os) {
  *os << "{" << to_string(m.kind) << ", nick=\"" << m.nick << "\", text=\"" << m.text
      << "\", names=[";
  for (const auto& n : m.names)
    *os << "\"" << n << "\" ";
  *os << "], number=" << m.number << ", counts=[";
  for (auto c : m.counts)
    *os << c << " ";
  *os << "]}";
}
} // namespace iocaf::proto

using namespace iocaf::proto;

namespace {

const std::string nick32(32, 'n');
const std::string text4096(4096, 't');

chat_message msg(chat_kind k, std::string nick = {}, std::string text = {},
                 std::vector<std::string> names = {}) {
  return {k, std::move(nick), std::move(text), std::move(names), 0, {}};
}

chat_message numbered(chat_kind k, std::uint64_t number, std::string nick = {}, std::string text = {}) {
  auto m = msg(k, std::move(nick), std::move(text));
  m.number = number;
  return m;
}

chat_message rooms_reply(std::vector<std::string> rooms, std::vector<std::uint64_t> counts) {
  auto m = msg(chat_kind::rooms_reply, {}, {}, std::move(rooms));
  m.counts = std::move(counts);
  return m;
}

// Valid messages with their exact encodings; every kind appears.
struct sample {
  chat_message message;
  std::string wire;
};

const std::vector<sample>& samples() {
  static const std::vector<sample> all = {
    {msg(chat_kind::join, "alice"), "join alice"},
    {msg(chat_kind::join, nick32), "join " + nick32},
    {msg(chat_kind::join, "Zo\xC3\xAB"), "join Zo\xC3\xAB"},
    {msg(chat_kind::say, {}, "hello world"), "say hello world"},
    {msg(chat_kind::say, {}, ""), "say "},
    {msg(chat_kind::say, {}, " leading and trailing "), "say  leading and trailing "},
    {msg(chat_kind::say, {}, "tab\there, \xE2\x82\xAC and \xF0\x9F\x98\x80"),
     "say tab\there, \xE2\x82\xAC and \xF0\x9F\x98\x80"},
    {msg(chat_kind::say, {}, text4096), "say " + text4096},
    {msg(chat_kind::leave), "leave"},
    {msg(chat_kind::who), "who"},
    {msg(chat_kind::nick, "bob"), "nick bob"},
    {msg(chat_kind::welcome, "alice"), "welcome alice"},
    {msg(chat_kind::joined, "carol"), "joined carol"},
    {msg(chat_kind::left, "carol"), "left carol"},
    {msg(chat_kind::said, "alice", "hi there"), "said alice hi there"},
    {msg(chat_kind::said, "alice", ""), "said alice "},
    {msg(chat_kind::renamed, "alice", "alicia"), "renamed alice alicia"},
    {msg(chat_kind::who_reply, {}, {}, {"alice", "bob", "carol"}), "who_reply alice bob carol"},
    {msg(chat_kind::who_reply, {}, {}, {"alice"}), "who_reply alice"},
    {msg(chat_kind::who_reply), "who_reply"},
    {msg(chat_kind::notice, {}, "server restarts in 5 minutes"),
     "notice server restarts in 5 minutes"},
    {msg(chat_kind::error, {}, "nick 'bob' is taken"), "error nick 'bob' is taken"},
    // protocol version 2
    {numbered(chat_kind::hello, 2), "hello 2"},
    {numbered(chat_kind::hello, 0), "hello 0"},
    {numbered(chat_kind::hello, 999999999999999), "hello 999999999999999"},
    {msg(chat_kind::enter, {}, "lobby"), "enter lobby"},
    {msg(chat_kind::part), "part"},
    {msg(chat_kind::rooms), "rooms"},
    {msg(chat_kind::msg, "bob", "psst, bob"), "msg bob psst, bob"},
    {msg(chat_kind::me, {}, "waves"), "me waves"},
    {msg(chat_kind::away, {}, "lunch, back at 2"), "away lunch, back at 2"},
    {msg(chat_kind::away, {}, ""), "away "},
    {msg(chat_kind::back), "back"},
    {msg(chat_kind::pong), "pong"},
    {msg(chat_kind::entered, {}, "#rust"), "entered #rust"},
    {rooms_reply({"general", "lobby"}, {3, 0}), "rooms_reply general 3 lobby 0"},
    {rooms_reply({}, {}), "rooms_reply"},
    {numbered(chat_kind::history, 1764160000, "alice", "hello"), "history 1764160000 alice hello"},
    {numbered(chat_kind::history_me, 0, "alice", ""), "history_me 0 alice "},
    {msg(chat_kind::private_from, "alice", "psst"), "private alice psst"},
    {msg(chat_kind::private_to, "bob", "psst"), "private_to bob psst"},
    {msg(chat_kind::action, "alice", "waves"), "action alice waves"},
    {msg(chat_kind::is_away, "bob", "lunch"), "is_away bob lunch"},
    {msg(chat_kind::is_away, "bob", ""), "is_away bob "},
    {msg(chat_kind::is_back, "bob"), "is_back bob"},
    {msg(chat_kind::ping), "ping"},
  };
  return all;
}

std::string parse_error(std::string_view payload) {
  auto r = parse_chat(payload);
  EXPECT_FALSE(r.message) << "accepted: " << testing::PrintToString(std::string(payload));
  return r.error;
}

} // namespace

TEST(Chat, SamplesCoverEveryKind) {
  std::set<chat_kind> seen;
  for (const auto& s : samples())
    seen.insert(s.message.kind);
  EXPECT_EQ(seen.size(), chat_kind_count);
}

TEST(Chat, EncodeProducesTheDocumentedFormat) {
  for (const auto& s : samples())
    EXPECT_EQ(encode_chat(s.message), s.wire);
}

TEST(Chat, RoundTripOfEveryKind) {
  for (const auto& s : samples()) {
    auto r = parse_chat(encode_chat(s.message));
    ASSERT_TRUE(r.message) << s.wire << ": " << r.error;
    EXPECT_TRUE(r.error.empty());
    EXPECT_EQ(*r.message, s.message);
    EXPECT_EQ(encode_chat(*r.message), s.wire);
  }
}

TEST(Chat, MessageEquality) {
  EXPECT_EQ(msg(chat_kind::said, "a", "b"), msg(chat_kind::said, "a", "b"));
  EXPECT_NE(msg(chat_kind::said, "a", "b"), msg(chat_kind::say, "a", "b"));
  EXPECT_NE(msg(chat_kind::said, "a", "b"), msg(chat_kind::said, "x", "b"));
  EXPECT_NE(msg(chat_kind::said, "a", "b"), msg(chat_kind::said, "a", "x"));
  EXPECT_NE(msg(chat_kind::who_reply, {}, {}, {"a"}), msg(chat_kind::who_reply, {}, {}, {"b"}));
}

TEST(Chat, KindNamesAreTheWireWords) {
  EXPECT_STREQ(to_string(chat_kind::join), "join");
  EXPECT_STREQ(to_string(chat_kind::who_reply), "who_reply");
  EXPECT_STREQ(to_string(chat_kind::error), "error");
  EXPECT_STREQ(to_string(static_cast<chat_kind>(99)), "?");
  std::set<std::string> words;
  for (std::size_t k = 0; k < chat_kind_count; ++k)
    words.insert(to_string(static_cast<chat_kind>(k)));
  EXPECT_EQ(words.size(), chat_kind_count);
  EXPECT_STREQ(to_string(chat_kind::private_from), "private");
}

struct malformed {
  std::string payload;
  std::string expected; // must appear in the error message
};

TEST(Chat, MalformedPayloadsAreRejectedWithAReason) {
  const std::vector<malformed> cases = {
    {"", "empty payload"},
    // unknown kinds
    {"shout hi", "unknown kind 'shout'"},
    {"JOIN alice", "unknown kind 'JOIN'"},
    {" join alice", "unknown kind ''"},
    {"say\thello", "unknown kind 'say\\x09hello'"},
    {std::string("\0\xFF", 2), "unknown kind '\\x00\\xFF'"},
    // missing fields
    {"join", "join: missing nick"},
    {"nick", "nick: missing nick"},
    {"welcome", "welcome: missing nick"},
    {"say", "say: missing text"},
    {"notice", "notice: missing text"},
    {"said", "said: missing nick"},
    {"said alice", "said: missing text"},
    {"renamed", "renamed: missing old nick"},
    {"renamed alice", "renamed: missing new nick"},
    // extra fields
    {"leave now", "leave: unexpected data after the kind"},
    {"who ", "who: unexpected data after the kind"},
    {"join alice bob", "join: unexpected data after the nick"},
    {"join alice ", "join: unexpected data after the nick"},
    {"left alice bob", "left: unexpected data after the nick"},
    {"renamed a b c", "renamed: unexpected data after the new nick"},
    // bad nicks
    {"join ", "join: nick is empty"},
    {"join  alice", "join: nick is empty"},
    {"join " + std::string(33, 'n'), "join: nick is 33 characters in 33 bytes; the maximum is 32 bytes of UTF-8 (32 ASCII characters, 16 accented Latin letters, 10 CJK characters or 8 emoji)"},
    {"join al\x01ice", "join: nick contains control character U+0001 at offset 2"},
    {"join al\tice", "join: nick contains control character U+0009"},
    {"join alice\n", "join: nick contains control character U+000A"},
    {"join al\x7Fice", "control character U+007F"},
    {"join al\xC2\x85ice", "control character U+0085"},
    {"join al\xC2\xA0ice", "nick contains white-space character U+00A0 at offset 2"},
    {"join al\xE3\x80\x80ice", "white-space character U+3000"},
    {"join al\xFFice", "join: nick is not valid UTF-8 at offset 2"},
    {"said  hi", "said: nick is empty"},
    {"renamed  bob", "renamed: old nick is empty"},
    {"renamed alice ", "renamed: new nick is empty"},
    {"renamed alice " + std::string(40, 'x'), "renamed: new nick is 40 characters in 40 bytes"},
    {"who_reply ", "who_reply: name 1 is empty"},
    {"who_reply alice  bob", "who_reply: name 2 is empty"},
    {"who_reply alice bob ", "who_reply: name 3 is empty"},
    {"who_reply alice b\x02ob", "who_reply: name 2 contains control character U+0002"},
    // bad texts
    {"say line\nbreak", "say: text contains control character U+000A at offset 4"},
    {"say cr\r", "say: text contains control character U+000D"},
    {"say nul" + std::string(1, '\0'), "say: text contains control character U+0000"},
    {"error \x1B[31mred", "error: text contains control character U+001B"},
    {"said alice \x7F", "said: text contains control character U+007F"},
    {"notice \xC2\x9B", "notice: text contains control character U+009B"},
    {"say " + std::string(4097, 't'), "say: text is 4097 characters in 4097 bytes; the maximum is 4096 bytes of UTF-8"},
    // invalid UTF-8
    {"say \xFF", "say: text is not valid UTF-8 at offset 0"},
    {"say ok \x80", "say: text is not valid UTF-8 at offset 3"},
    {"say \xC0\xAF", "not valid UTF-8"},         // overlong '/'
    {"say \xE0\x80\xAF", "not valid UTF-8"},     // overlong '/'
    {"say \xED\xA0\x80", "not valid UTF-8"},     // surrogate U+D800
    {"say \xF4\x90\x80\x80", "not valid UTF-8"}, // above U+10FFFF
    {"say \xE2\x82", "not valid UTF-8"},         // truncated sequence
    {"say \xE2\x82" "a", "not valid UTF-8"},     // bad continuation
    {"said \xC3 hi", "said: nick is not valid UTF-8"},
    // protocol version 2: numbers, rooms, room lists, history
    {"hello", "hello: missing number"},
    {"hello ", "hello: number is empty"},
    {"hello 02", "hello: number '02' has a leading zero"},
    {"hello -1", "hello: number '-1' is not a decimal number"},
    {"hello 2x", "is not a decimal number"},
    {"hello 1234567890123456", "hello: number has 16 digits, the maximum is 15"},
    {"hello 2 ", "hello: unexpected data after the number"},
    {"enter", "enter: missing room"},
    {"enter ", "enter: room is empty"},
    {"enter a b", "enter: unexpected data after the room"},
    {"enter " + std::string(33, 'r'), "enter: room is 33 characters in 33 bytes; the maximum is 32 bytes"},
    {"entered r\x01", "entered: room contains control character U+0001"},
    {"part now", "part: unexpected data after the kind"},
    {"pong 1", "pong: unexpected data after the kind"},
    {"msg", "msg: missing nick"},
    {"msg bob", "msg: missing text"},
    {"me", "me: missing text"},
    {"away", "away: missing text"},
    {"rooms_reply general", "rooms_reply: missing the count of room 1"},
    {"rooms_reply general x", "rooms_reply: count of room 1 'x' is not a decimal number"},
    {"rooms_reply general 1 ", "rooms_reply: room 2 is empty"},
    {"rooms_reply general 1234567890", "count of room 1 has 10 digits, the maximum is 9"},
    {"rooms_reply general 01", "leading zero"},
    {"history", "history: missing time"},
    {"history 12", "history: missing nick"},
    {"history 12 alice", "history: missing text"},
    {"history x alice hi", "history: time 'x' is not a decimal number"},
    {"history_me 1  hi", "history_me: nick is empty"},
    {"history 1 alice a\nb", "history: text contains control character U+000A"},
    {"is_back", "is_back: missing nick"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.payload));
    const std::string error = parse_error(c.payload);
    EXPECT_NE(error.find(c.expected), std::string::npos) << "error was: " << error;
    for (char ch : error) // error messages are safe to print or log
      EXPECT_TRUE(ch >= 0x20 && ch < 0x7F) << "error was: " << error;
  }
}

TEST(Chat, LimitsAreInclusive) {
  EXPECT_TRUE(parse_chat("join " + nick32).message);
  EXPECT_TRUE(parse_chat("say " + text4096).message);
  // 4096 bytes of multi-byte characters is still within the limit.
  std::string euros;
  while (euros.size() + 3 <= 4096)
    euros += "\xE2\x82\xAC";
  EXPECT_TRUE(parse_chat("say " + euros).message);
  EXPECT_TRUE(parse_chat("say " + euros + "a").message);
  EXPECT_FALSE(parse_chat("say " + euros + "ab").message);
}

TEST(Chat, UnknownKindInErrorIsShortened) {
  const std::string error = parse_error(std::string(1000, 'k'));
  EXPECT_LT(error.size(), 100u) << error;
  EXPECT_NE(error.find("..."), std::string::npos) << error;
}

TEST(Chat, ValidNicks) {
  for (std::string nick : {std::string("a"), std::string("alice"), nick32,
                           std::string("a-b_c.d[1]{x}|~"), std::string("Zo\xC3\xAB"),
                           std::string("\xE6\x97\xA5\xE6\x9C\xAC"), std::string("\xF0\x9F\x98\x80")}) {
    std::string why = "unchanged";
    EXPECT_TRUE(valid_nick(nick, &why)) << nick << ": " << why;
    EXPECT_EQ(why, "unchanged");
  }
}

TEST(Chat, InvalidNicks) {
  const std::vector<malformed> cases = {
    {"", "nick is empty"},
    {std::string(33, 'n'), "nick is 33 characters in 33 bytes; the maximum is 32 bytes"},
    {std::string(11, '\xE2') , "not valid UTF-8"},
    // 11 euro signs: 33 bytes but only 11 characters; the limit is in bytes.
    {[] { std::string s; for (int i = 0; i < 11; ++i) s += "\xE2\x82\xAC"; return s; }(),
     "nick is 11 characters in 33 bytes; the maximum is 32 bytes"},
    {"a b", "nick contains a space at offset 1"},
    {" a", "nick contains a space at offset 0"},
    {"a\tb", "control character U+0009"},
    {"a\x1F", "control character U+001F"},
    {"a\xC2\xA0", "white-space character U+00A0"},
    {"a\xE2\x80\x80", "white-space character U+2000"},
    {"a\xE2\x80\xA8", "white-space character U+2028"},
    {"a\xC3", "nick is not valid UTF-8 at offset 1"},
    {"\xED\xBF\xBF", "not valid UTF-8"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.payload));
    std::string why;
    EXPECT_FALSE(valid_nick(c.payload, &why));
    EXPECT_NE(why.find(c.expected), std::string::npos) << "why was: " << why;
    EXPECT_FALSE(valid_nick(c.payload)); // why is optional
  }
}

TEST(Chat, ParseResultHasExactlyOneSide) {
  auto ok = parse_chat("who");
  EXPECT_TRUE(ok.message);
  EXPECT_TRUE(ok.error.empty());
  auto bad = parse_chat("what");
  EXPECT_FALSE(bad.message);
  EXPECT_FALSE(bad.error.empty());
}
