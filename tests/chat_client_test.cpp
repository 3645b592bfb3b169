// Scripted sessions of real chat_client processes against a real
// chat_server: what a user types and what each screen shows.
#include "chat_helpers.hpp"
#include "chat_session.hpp"

using namespace iocaf;
using namespace iocaf::test;

namespace {

const std::string hhmmss = "[0-2][0-9]:[0-5][0-9]:[0-6][0-9]";

class chat_clients : public runtime_test {
protected:
  std::string pipe = unique_pipe_name("chatp");
};

// Everyone leaves and the server stops; every program exits 0.
void end_session(chat_session& s, const std::vector<std::string>& clients, const std::string& server = "server") {
  for (auto& c : clients)
    s.close_input(c);
  for (auto& c : clients)
    EXPECT_EQ(s.wait_exit(c), 0) << c << s.dump(c);
  s.close_input(server);
  EXPECT_EQ(s.wait_exit(server), 0) << s.dump(server);
}

TEST_F(chat_clients, rooms_history_and_a_private_message_in_a_session) {
  caf::scoped_actor self{*sys};
  chat_session s{self, *rt};
  ASSERT_TRUE(s.server("server", pipe, {"--history", "2"}));
  ASSERT_TRUE(s.client("alice", pipe));
  ASSERT_TRUE(s.wait("alice", "* you are in general"));
  ASSERT_TRUE(s.client("bob", pipe));
  ASSERT_TRUE(s.client("carol", pipe));
  ASSERT_TRUE(s.wait("alice", "* carol joined"));
  s.type("alice", "one");
  s.type("alice", "two");
  s.type("alice", "three");
  ASSERT_TRUE(s.wait("bob", "<alice> three"));
  s.type("bob", "/join rust");
  ASSERT_TRUE(s.wait("bob", "* you are in rust"));
  ASSERT_TRUE(s.wait("alice", "* bob left"));
  s.type("carol", "/join rust");
  ASSERT_TRUE(s.wait("bob", "* carol joined"));
  s.type("bob", "rusty");
  ASSERT_TRUE(s.wait("carol", "<bob> rusty"));
  s.type("alice", "/msg carol psst, carol");
  ASSERT_TRUE(s.wait("carol", "*alice* psst, carol"));
  ASSERT_TRUE(s.wait("alice", "-> *carol* psst, carol"));
  s.type("bob", "/rooms");
  ASSERT_TRUE(s.wait("bob", "* rooms: general (1) rust (2)"));
  // A newcomer to general sees its last two lines, marked, with time and author, in order.
  ASSERT_TRUE(s.client("dave", pipe));
  ASSERT_TRUE(s.wait("dave", "* you are in general"));
  ASSERT_TRUE(s.wait_match("dave", "history " + hhmmss + " <alice> two"));
  ASSERT_TRUE(s.wait_match("dave", "history " + hhmmss + " <alice> three"));
  s.type("dave", "/who");
  ASSERT_TRUE(s.wait("dave", "* present: alice dave"));
  EXPECT_FALSE(s.printed_containing("dave", "<alice> one"));
  s.type("bob", "/part");
  ASSERT_TRUE(s.wait("bob", "* you are in general"));
  // Everyone answers a /who: all they were sent is on their screens by then.
  for (auto n : {"alice", "bob", "carol", "dave"}) {
    s.type(n, "/who");
    ASSERT_TRUE(s.wait_match(n, "\\* present: .*"));
  }
  for (auto n : {"bob", "dave"})
    EXPECT_FALSE(s.printed_containing(n, "psst")) << n << s.dump(n);
  EXPECT_FALSE(s.printed_containing("alice", "rusty"));
  end_session(s, {"alice", "bob", "carol", "dave"});
}

TEST_F(chat_clients, me_away_and_back_show_on_screen_and_in_who) {
  caf::scoped_actor self{*sys};
  chat_session s{self, *rt};
  ASSERT_TRUE(s.server("server", pipe));
  ASSERT_TRUE(s.client("alice", pipe));
  ASSERT_TRUE(s.client("bob", pipe));
  ASSERT_TRUE(s.wait("alice", "* bob joined"));
  s.type("alice", "/me waves");
  ASSERT_TRUE(s.wait("bob", "* alice waves"));
  ASSERT_TRUE(s.wait("alice", "* alice waves"));
  s.type("bob", "/away lunch");
  ASSERT_TRUE(s.wait("alice", "* bob is away: lunch"));
  s.type("alice", "/who");
  ASSERT_TRUE(s.wait("alice", "* present: alice bob"));
  ASSERT_TRUE(s.wait("alice", "* bob is away: lunch"));
  s.type("bob", "/back");
  ASSERT_TRUE(s.wait("alice", "* bob is back"));
  s.type("bob", "/msg nobody hello?");
  ASSERT_TRUE(s.wait("bob", "* notice: no user named nobody is here"));
  s.type("bob", "/frobnicate");
  ASSERT_TRUE(s.wait_match("bob", "! unknown command '/frobnicate' \\(try /join ROOM, .*\\)"));
  end_session(s, {"alice", "bob"});
}

TEST_F(chat_clients, every_line_has_a_timestamp_unless_turned_off) {
  caf::scoped_actor self{*sys};
  chat_session s{self, *rt};
  ASSERT_TRUE(s.server("server", pipe));
  ASSERT_TRUE(s.start("alice", "chat_client.exe", {"--pipe", pipe, "--nick", "alice", "--log-level", "warn"}));
  ASSERT_TRUE(s.wait_match("alice", "\\[" + hhmmss + "\\] \\* welcome alice"));
  ASSERT_TRUE(s.client("bob", pipe));
  s.type("bob", "hi");
  s.type("alice", "/who");
  ASSERT_TRUE(s.wait_match("alice", "\\[" + hhmmss + "\\] \\* present: alice bob"));
  for (auto& l : s.lines("alice"))
    EXPECT_TRUE(std::regex_match(l, std::regex("\\[" + hhmmss + "\\] .*"))) << l;
  for (auto& l : s.lines("bob"))
    EXPECT_FALSE(std::regex_match(l, std::regex("\\[" + hhmmss + "\\] .*"))) << l;
  end_session(s, {"alice", "bob"});
}

TEST_F(chat_clients, a_taken_nick_is_not_a_dead_end) {
  caf::scoped_actor self{*sys};
  chat_session s{self, *rt};
  ASSERT_TRUE(s.server("server", pipe));
  ASSERT_TRUE(s.client("alice", pipe));
  ASSERT_TRUE(s.start("alice2", "chat_client.exe",
                      {"--pipe", pipe, "--nick", "alice", "--log-level", "warn", "--timestamps", "off"}));
  ASSERT_TRUE(s.wait("alice2", "! nick alice is taken"));
  ASSERT_TRUE(s.wait("alice2", "* pick another nick with /nick NEW"));
  s.type("alice2", "/nick alicia");
  ASSERT_TRUE(s.wait("alice2", "* welcome alicia"));
  ASSERT_TRUE(s.wait("alice", "* alicia joined"));
  s.type("alice2", "it works");
  ASSERT_TRUE(s.wait("alice", "<alicia> it works"));
  end_session(s, {"alice", "alice2"});
}

// 3 lines per 10 minutes: no line ages out during the test.
TEST_F(chat_clients, flood_limit_refuses_excess_lines_and_nothing_else) {
  caf::scoped_actor self{*sys};
  chat_session s{self, *rt};
  ASSERT_TRUE(s.server("server", pipe, {"--flood-lines", "3", "--flood-window", "600000"}));
  ASSERT_TRUE(s.client("alice", pipe));
  ASSERT_TRUE(s.client("bob", pipe));
  ASSERT_TRUE(s.wait("alice", "* bob joined"));
  for (int i = 1; i <= 5; ++i)
    s.type("alice", "line " + std::to_string(i));
  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(s.wait("alice", "* notice: flood limit: line refused (at most 3 lines per 600000 ms)"));
  s.type("bob", "still talking");
  ASSERT_TRUE(s.wait("alice", "<bob> still talking"));
  s.type("bob", "/who");
  ASSERT_TRUE(s.wait("bob", "* present: alice bob"));
  for (int i = 1; i <= 3; ++i)
    EXPECT_TRUE(s.printed_containing("bob", "<alice> line " + std::to_string(i))) << s.dump("bob");
  EXPECT_FALSE(s.printed_containing("bob", "line 4"));
  EXPECT_FALSE(s.printed_containing("bob", "line 5"));
  end_session(s, {"alice", "bob"});
}

// The real client answers pings: a silent raw client is dropped, alice stays.
TEST_F(chat_clients, heartbeat_keeps_answering_clients_and_drops_a_silent_one) {
  caf::scoped_actor self{*sys};
  chat_session s{self, *rt};
  ASSERT_TRUE(s.server("server", pipe, {"--ping-interval", "50", "--ping-timeout", "500"}));
  ASSERT_TRUE(s.client("alice", pipe));
  auto silent = join_raw(pipe, "silent");
  ASSERT_TRUE(s.wait("alice", "* silent joined"));
  ASSERT_TRUE(s.wait("alice", "* silent left"));
  auto m = silent.expect(chat_kind::notice);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "no answer within 500 ms: disconnected");
  s.type("alice", "/who");
  ASSERT_TRUE(s.wait("alice", "* present: alice"));
  end_session(s, {"alice"});
}

TEST_F(chat_clients, reconnect_after_a_server_restart_restores_nick_and_room) {
  caf::scoped_actor self{*sys};
  chat_session s{self, *rt};
  const std::vector<std::string> retry{"--wait", "60", "--retry-min", "20", "--retry-max", "200"};
  ASSERT_TRUE(s.server("server", pipe));
  ASSERT_TRUE(s.client("alice", pipe, retry));
  ASSERT_TRUE(s.client("bob", pipe, retry));
  s.type("alice", "/join rust");
  ASSERT_TRUE(s.wait("alice", "* you are in rust"));
  s.close_input("server");
  ASSERT_EQ(s.wait_exit("server"), 0);
  for (auto n : {"alice", "bob"}) {
    ASSERT_TRUE(s.wait(n, "* notice: server is shutting down"));
    ASSERT_TRUE(s.wait_match(n, "\\* connection to the server lost: .*; waiting up to 60 s for it"));
    ASSERT_TRUE(s.wait_match(n, "\\* reconnecting in [0-9]+ ms \\(attempt 1\\)"));
  }
  ASSERT_TRUE(s.server("server2", pipe));
  ASSERT_TRUE(s.wait("alice", "* reconnected as alice in rust"));
  ASSERT_TRUE(s.wait("bob", "* reconnected as bob in general"));
  s.type("bob", "/rooms");
  ASSERT_TRUE(s.wait("bob", "* rooms: general (1) rust (1)"));
  s.type("alice", "/who");
  ASSERT_TRUE(s.wait("alice", "* present: alice"));
  end_session(s, {"alice", "bob"}, "server2");
}

// The retry delays double from --retry-min up to --retry-max, each drawn
// from [d/2, d]; then the server comes and the client joins.
TEST_F(chat_clients, client_waits_for_a_server_not_there_yet_with_capped_backoff) {
  caf::scoped_actor self{*sys};
  chat_session s{self, *rt};
  ASSERT_TRUE(s.client("alice", pipe, {"--wait", "60", "--retry-min", "20", "--retry-max", "100"}, false));
  ASSERT_TRUE(s.wait_match("alice", "\\* cannot connect to .*; waiting up to 60 s for it"));
  const long cap[] = {20, 40, 80, 100, 100, 100};
  for (int attempt = 1; attempt <= 6; ++attempt) {
    ASSERT_TRUE(s.wait_match("alice", "\\* reconnecting in [0-9]+ ms \\(attempt " + std::to_string(attempt) + "\\)"));
    std::smatch m;
    std::regex re{"\\* reconnecting in ([0-9]+) ms \\(attempt " + std::to_string(attempt) + "\\)"};
    for (auto& l : s.lines("alice"))
      if (std::regex_match(l, m, re)) {
        long d = std::stol(m[1]);
        EXPECT_GE(d, cap[attempt - 1] / 2) << l;
        EXPECT_LE(d, cap[attempt - 1]) << l;
      }
  }
  ASSERT_TRUE(s.server("server", pipe));
  ASSERT_TRUE(s.wait("alice", "* welcome alice"));
  end_session(s, {"alice"});
}

// --wait bounds the total: with no server the client gives up after it.
TEST_F(chat_clients, client_gives_up_when_the_wait_is_over) {
  caf::scoped_actor self{*sys};
  chat_session s{self, *rt};
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(s.client("alice", pipe, {"--wait", "1", "--retry-min", "50", "--retry-max", "200"}, false));
  EXPECT_EQ(s.wait_exit("alice"), 1) << s.dump("alice");
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_TRUE(s.printed_containing("alice", "(attempt 3)")) << s.dump("alice");
}

TEST_F(chat_clients, without_wait_a_missing_server_ends_the_client_with_status_1) {
  caf::scoped_actor self{*sys};
  chat_session s{self, *rt};
  ASSERT_TRUE(s.client("alice", pipe, {}, false));
  EXPECT_EQ(s.wait_exit("alice"), 1);
}

} // namespace
