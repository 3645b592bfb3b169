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
// The parser is strict and accepts exactly what encode_chat produces, so for
// an accepted payload p, encode_chat(*parse_chat(p).message) == p.
//
//   - nick: 1..32 bytes of valid UTF-8 with no space, no other Unicode
//     white-space character (e.g. U+00A0, U+3000) and no control character
//     (U+0000..U+001F, U+007F..U+009F).
//   - text: at most 4096 bytes of valid UTF-8 with no control character
//     except tab (U+0009).
//   - valid UTF-8 means shortest form, no surrogates, nothing above U+10FFFF.
//
// Fields a kind does not use must be empty in a chat_message given to
// encode_chat; encode_chat does not validate (it writes what it is given,
// and the receiving parser rejects anything invalid).
//
// Portable: no Windows headers, no CAF.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iocaf::proto {

constexpr std::size_t max_nick_size = 32;   // bytes
constexpr std::size_t max_text_size = 4096; // bytes

enum class chat_kind {
  join, say, leave, who, nick,                                       // client -> server
  welcome, joined, left, said, renamed, who_reply, notice, error,    // server -> client
};

struct chat_message {
  chat_kind kind;
  std::string nick;               // join/nick: requested nick; welcome/joined/left/said: subject; renamed: old nick
  std::string text;               // say/said/notice/error: text; renamed: new nick
  std::vector<std::string> names; // who_reply
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

// The wire word of a kind ("join", "who_reply", ...); "?" for a value
// outside the enumeration.
const char* to_string(chat_kind kind);

} // namespace iocaf::proto
