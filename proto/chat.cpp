#include "proto/chat.hpp"
#include "proto/chat_fields.hpp"

#include <cstdio>

namespace iocaf::proto {

namespace {

using namespace detail;

// Which fields follow the kind word on the wire.
enum class layout { none, nick, text, nick_text, nick_nick, names, number, room, rooms, number_nick_text };

struct kind_info {
  chat_kind kind;
  const char* word;
  layout fields;
};

// Indexed by chat_kind.
constexpr kind_info kinds[] = {
  {chat_kind::join, "join", layout::nick},
  {chat_kind::say, "say", layout::text},
  {chat_kind::leave, "leave", layout::none},
  {chat_kind::who, "who", layout::none},
  {chat_kind::nick, "nick", layout::nick},
  {chat_kind::welcome, "welcome", layout::nick},
  {chat_kind::joined, "joined", layout::nick},
  {chat_kind::left, "left", layout::nick},
  {chat_kind::said, "said", layout::nick_text},
  {chat_kind::renamed, "renamed", layout::nick_nick},
  {chat_kind::who_reply, "who_reply", layout::names},
  {chat_kind::notice, "notice", layout::text},
  {chat_kind::error, "error", layout::text},
  {chat_kind::hello, "hello", layout::number},
  {chat_kind::enter, "enter", layout::room},
  {chat_kind::part, "part", layout::none},
  {chat_kind::rooms, "rooms", layout::none},
  {chat_kind::msg, "msg", layout::nick_text},
  {chat_kind::me, "me", layout::text},
  {chat_kind::away, "away", layout::text},
  {chat_kind::back, "back", layout::none},
  {chat_kind::pong, "pong", layout::none},
  {chat_kind::entered, "entered", layout::room},
  {chat_kind::rooms_reply, "rooms_reply", layout::rooms},
  {chat_kind::history, "history", layout::number_nick_text},
  {chat_kind::history_me, "history_me", layout::number_nick_text},
  {chat_kind::private_from, "private", layout::nick_text},
  {chat_kind::private_to, "private_to", layout::nick_text},
  {chat_kind::action, "action", layout::nick_text},
  {chat_kind::is_away, "is_away", layout::nick_text},
  {chat_kind::is_back, "is_back", layout::nick},
  {chat_kind::ping, "ping", layout::none},
};
constexpr std::size_t kind_count = sizeof(kinds) / sizeof(kinds[0]);

constexpr bool kinds_in_enum_order() {
  for (std::size_t i = 0; i < kind_count; ++i)
    if (static_cast<std::size_t>(kinds[i].kind) != i)
      return false;
  return true;
}
static_assert(kinds_in_enum_order(), "kinds[] must be indexed by chat_kind");
static_assert(kind_count == chat_kind_count,
              "kinds[] must list every chat_kind");

const kind_info* find_kind(chat_kind kind) {
  const auto i = static_cast<std::size_t>(kind);
  return i < kind_count ? &kinds[i] : nullptr;
}

const kind_info* find_kind(std::string_view word) {
  for (const auto& k : kinds)
    if (word == k.word)
      return &k;
  return nullptr;
}

// Splits s at its first space: returns the part before it; s becomes the part
// after it, or nullopt if there was no space.
std::string_view take_field(std::optional<std::string_view>& s) {
  const std::string_view all = *s;
  const auto sp = all.find(' ');
  if (sp == std::string_view::npos) {
    s.reset();
    return all;
  }
  s = all.substr(sp + 1);
  return all.substr(0, sp);
}

chat_parse_result fail(std::string error) {
  return {std::nullopt, std::move(error)};
}

} // namespace

bool operator==(const chat_message& a, const chat_message& b) {
  return a.kind == b.kind && a.nick == b.nick && a.text == b.text && a.names == b.names
         && a.number == b.number && a.counts == b.counts;
}

bool operator!=(const chat_message& a, const chat_message& b) {
  return !(a == b);
}

std::string utf8_limit(std::size_t max_bytes) {
  const auto n = std::to_string(max_bytes);
  return "the maximum is " + n + " bytes of UTF-8 (" + n + " ASCII characters, " + std::to_string(max_bytes / 2)
         + " accented Latin letters, " + std::to_string(max_bytes / 3) + " CJK characters or "
         + std::to_string(max_bytes / 4) + " emoji)";
}

std::size_t utf8_characters(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string utf8_size(std::string_view s) {
  const auto chars = utf8_characters(s);
  return std::to_string(chars) + (chars == 1 ? " character in " : " characters in ") + std::to_string(s.size())
         + " bytes";
}

const char* to_string(chat_kind kind) {
  const auto* info = find_kind(kind);
  return info ? info->word : "?";
}

bool valid_nick(std::string_view nick, std::string* why) {
  std::string reason;
  const bool ok = check_nick(nick, "nick", reason);
  if (!ok && why)
    *why = std::move(reason);
  return ok;
}

std::string encode_chat(const chat_message& msg) {
  const auto* info = find_kind(msg.kind);
  if (!info)
    return "?"; // not a chat_kind; no parser accepts this
  std::string out = info->word;
  switch (info->fields) {
    case layout::none:
      break;
    case layout::nick:
      out += ' ';
      out += msg.nick;
      break;
    case layout::text:
      out += ' ';
      out += msg.text;
      break;
    case layout::nick_text:
    case layout::nick_nick:
      out += ' ';
      out += msg.nick;
      out += ' ';
      out += msg.text;
      break;
    case layout::names:
      for (const auto& name : msg.names) {
        out += ' ';
        out += name;
      }
      break;
    case layout::number:
      out += ' ';
      out += std::to_string(msg.number);
      break;
    case layout::room:
      out += ' ';
      out += msg.text;
      break;
    case layout::rooms:
      for (std::size_t i = 0; i < msg.names.size(); ++i) {
        out += ' ';
        out += msg.names[i];
        out += ' ';
        out += std::to_string(i < msg.counts.size() ? msg.counts[i] : 0);
      }
      break;
    case layout::number_nick_text:
      out += ' ';
      out += std::to_string(msg.number);
      out += ' ';
      out += msg.nick;
      out += ' ';
      out += msg.text;
      break;
  }
  return out;
}

chat_parse_result parse_chat(std::string_view payload) {
  if (payload.empty())
    return fail("empty payload");
  std::optional<std::string_view> rest = payload; // nullopt: no more fields
  const std::string_view word = take_field(rest);
  const auto* info = find_kind(word);
  if (!info)
    return fail("unknown kind " + quote(word));
  const std::string k = info->word;
  chat_message msg{info->kind, {}, {}, {}, 0, {}};
  std::string why;
  switch (info->fields) {
    case layout::none:
      if (rest)
        return fail(k + ": unexpected data after the kind (" + k + " takes no fields)");
      break;
    case layout::nick:
      if (!rest)
        return fail(k + ": missing nick");
      msg.nick = take_field(rest);
      if (!check_nick(msg.nick, "nick", why))
        return fail(k + ": " + why);
      if (rest)
        return fail(k + ": unexpected data after the nick");
      break;
    case layout::text:
      if (!rest)
        return fail(k + ": missing text");
      if (!check_text(*rest, why))
        return fail(k + ": " + why);
      msg.text = *rest;
      break;
    case layout::nick_text:
      if (!rest)
        return fail(k + ": missing nick");
      msg.nick = take_field(rest);
      if (!check_nick(msg.nick, "nick", why))
        return fail(k + ": " + why);
      if (!rest)
        return fail(k + ": missing text");
      if (!check_text(*rest, why))
        return fail(k + ": " + why);
      msg.text = *rest;
      break;
    case layout::nick_nick:
      if (!rest)
        return fail(k + ": missing old nick");
      msg.nick = take_field(rest);
      if (!check_nick(msg.nick, "old nick", why))
        return fail(k + ": " + why);
      if (!rest)
        return fail(k + ": missing new nick");
      msg.text = take_field(rest);
      if (!check_nick(msg.text, "new nick", why))
        return fail(k + ": " + why);
      if (rest)
        return fail(k + ": unexpected data after the new nick");
      break;
    case layout::names:
      while (rest) {
        const std::string_view name = take_field(rest);
        if (!check_nick(name, "name " + std::to_string(msg.names.size() + 1), why))
          return fail(k + ": " + why);
        msg.names.emplace_back(name);
      }
      break;
    case layout::number:
      if (!rest)
        return fail(k + ": missing number");
      if (!parse_number(take_field(rest), max_number_digits, "number", msg.number, why))
        return fail(k + ": " + why);
      if (rest)
        return fail(k + ": unexpected data after the number");
      break;
    case layout::room:
      if (!rest)
        return fail(k + ": missing room");
      msg.text = take_field(rest);
      if (!check_nick(msg.text, "room", why))
        return fail(k + ": " + why);
      if (rest)
        return fail(k + ": unexpected data after the room");
      break;
    case layout::rooms:
      while (rest) {
        const std::string label = "room " + std::to_string(msg.names.size() + 1);
        const std::string_view name = take_field(rest);
        if (!check_nick(name, label, why))
          return fail(k + ": " + why);
        if (!rest)
          return fail(k + ": missing the count of " + label);
        std::uint64_t count = 0;
        if (!parse_number(take_field(rest), max_count_digits, "count of " + label, count, why))
          return fail(k + ": " + why);
        msg.names.emplace_back(name);
        msg.counts.push_back(count);
      }
      break;
    case layout::number_nick_text:
      if (!rest)
        return fail(k + ": missing time");
      if (!parse_number(take_field(rest), max_number_digits, "time", msg.number, why))
        return fail(k + ": " + why);
      if (!rest)
        return fail(k + ": missing nick");
      msg.nick = take_field(rest);
      if (!check_nick(msg.nick, "nick", why))
        return fail(k + ": " + why);
      if (!rest)
        return fail(k + ": missing text");
      if (!check_text(*rest, why))
        return fail(k + ": " + why);
      msg.text = *rest;
      break;
  }
  return {std::move(msg), {}};
}

} // namespace iocaf::proto
