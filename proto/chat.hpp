// Chat protocol: one chat message per frame payload (see frame.hpp).
//
// Encoding: a single line of UTF-8 text, no line terminator:
//
//     <kind>[ <field>]...
//
// <kind> is the lowercase word returned by to_string(chat_kind). Fields are
// separated by exactly one space (0x20). A nick never contains a space; a
// text is always the last field and runs to the end of the payload, so it
// may contain spaces (and may be empty: "say " carries an empty text, while
// "say" is missing its text field). Per kind:
//
//     join <nick>                 client asks to join as <nick>
//     say <text>                  client says <text>
//     leave                       client leaves
//     who                         client asks who is present
//     nick <nick>                 client asks to be renamed to <nick>
//     welcome <nick>              server: you joined as <nick>
//     joined <nick>               server: <nick> joined
//     left <nick>                 server: <nick> left
//     said <nick> <text>          server: <nick> said <text>
//     renamed <old> <new>         server: <old> is now <new> (new nick in .text)
//     who_reply[ <nick>]...       server: the nicks present, in order, maybe none
//     notice <text>               server: informational <text>
//     error <text>                server: your last request failed because <text>
//
// Protocol version 2 adds (a client sends hello first; a server answers a
// client that does not, or that speaks another version, with "error protocol
// version N required ..." and closes the connection):
//
//     hello <version>             client speaks protocol <version>
//     enter <room>                client moves to <room> (created on demand)
//     part                        client goes back to the default room
//     rooms                       client asks for the rooms
//     msg <nick> <text>           client sends <text> to <nick> only
//     me <text>                   client does an action
//     away <text>                 client is away, maybe with a reason (text may be empty)
//     back                        client is back
//     pong                        client answers a ping
//     entered <room>              server: you are now in <room> (its history follows)
//     rooms_reply[ <room> <count>]...  server: every room and its member count
//     history <time> <nick> <text>     server: a past line of the room (time: Unix seconds)
//     history_me <time> <nick> <text>  server: a past action of the room
//     private <nick> <text>       server: <nick> sent you <text>
//     private_to <nick> <text>    server: you sent <text> to <nick> (the echo)
//     action <nick> <text>        server: <nick> does <text>
//     is_away <nick> <text>       server: <nick> is away (reason <text>, maybe empty)
//     is_back <nick>              server: <nick> is back
//     ping                        server: answer with pong
//
// The parser is strict and accepts exactly what encode_chat produces, so for
// an accepted payload p, encode_chat(*parse_chat(p).message) == p.
//
//   - nick: 1..32 bytes of valid UTF-8 (32 ASCII characters, 16 accented
//     Latin letters, 10 CJK characters, 8 emoji: the limits are in bytes;
//     errors state characters and bytes) with no space, no other Unicode
//     white-space character (e.g. U+00A0, U+3000) and no control character
//     (U+0000..U+001F, U+007F..U+009F).
//   - text: at most 4096 bytes of valid UTF-8 (4096 ASCII characters, 1365
//     CJK characters) with no control character
//     except tab (U+0009).
//   - room: the same rules as a nick.
//   - number (version, time): decimal digits, no leading zero, at most 15
//     digits; count: the same, at most 9 digits.
//   - valid UTF-8 means shortest form, no surrogates, nothing above U+10FFFF.
//
// Fields a kind does not use must be empty in a chat_message given to
// encode_chat; encode_chat does not validate (it writes what it is given,
// and the receiving parser rejects anything invalid).
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

constexpr std::size_t max_nick_size = 32;   // bytes
constexpr std::size_t max_text_size = 4096; // bytes
constexpr std::size_t max_room_size = max_nick_size;
constexpr std::uint64_t chat_protocol_version = 2;

enum class chat_kind {
  join, say, leave, who, nick,                                       // client -> server
  welcome, joined, left, said, renamed, who_reply, notice, error,    // server -> client
  // protocol version 2
  hello, enter, part, rooms, msg, me, away, back, pong,              // client -> server
  entered, rooms_reply, history, history_me, private_from, private_to, action, is_away, is_back,
  ping,                                                              // server -> client
};
constexpr std::size_t chat_kind_count = static_cast<std::size_t>(chat_kind::ping) + 1;

struct chat_message {
  chat_kind kind;
  std::string nick;               // join/nick: requested nick; welcome/joined/left/said/...: subject;
                                  // renamed: old nick; msg/private_to: recipient; private: sender
  std::string text;               // say/said/notice/error/...: text; renamed: new nick; enter/entered: room
  std::vector<std::string> names; // who_reply: nicks; rooms_reply: rooms
  std::uint64_t number = 0;       // hello: version; history/history_me: time
  std::vector<std::uint64_t> counts; // rooms_reply: member count of each room in names
};

bool operator==(const chat_message& a, const chat_message& b);
bool operator!=(const chat_message& a, const chat_message& b);

std::string encode_chat(const chat_message& msg);

// Exactly one of message and error is set; error names the problem.
struct chat_parse_result {
  std::optional<chat_message> message;
  std::string error;
};

chat_parse_result parse_chat(std::string_view payload);

// True if nick is a valid nick; otherwise false and, if why is not null,
// *why says what is wrong with it.
bool valid_nick(std::string_view nick, std::string* why = nullptr);

// Size limits for people, in printable ASCII like every codec message:
// "the maximum is 32 bytes of UTF-8 (32 ASCII characters, 16 accented Latin
// letters, 10 CJK characters or 8 emoji)", and the size of a text as "N
// characters in M bytes" (characters: code points; for bytes that are not
// valid UTF-8, the bytes that do not continue a sequence).
std::string utf8_limit(std::size_t max_bytes);
std::size_t utf8_characters(std::string_view s);
std::string utf8_size(std::string_view s);

// The wire word of a kind ("join", "who_reply", ...); "?" for a value
// outside the enumeration.
const char* to_string(chat_kind kind);

} // namespace iocaf::proto
