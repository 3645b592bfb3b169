#pragma once
// The chat client's text side: typed lines to protocol messages, protocol
// messages to screen lines (with the local time in front, unless turned off).
#include "proto/chat.hpp"

#include <ctime>
#include <optional>
#include <string>

namespace chat {

using iocaf::proto::chat_kind;
using iocaf::proto::chat_message;

inline chat_message message(chat_kind kind, std::string nick = {}, std::string text = {}) {
  return chat_message{kind, std::move(nick), std::move(text), {}, 0, {}};
}

// The one limit on a typed line (a said line, a command with its text): as
// many bytes of UTF-8 as a text may have, so every text it carries fits.
constexpr std::size_t max_line_bytes = iocaf::proto::max_text_size;

// Said when the console's line editor refuses a character.
inline std::string line_full() {
  return "line full: " + iocaf::proto::utf8_limit(max_line_bytes);
}

// Empty if the typed line is within the limit, else why it is not sent.
inline std::string over_limit(const std::string& line) {
  if (line.size() <= max_line_bytes)
    return {};
  return "line not sent: it is " + iocaf::proto::utf8_size(line) + "; " + iocaf::proto::utf8_limit(max_line_bytes);
}

const char* const commands_help =
  "/join ROOM, /part, /rooms, /who, /msg NICK TEXT, /me ACTION, /away [REASON], /back, /nick NEW, /quit";

// A typed line as a message to the server: a said line, or a command.
// Returns nothing and sets *error for an unknown or malformed command; /quit
// gives a leave message.
inline std::optional<chat_message> parse_typed(const std::string& line, std::string* error) {
  if (line.empty() || line[0] != '/')
    return message(chat_kind::say, {}, line);
  auto space = line.find(' ');
  auto command = line.substr(0, space);
  auto arg = space == std::string::npos ? std::string{} : line.substr(space + 1);
  if (command == "/who" && arg.empty())
    return message(chat_kind::who);
  if (command == "/rooms" && arg.empty())
    return message(chat_kind::rooms);
  if (command == "/part" && arg.empty())
    return message(chat_kind::part);
  if (command == "/back" && arg.empty())
    return message(chat_kind::back);
  if (command == "/quit" && arg.empty())
    return message(chat_kind::leave);
  if (command == "/away")
    return message(chat_kind::away, {}, arg);
  if (command == "/join" && !arg.empty() && arg.find(' ') == std::string::npos)
    return message(chat_kind::enter, {}, arg);
  if (command == "/nick" && !arg.empty() && arg.find(' ') == std::string::npos)
    return message(chat_kind::nick, arg);
  if (command == "/me" && !arg.empty())
    return message(chat_kind::me, {}, arg);
  auto to_end = arg.find(' ');
  if (command == "/msg" && to_end != std::string::npos && to_end > 0 && to_end + 1 < arg.size())
    return message(chat_kind::msg, arg.substr(0, to_end), arg.substr(to_end + 1));
  *error = "unknown command '" + line + "' (try " + commands_help + ")";
  return std::nullopt;
}

// HH:MM:SS of a Unix time, in local time.
inline std::string clock_time(std::time_t t) {
  std::tm tm{};
  if (localtime_s(&tm, &t) != 0)
    return "??:??:??";
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

// The screen line for a message from the server (without the time in front).
inline std::string render(const chat_message& m) {
  switch (m.kind) {
    case chat_kind::said: return "<" + m.nick + "> " + m.text;
    case chat_kind::action: return "* " + m.nick + " " + m.text;
    case chat_kind::welcome: return "* welcome " + m.nick;
    case chat_kind::entered: return "* you are in " + m.text;
    case chat_kind::joined: return "* " + m.nick + " joined";
    case chat_kind::left: return "* " + m.nick + " left";
    case chat_kind::renamed: return "* " + m.nick + " is now " + m.text;
    case chat_kind::history:
      return "history " + clock_time(static_cast<std::time_t>(m.number)) + " <" + m.nick + "> " + m.text;
    case chat_kind::history_me:
      return "history " + clock_time(static_cast<std::time_t>(m.number)) + " * " + m.nick + " " + m.text;
    case chat_kind::private_from: return "*" + m.nick + "* " + m.text;
    case chat_kind::private_to: return "-> *" + m.nick + "* " + m.text;
    case chat_kind::is_away: return "* " + m.nick + " is away" + (m.text.empty() ? "" : ": " + m.text);
    case chat_kind::is_back: return "* " + m.nick + " is back";
    case chat_kind::notice: return "* notice: " + m.text;
    case chat_kind::error: return "! " + m.text;
    case chat_kind::who_reply: {
      std::string line = "* present:";
      for (auto& n : m.names)
        line += " " + n;
      return line;
    }
    case chat_kind::rooms_reply: {
      std::string line = "* rooms:";
      for (std::size_t i = 0; i < m.names.size(); ++i)
        line += " " + m.names[i] + " (" + std::to_string(i < m.counts.size() ? m.counts[i] : 0) + ")";
      return line;
    }
    default: return std::string("! the server sent a client message: ") + iocaf::proto::to_string(m.kind);
  }
}

} // namespace chat
