// The chat room's commands, each in a scripted session of raw clients:
// rooms, history, private messages, /me, away/back, the flood limit.
#include "chat_helpers.hpp"
#include "demos/chat/chat_rooms.hpp"

using namespace iocaf;
using namespace iocaf::test;

namespace {

class chat_commands : public chat_fixture {
protected:
  void TearDown() override {
    caf::scoped_actor self{*sys};
    stop_chat(self);
    chat_fixture::TearDown();
  }
};

TEST_F(chat_commands, rooms_are_created_on_demand_and_messages_stay_in_their_room) {
  serve_chat();
  auto a = join_raw(name, "alice");
  auto b = join_raw(name, "bob");
  auto c = join_raw(name, "carol");
  a.expect(chat_kind::joined); // bob
  a.expect(chat_kind::joined); // carol
  b.expect(chat_kind::joined); // carol
  b.send(chat(chat_kind::enter, {}, "rust"));
  auto m = b.expect(chat_kind::entered);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "rust");
  for (auto* other : {&a, &c}) {
    m = other->expect(chat_kind::left);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->nick, "bob");
  }
  c.send(chat(chat_kind::enter, {}, "rust"));
  c.expect(chat_kind::entered);
  m = b.expect(chat_kind::joined);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->nick, "carol");
  a.expect(chat_kind::left);
  b.send(chat(chat_kind::say, {}, "only for rust"));
  m = c.expect(chat_kind::said);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "only for rust");
  a.send(chat(chat_kind::say, {}, "only for general"));
  a.send(chat(chat_kind::rooms));
  m = a.expect(chat_kind::rooms_reply);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->names, (std::vector<std::string>{"general", "rust"}));
  EXPECT_EQ(m->counts, (std::vector<std::uint64_t>{1, 2}));
  b.send(chat(chat_kind::who));
  m = b.expect(chat_kind::who_reply);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->names, (std::vector<std::string>{"bob", "carol"}));
  // part: back to the default room, where alice sees bob arrive.
  b.send(chat(chat_kind::part));
  m = b.expect(chat_kind::entered);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "general");
  b.expect(chat_kind::history); // alice's line
  m = a.expect(chat_kind::joined);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->nick, "bob");
  c.expect(chat_kind::left);
  b.send(chat(chat_kind::part));
  m = b.expect(chat_kind::error);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "you are in the default room general already");
  for (auto* x : {&a, &b, &c})
    x->sync();
  EXPECT_FALSE(a.saw_text("only for rust"));
  EXPECT_FALSE(b.saw_text("said alice only for general")); // bob was in rust then (history aside)
  EXPECT_FALSE(c.saw_text("only for general"));
}

TEST_F(chat_commands, newcomer_sees_the_last_lines_with_time_and_author_in_order) {
  chat_room_options opts;
  opts.history_lines = 3;
  serve_chat(opts);
  auto before = static_cast<std::uint64_t>(std::time(nullptr));
  auto a = join_raw(name, "alice");
  for (int i = 1; i <= 4; ++i)
    a.send(chat(chat_kind::say, {}, "line " + std::to_string(i)));
  a.send(chat(chat_kind::me, {}, "waves"));
  a.expect(chat_kind::action);
  auto after = static_cast<std::uint64_t>(std::time(nullptr));
  auto b = connect_raw(name);
  b.send(chat(chat_kind::join, "bob"));
  b.expect(chat_kind::welcome);
  b.expect(chat_kind::entered);
  std::vector<std::string> lines;
  for (int i = 0; i < 3; ++i) {
    auto m = b.next();
    ASSERT_TRUE(m);
    ASSERT_TRUE(m->kind == chat_kind::history || m->kind == chat_kind::history_me) << proto::encode_chat(*m);
    EXPECT_EQ(m->nick, "alice");
    EXPECT_GE(m->number, before);
    EXPECT_LE(m->number, after);
    lines.push_back(std::string(proto::to_string(m->kind)) + " " + m->text);
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"history line 3", "history line 4", "history_me waves"}));
  // Then live: nothing else was queued for bob before alice's next line.
  a.send(chat(chat_kind::say, {}, "live"));
  auto m = b.expect(chat_kind::said);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "live");
}

TEST_F(chat_commands, private_message_reaches_only_its_recipient) {
  serve_chat();
  auto a = join_raw(name, "alice");
  auto b = join_raw(name, "bob");
  auto c = join_raw(name, "carol");
  b.send(chat(chat_kind::enter, {}, "elsewhere")); // private messages cross rooms
  b.until(chat_kind::entered);
  a.send(chat(chat_kind::msg, "bob", "the secret is 42"));
  auto m = b.expect(chat_kind::private_from);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->nick, "alice");
  EXPECT_EQ(m->text, "the secret is 42");
  m = a.until(chat_kind::private_to);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->nick, "bob");
  EXPECT_EQ(m->text, "the secret is 42");
  a.send(chat(chat_kind::msg, "zed", "anyone?"));
  m = a.expect(chat_kind::notice);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "no user named zed is here");
  c.sync();
  EXPECT_FALSE(c.saw_text("secret")) << "carol saw the private message";
  // A newcomer's history holds no private line either.
  auto d = join_raw(name, "dave");
  d.sync();
  EXPECT_FALSE(d.saw_text("secret"));
}

TEST_F(chat_commands, me_away_and_back_are_shown_to_the_room_and_in_who) {
  serve_chat();
  auto a = join_raw(name, "alice");
  auto b = join_raw(name, "bob");
  a.expect(chat_kind::joined);
  a.send(chat(chat_kind::me, {}, "waves"));
  for (auto* x : {&a, &b}) {
    auto m = x->expect(chat_kind::action);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->nick, "alice");
    EXPECT_EQ(m->text, "waves");
  }
  b.send(chat(chat_kind::away, {}, "lunch"));
  auto m = a.expect(chat_kind::is_away);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->nick, "bob");
  EXPECT_EQ(m->text, "lunch");
  b.expect(chat_kind::is_away);
  a.send(chat(chat_kind::who));
  m = a.expect(chat_kind::who_reply);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->names, (std::vector<std::string>{"alice", "bob"}));
  m = a.expect(chat_kind::is_away);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->nick, "bob");
  EXPECT_EQ(m->text, "lunch");
  b.send(chat(chat_kind::back));
  m = a.expect(chat_kind::is_back);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->nick, "bob");
  b.expect(chat_kind::is_back);
  b.send(chat(chat_kind::back));
  m = b.expect(chat_kind::error);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "you are not away");
  a.send(chat(chat_kind::who));
  a.expect(chat_kind::who_reply);
  a.send(chat(chat_kind::say, {}, "after who"));
  m = b.expect(chat_kind::said); // and no is_away came before it
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "after who");
}

// The window is long, so no line ages out during the test: exactly
// flood_lines lines pass, the rest are refused, nothing else is affected.
TEST_F(chat_commands, flood_limit_refuses_excess_lines_with_a_notice_only) {
  chat_room_options opts;
  opts.flood_lines = 3;
  opts.flood_window = std::chrono::minutes(5);
  serve_chat(opts);
  auto a = join_raw(name, "alice");
  auto b = join_raw(name, "bob");
  a.expect(chat_kind::joined);
  for (int i = 1; i <= 5; ++i)
    a.send(chat(chat_kind::say, {}, "flood " + std::to_string(i)));
  for (int i = 0; i < 2; ++i) {
    auto m = a.expect(chat_kind::notice);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->text, "flood limit: line refused (at most 3 lines per 300000 ms)");
  }
  a.sync(); // commands still work
  b.send(chat(chat_kind::say, {}, "bob is not limited by alice"));
  auto m = a.expect(chat_kind::said);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "bob is not limited by alice");
  b.sync();
  for (int i = 1; i <= 3; ++i)
    EXPECT_TRUE(b.saw_text("said alice flood " + std::to_string(i))) << i;
  EXPECT_FALSE(b.saw_text("flood 4"));
  EXPECT_FALSE(b.saw_text("flood 5"));
}

} // namespace

namespace {

using std::chrono::milliseconds;

// The flood window with made-up times: it slides, so lines pass again once
// the earlier ones are a window old.
TEST(chat_rooms, flood_window_slides) {
  chat_server::flood_window w;
  auto t0 = chat_server::flood_window::clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(w.accept(t0 + milliseconds(i), 3, milliseconds(100))) << i;
  EXPECT_FALSE(w.accept(t0 + milliseconds(50), 3, milliseconds(100)));
  EXPECT_FALSE(w.accept(t0 + milliseconds(99), 3, milliseconds(100)));
  EXPECT_TRUE(w.accept(t0 + milliseconds(100), 3, milliseconds(100))) << "the first line is a window old";
  EXPECT_FALSE(w.accept(t0 + milliseconds(100), 3, milliseconds(100)));
  EXPECT_TRUE(w.accept(t0 + milliseconds(102), 3, milliseconds(100)));
}

TEST(chat_rooms, history_keeps_the_last_lines_of_each_room_in_order) {
  chat_server::rooms r{"general", 2, 3};
  for (int i = 1; i <= 3; ++i)
    r.record("general", {std::uint64_t(i), "alice", "g" + std::to_string(i), false});
  r.record("rust", {9, "bob", "r1", true});
  ASSERT_EQ(r.history("general").size(), 2u);
  EXPECT_EQ(r.history("general")[0].text, "g2");
  EXPECT_EQ(r.history("general")[1].text, "g3");
  ASSERT_EQ(r.history("rust").size(), 1u);
  EXPECT_TRUE(r.history("rust")[0].action);
  EXPECT_TRUE(r.can_enter("elsewhere")); // 2 of 3 rooms exist
  r.enter("elsewhere", 1);
  EXPECT_FALSE(r.can_enter("one-too-many"));
  EXPECT_TRUE(r.can_enter("general"));
  chat_server::rooms none{"general", 0, 3};
  none.record("general", {1, "alice", "x", false});
  EXPECT_TRUE(none.history("general").empty());
}

} // namespace
