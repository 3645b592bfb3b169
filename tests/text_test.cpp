// UTF-8 in and out of Windows programs (io/text.hpp): strict conversions,
// the command line as UTF-8 whatever the ANSI code page, text through pipes
// byte-exact.
#include "io/text.hpp"
#include "process_support.hpp"

using namespace iocaf;
using namespace iocaf::test;

namespace {

// Accents, CJK, and emoji outside the BMP (a surrogate pair in UTF-16), with
// a skin-tone modifier and a zero-width joiner sequence.
const std::string accents = "Zo\xC3\xAB Gr\xC3\xBC\xC3\x9F" "e caf\xC3\xA9";
const std::string cjk = "\xE7\x8E\x8B\xE8\x8A\xB3 \xE4\xBD\xA0\xE5\xA5\xBD";
const std::string emoji = "\xF0\x9F\x91\x8B\xF0\x9F\x8F\xBD \xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB";

TEST(text, utf8_and_utf16_convert_both_ways_unchanged) {
  for (const auto& s : {accents, cjk, emoji, std::string{}, std::string("plain ascii")}) {
    auto wide = io::utf8_to_utf16(s);
    ASSERT_TRUE(wide) << wide.err().to_string();
    auto back = io::utf16_to_utf8(*wide);
    ASSERT_TRUE(back) << back.err().to_string();
    EXPECT_EQ(*back, s);
  }
  auto wave = io::utf8_to_utf16("\xF0\x9F\x91\x8B");
  ASSERT_TRUE(wave);
  EXPECT_EQ(*wave, std::wstring(L"\xD83D\xDC4B")); // one code point, two UTF-16 units
}

TEST(text, invalid_utf8_is_an_error_naming_the_offset) {
  const std::pair<std::string, std::size_t> cases[] = {
    {"ab\xC3", 2},              // truncated
    {"a\xFF" "b", 1},           // never valid
    {"\x80", 0},                // stray continuation byte
    {"x\xC0\xAF", 1},           // overlong '/'
    {"xy\xE0\x80\xAF", 2},      // overlong, three bytes
    {"\xED\xA0\x80", 0},        // a surrogate (U+D800) encoded
    {"ok\xF4\x90\x80\x80", 2},  // above U+10FFFF
  };
  for (const auto& [bytes, offset] : cases) {
    auto r = io::utf8_to_utf16(bytes);
    ASSERT_FALSE(r) << "accepted at offset " << offset;
    EXPECT_EQ(r.err().code(), static_cast<unsigned long>(ERROR_NO_UNICODE_TRANSLATION));
    EXPECT_NE(r.err().call().find("invalid UTF-8 at byte " + std::to_string(offset)), std::string::npos)
      << r.err().to_string();
  }
}

TEST(text, a_lone_surrogate_is_an_error_naming_the_unit) {
  const std::pair<std::wstring, std::size_t> cases[] = {
    {L"a\xD800", 1}, {L"\xDC00" L"b", 0}, {L"ab\xD83D" L"c", 2}, {L"\xD83D\xDC4B\xDC4B", 2}};
  for (const auto& [units, at] : cases) {
    auto r = io::utf16_to_utf8(units);
    ASSERT_FALSE(r) << "accepted, lone surrogate at " << at;
    EXPECT_EQ(r.err().code(), static_cast<unsigned long>(ERROR_NO_UNICODE_TRANSLATION));
    EXPECT_NE(r.err().call().find("lone surrogate at unit " + std::to_string(at)), std::string::npos)
      << r.err().to_string();
  }
}

TEST(text, pipes_files_and_bad_handles_are_not_consoles) {
  HANDLE r = nullptr, w = nullptr;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  io::unique_handle rh{r}, wh{w};
  EXPECT_FALSE(io::is_console(r));
  EXPECT_FALSE(io::is_console(w));
  EXPECT_FALSE(io::is_console(INVALID_HANDLE_VALUE));
  EXPECT_FALSE(io::is_console(nullptr));
  HANDLE nul = CreateFileW(L"NUL", GENERIC_WRITE, FILE_SHARE_WRITE, nullptr, OPEN_EXISTING, 0, nullptr);
  ASSERT_NE(nul, INVALID_HANDLE_VALUE);
  io::unique_handle nh{nul};
  EXPECT_FALSE(io::is_console(nul));
}

TEST(text, write_text_puts_utf8_bytes_on_a_pipe_unchanged) {
  HANDLE r = nullptr, w = nullptr;
  ASSERT_TRUE(CreatePipe(&r, &w, nullptr, 0));
  io::unique_handle rh{r}, wh{w};
  const std::string text = accents + " " + cjk + " " + emoji + "\n";
  auto err = io::write_text(w, text);
  ASSERT_FALSE(err) << err.to_string();
  std::string got(text.size(), '\0');
  DWORD n = 0;
  ASSERT_TRUE(ReadFile(r, got.data(), static_cast<DWORD>(got.size()), &n, nullptr));
  got.resize(n);
  EXPECT_EQ(got, text);
  // Invalid UTF-8 is not the console writer's business on a pipe: the bytes go as they are.
  EXPECT_FALSE(io::write_text(w, "\xFF\n"));
}

class text_child : public runtime_test {
protected:
  run_result run(std::vector<std::string> args, const std::string& input = {}) {
    caf::scoped_actor self{*sys};
    process_actor_options o;
    o.spawn.program = helper_program("text_child.exe");
    o.spawn.args = std::move(args);
    o.lines = true;
    return run_child(self, *rt, o, [&](const caf::actor& p) {
      if (!input.empty())
        self->send(p, process_input{input});
      self->send(p, close_stdin_atom::value);
    });
  }
};

// What a program sees in main's argv is the ANSI code page's rendering;
// argv_utf8() gives the arguments as they were passed (UTF-16 on the wire).
TEST_F(text_child, arguments_arrive_as_utf8_from_the_command_line) {
  auto r = run({"wide", accents, cjk, emoji, "--nick", "Zo\xC3\xAB"});
  ASSERT_TRUE(r.exited) << r.err;
  EXPECT_EQ(r.exit.exit_code, 0u) << r.err;
  EXPECT_EQ(r.out_lines, (std::vector<std::string>{accents, cjk, emoji, "--nick", "Zo\xC3\xAB"})) << r.err;
  auto ansi = run({"ansi", "Zo\xC3\xAB"});
  ASSERT_EQ(ansi.out_lines.size(), 1u) << ansi.err;
  EXPECT_NE(ansi.out_lines[0], "Zo\xC3\xAB") << "main's argv is UTF-8 here: the ANSI code page is UTF-8?";
}

// io/process passes the environment as UTF-16 (CREATE_UNICODE_ENVIRONMENT):
// a name and a value outside ASCII arrive unchanged.
TEST_F(text_child, environment_names_and_values_arrive_as_utf8) {
  caf::scoped_actor self{*sys};
  process_actor_options o;
  o.spawn.program = helper_program("text_child.exe");
  const std::string name = "IOCAF_\xC3\x9C_\xE5\x90\x8D"; // IOCAF_Ü_名
  o.spawn.args = {"env", name};
  o.spawn.env = {{name, accents + " " + cjk + " " + emoji}};
  o.lines = true;
  auto r = run_child(self, *rt, o, [&](const caf::actor& p) { self->send(p, close_stdin_atom::value); });
  ASSERT_TRUE(r.exited) << r.err;
  EXPECT_EQ(r.exit.exit_code, 0u) << r.err;
  EXPECT_EQ(r.out_lines, (std::vector<std::string>{accents + " " + cjk + " " + emoji})) << r.err;
}

TEST_F(text_child, piped_input_and_output_carry_utf8_bytes_unchanged) {
  auto r = run({"echo"}, accents + "\n" + cjk + "\r\n" + emoji + "\n");
  ASSERT_TRUE(r.exited) << r.err;
  EXPECT_EQ(r.exit.exit_code, 0u) << r.err;
  EXPECT_EQ(r.out_lines, (std::vector<std::string>{accents, cjk, emoji})) << r.err;
}

} // namespace
