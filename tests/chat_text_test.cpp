// The chat in any language and in words people understand: UTF-8 nicks and
// text from one client's command line and input to another's screen
// byte-exact, the one limit on a typed line, and naming what is not a chat
// client. Real chat_server and chat_client processes (chat_session.hpp).
#include "chat_helpers.hpp"
#include "chat_session.hpp"

using namespace iocaf;
using namespace iocaf::test;

namespace {

// Accents, CJK, emoji outside the BMP (with a skin tone and a ZWJ sequence).
const std::string zoe = "Zo\xC3\xAB";                                  // Zoë
const std::string wang = "\xE7\x8E\x8B\xE8\x8A\xB3";                   // 王芳
const std::string room = "\xE9\x83\xA8\xE5\xB1\x8B";                   // 部屋
const std::string greeting = "Gr\xC3\xBC\xC3\x9F" "e, caf\xC3\xA9! \xE4\xBD\xA0\xE5\xA5\xBD "
                             "\xF0\x9F\x91\x8B\xF0\x9F\x8F\xBD \xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB";
const std::string cjk_char = "\xE4\xBD\xA0"; // 你, 3 bytes

class chat_text : public runtime_test {
protected:
  std::string pipe = unique_pipe_name("chatu");
};

void end_session(chat_session& s, const std::vector<std::string>& clients) {
  for (auto& c : clients)
    s.close_input(c);
  for (auto& c : clients)
    EXPECT_EQ(s.wait_exit(c), 0) << c << s.dump(c);
  s.close_input("server");
  EXPECT_EQ(s.wait_exit("server"), 0) << s.dump("server");
}

TEST_F(chat_text, utf8_nicks_and_text_go_from_argv_and_stdin_to_another_screen_byte_exact) {
  caf::scoped_actor self{*sys};
  chat_session s{self, *rt};
  ASSERT_TRUE(s.server("server", pipe));
  ASSERT_TRUE(s.client(zoe, pipe));
  ASSERT_TRUE(s.client(wang, pipe));
  ASSERT_TRUE(s.wait(zoe, "* " + wang + " joined"));
  s.type(zoe, greeting);
  ASSERT_TRUE(s.wait(wang, "<" + zoe + "> " + greeting));
  s.type(wang, "/me " + greeting);
  ASSERT_TRUE(s.wait(zoe, "* " + wang + " " + greeting));
  s.type(zoe, "/msg " + wang + " " + greeting);
  ASSERT_TRUE(s.wait(wang, "*" + zoe + "* " + greeting));
  s.type(wang, "/join " + room);
  ASSERT_TRUE(s.wait(wang, "* you are in " + room));
  s.type(zoe, "/rooms");
  ASSERT_TRUE(s.wait(zoe, "* rooms: general (1) " + room + " (1)"));
  end_session(s, {zoe, wang});
}

// One limit, checked by the client before sending: 4096 bytes of UTF-8,
// stated in characters and bytes. At the limit a line goes through.
TEST_F(chat_text, a_typed_line_over_the_limit_is_refused_in_characters_and_bytes) {
  caf::scoped_actor self{*sys};
  chat_session s{self, *rt};
  ASSERT_TRUE(s.server("server", pipe));
  ASSERT_TRUE(s.client("ann", pipe));
  ASSERT_TRUE(s.client("bob", pipe));
  ASSERT_TRUE(s.wait("ann", "* bob joined"));
  const std::string limit = "the maximum is 4096 bytes of UTF-8 (4096 ASCII characters, 2048 accented Latin letters, "
                            "1365 CJK characters or 1024 emoji)";
  s.type("ann", std::string(4097, 'a'));
  ASSERT_TRUE(s.wait("ann", "! line not sent: it is 4097 characters in 4097 bytes; " + limit));
  std::string cjk;
  for (int i = 0; i < 1366; ++i)
    cjk += cjk_char;
  s.type("ann", cjk);
  ASSERT_TRUE(s.wait("ann", "! line not sent: it is 1366 characters in 4098 bytes; " + limit));
  s.type("ann", "/msg bob " + cjk);
  ASSERT_TRUE(s.wait("ann", "! line not sent: it is 1375 characters in 4107 bytes; " + limit));
  s.type("ann", std::string(4096, 'b'));
  ASSERT_TRUE(s.wait("bob", "<ann> " + std::string(4096, 'b')));
  cjk.resize(1365 * 3);
  s.type("ann", cjk);
  ASSERT_TRUE(s.wait("bob", "<ann> " + cjk));
  EXPECT_FALSE(s.printed_containing("bob", std::string(4097, 'a')));
  end_session(s, {"ann", "bob"});
}

// "hell" read as a frame header announces 1819043176 bytes: the server says
// what that means. (The connection's own warning, from actors/stream, still
// quotes the decoder.)
TEST_F(chat_text, something_that_is_not_a_chat_client_is_named_so_by_the_server) {
  caf::scoped_actor self{*sys};
  chat_session s{self, *rt};
  ASSERT_TRUE(s.server("server", pipe));
  auto h = open_client(pipe);
  ASSERT_TRUE(h) << h.err().to_string();
  ASSERT_EQ(write_blocking(h->get(), "hello, is this HTTP?\r\n"), 0u);
  ASSERT_TRUE(s.wait_stderr("server", "not an iocaf chat client (bad frame header)"));
  ASSERT_TRUE(s.client("ann", pipe)); // and the server serves on
  end_session(s, {"ann"});
}

} // namespace
