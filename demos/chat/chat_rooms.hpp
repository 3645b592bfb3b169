#pragma once
// The chat server's rooms, as plain data (no actors): who is in which room, in
// join order, and each room's recent lines. Also the per-client flood window.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace iocaf::chat_server {

using member_id = std::uint64_t;

struct history_line {
  std::uint64_t time; // Unix seconds
  std::string nick;
  std::string text;
  bool action;        // a /me line
};

struct room {
  std::vector<member_id> members; // in the order they entered
  std::deque<history_line> history;
};

// Rooms are created on demand and kept (with their history) once created.
class rooms {
public:
  rooms(std::string default_room, std::size_t history_lines, std::size_t max_rooms)
    : default_(std::move(default_room)), history_lines_(history_lines), max_rooms_(max_rooms) {
    rooms_[default_];
  }

  const std::string& default_room() const { return default_; }

  // False if the room does not exist and no more rooms may be created.
  bool can_enter(const std::string& name) const {
    return rooms_.count(name) > 0 || rooms_.size() < max_rooms_;
  }
  std::size_t max_rooms() const { return max_rooms_; }

  void enter(const std::string& name, member_id id) { rooms_[name].members.push_back(id); }

  void leave(const std::string& name, member_id id) {
    auto i = rooms_.find(name);
    if (i == rooms_.end())
      return;
    auto& m = i->second.members;
    m.erase(std::remove(m.begin(), m.end(), id), m.end());
  }

  const std::vector<member_id>& members(const std::string& name) const {
    static const std::vector<member_id> none;
    auto i = rooms_.find(name);
    return i == rooms_.end() ? none : i->second.members;
  }

  // Keeps the last history_lines lines of the room (none if it is 0).
  void record(const std::string& name, history_line line) {
    if (history_lines_ == 0)
      return;
    auto& h = rooms_[name].history;
    h.push_back(std::move(line));
    while (h.size() > history_lines_)
      h.pop_front();
  }

  const std::deque<history_line>& history(const std::string& name) const {
    static const std::deque<history_line> none;
    auto i = rooms_.find(name);
    return i == rooms_.end() ? none : i->second.history;
  }

  // Every room by name, with its member count.
  std::vector<std::pair<std::string, std::size_t>> list() const {
    std::vector<std::pair<std::string, std::size_t>> out;
    for (auto& kv : rooms_)
      out.emplace_back(kv.first, kv.second.members.size());
    return out;
  }

private:
  std::string default_;
  std::size_t history_lines_;
  std::size_t max_rooms_;
  std::map<std::string, room> rooms_; // by name, so /rooms lists them sorted
};

// At most `lines` accepted lines in any `window`: a sliding window of the
// accepted lines' times.
class flood_window {
public:
  using clock = std::chrono::steady_clock;

  bool accept(clock::time_point now, std::size_t lines, std::chrono::milliseconds window) {
    while (!times_.empty() && now - times_.front() >= window)
      times_.pop_front();
    if (times_.size() >= lines)
      return false;
    times_.push_back(now);
    return true;
  }

private:
  std::deque<clock::time_point> times_;
};

} // namespace iocaf::chat_server
