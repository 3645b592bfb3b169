#pragma once
// Scripted sessions of the real chat programs: chat_server and chat_client
// processes (from demos/chat, next to the tests' folder) under process
// actors, whose output lines the test waits for, bounded, in order.
#include "actors/process/process_actor.hpp"
#include "support.hpp"

#include <map>
#include <regex>
#include <string>
#include <vector>

namespace iocaf::test {

inline std::string chat_program(const std::string& exe) {
  return io::exe_directory() + "..\\demos\\chat\\" + exe;
}

class chat_session {
public:
  chat_session(caf::scoped_actor& self, runtime& rt) : self_(self), rt_(rt) {}

  ~chat_session() {
    for (auto& kv : progs_)
      if (!kv.second.exited)
        self_->send_exit(kv.second.actor, caf::exit_reason::kill);
  }

  // Starts chat_server.exe or chat_client.exe as `name`.
  bool start(const std::string& name, const std::string& exe, std::vector<std::string> args) {
    process_actor_options o;
    o.spawn.program = chat_program(exe);
    o.spawn.args = std::move(args);
    o.lines = true;
    o.handler = caf::actor{self_};
    auto p = spawn_process(rt_.system(), rt_.core(), o);
    if (!p) {
      ADD_FAILURE() << name << ": " << describe(p.error());
      return false;
    }
    auto& pr = progs_[name];
    pr = program{};
    pr.actor = *p;
    names_[p->address()] = name;
    return true;
  }

  bool server(const std::string& name, const std::string& pipe, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--pipe", pipe, "--log-level", "warn"};
    args.insert(args.end(), extra.begin(), extra.end());
    return start(name, "chat_server.exe", args) && wait(name, "listening \\\\.\\pipe\\" + pipe);
  }

  // A client with timestamps off (unless extra turns them on), joined as nick.
  bool client(const std::string& nick, const std::string& pipe, std::vector<std::string> extra = {},
              bool expect_welcome = true) {
    std::vector<std::string> args{"--pipe", pipe, "--nick", nick, "--log-level", "warn", "--timestamps", "off"};
    args.insert(args.end(), extra.begin(), extra.end());
    return start(nick, "chat_client.exe", args) && (!expect_welcome || wait(nick, "* welcome " + nick));
  }

  void type(const std::string& name, const std::string& line) {
    self_->send(progs_[name].actor, process_input{line + "\n"});
  }
  void close_input(const std::string& name) { self_->send(progs_[name].actor, close_stdin_atom::value); }

  // Waits until `name` printed a line equal to `line` after the lines
  // consumed so far (true), and consumes up to it.
  bool wait(const std::string& name, const std::string& line, std::chrono::milliseconds within = timeout) {
    return wait_for(name, [&](const std::string& l) { return l == line; }, line, within);
  }
  bool wait_match(const std::string& name, const std::string& pattern, std::chrono::milliseconds within = timeout) {
    std::regex re{pattern};
    return wait_for(name, [&](const std::string& l) { return std::regex_match(l, re); }, "/" + pattern + "/", within);
  }

  // Waits until `name` exited; its exit code (-1 if it did not in time).
  long wait_exit(const std::string& name, std::chrono::milliseconds within = timeout) {
    auto until = std::chrono::steady_clock::now() + within;
    while (!progs_[name].exited)
      if (!pump(until)) {
        ADD_FAILURE() << name << " did not exit in time" << dump(name);
        return -1;
      }
    return static_cast<long>(progs_[name].code);
  }

  // Waits until `name` wrote `part` somewhere in its standard error.
  bool wait_stderr(const std::string& name, const std::string& part, std::chrono::milliseconds within = timeout) {
    auto until = std::chrono::steady_clock::now() + within;
    auto& pr = progs_[name];
    while (pr.err.find(part) == std::string::npos)
      if (pr.exited || !pump(until)) {
        ADD_FAILURE() << name << " did not write " << part << " to stderr" << dump(name);
        return false;
      }
    return true;
  }

  bool printed_containing(const std::string& name, const std::string& part) {
    for (auto& l : progs_[name].out)
      if (l.find(part) != std::string::npos)
        return true;
    return false;
  }
  const std::vector<std::string>& lines(const std::string& name) { return progs_[name].out; }

  std::string dump(const std::string& name) {
    std::string s = "\n--- " + name + " stdout:\n";
    for (auto& l : progs_[name].out)
      s += l + "\n";
    return s + "--- " + name + " stderr:\n" + progs_[name].err;
  }

private:
  struct program {
    caf::actor actor;
    std::vector<std::string> out;
    std::size_t consumed = 0;
    std::string err;
    bool exited = false;
    std::uint32_t code = 0;
  };

  template <class Pred>
  bool wait_for(const std::string& name, Pred pred, const std::string& what, std::chrono::milliseconds within) {
    auto until = std::chrono::steady_clock::now() + within;
    auto& pr = progs_[name];
    for (;;) {
      for (; pr.consumed < pr.out.size(); ++pr.consumed)
        if (pred(pr.out[pr.consumed])) {
          ++pr.consumed;
          return true;
        }
      if (pr.exited || !pump(until)) {
        ADD_FAILURE() << name << " did not print " << what << (pr.exited ? " (exited)" : " in time") << dump(name);
        return false;
      }
    }
  }

  // Takes one message from a program; false on the deadline.
  bool pump(std::chrono::steady_clock::time_point until) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return false;
    bool timed_out = false;
    self_->receive(
      [&](process_started&) {},
      [&](process_output& o) {
        auto& pr = progs_[names_[caf::actor_cast<caf::actor_addr>(self_->current_sender())]];
        if (o.stream == std_stream::out)
          pr.out.push_back(o.data);
        else
          pr.err += o.data + "\n";
      },
      [&](process_exited& e) {
        auto& pr = progs_[names_[caf::actor_cast<caf::actor_addr>(self_->current_sender())]];
        pr.exited = true;
        pr.code = e.exit_code;
      },
      [&](std::uint64_t) {}, // written stdin bytes
      [&](caf::error&) {},   // stdin already closed
      caf::after(left) >> [&] { timed_out = true; });
    return !timed_out;
  }

  caf::scoped_actor& self_;
  runtime& rt_;
  std::map<std::string, program> progs_;
  std::map<caf::actor_addr, std::string> names_;
};

} // namespace iocaf::test
