// The chat client's line editor (demos/chat/line_editor.hpp) driven by
// made-up key presses: what the console client does with each key.
#include "demos/chat/line_editor.hpp"

#include <gtest/gtest.h>

using chat::line_editor;
using iocaf::io::key_press;
using outcome = line_editor::outcome;

namespace {

key_press vk(WORD key) { return key_press{0, key, 0}; }
key_press ch(wchar_t c) { return key_press{c, 0, 0}; }

void type(line_editor& e, const std::wstring& text) {
  for (wchar_t c : text)
    e.key(ch(c));
}

TEST(line_editor, typing_inserts_at_the_cursor_and_editing_keys_move_and_erase) {
  line_editor e{4096};
  type(e, L"helo");
  EXPECT_EQ(e.key(vk(VK_LEFT)), outcome::changed);
  type(e, L"l");
  EXPECT_EQ(e.text(), "hello");
  EXPECT_EQ(e.cursor(), 4u);
  e.key(vk(VK_HOME));
  EXPECT_EQ(e.key(vk(VK_LEFT)), outcome::unchanged);
  e.key(vk(VK_DELETE));
  EXPECT_EQ(e.text(), "ello");
  e.key(vk(VK_END));
  EXPECT_EQ(e.key(vk(VK_RIGHT)), outcome::unchanged);
  e.key(vk(VK_BACK));
  EXPECT_EQ(e.text(), "ell");
  EXPECT_EQ(e.key(ch(L'\x01')), outcome::changed); // Ctrl+A
  EXPECT_EQ(e.cursor(), 0u);
  EXPECT_EQ(e.key(vk(VK_RETURN)), outcome::submit);
  EXPECT_EQ(e.take(), "ell");
  EXPECT_EQ(e.text(), "");
}

TEST(line_editor, accents_cjk_and_surrogate_pairs_are_one_character_each) {
  line_editor e{4096};
  type(e, L"Zo\x00EB \x4F60 \xD83D\xDC4B");
  EXPECT_EQ(e.text(), "Zo\xC3\xAB \xE4\xBD\xA0 \xF0\x9F\x91\x8B");
  EXPECT_EQ(e.chars().size(), 7u);
  e.key(vk(VK_BACK)); // the whole emoji, not half of it
  EXPECT_EQ(e.text(), "Zo\xC3\xAB \xE4\xBD\xA0 ");
  EXPECT_EQ(e.key(ch(L'\xDC4B')), outcome::unchanged); // a lone low half types nothing
  EXPECT_EQ(e.text(), "Zo\xC3\xAB \xE4\xBD\xA0 ");
}

TEST(line_editor, history_walks_sent_lines_and_returns_to_the_draft) {
  line_editor e{4096};
  type(e, L"one");
  e.take();
  type(e, L"two");
  e.take();
  type(e, L"dra");
  e.key(vk(VK_UP));
  EXPECT_EQ(e.text(), "two");
  e.key(vk(VK_UP));
  EXPECT_EQ(e.text(), "one");
  EXPECT_EQ(e.key(vk(VK_UP)), outcome::unchanged);
  e.key(vk(VK_DOWN));
  e.key(vk(VK_DOWN));
  EXPECT_EQ(e.text(), "dra");
  EXPECT_EQ(e.cursor(), 3u);
  EXPECT_EQ(e.key(vk(VK_DOWN)), outcome::unchanged);
}

TEST(line_editor, the_byte_limit_refuses_a_character_that_does_not_fit) {
  line_editor e{7};
  type(e, L"ab\x4F60\x4F60"); // 2 + 3 = 5 bytes fit, the second CJK does not
  EXPECT_EQ(e.text(), "ab\xE4\xBD\xA0");
  EXPECT_EQ(e.key(ch(L'\x00E9')), outcome::changed); // 2 more: exactly 7
  EXPECT_EQ(e.key(ch(L'x')), outcome::refused);
  EXPECT_EQ(e.text(), "ab\xE4\xBD\xA0\xC3\xA9");
}

TEST(line_editor, end_of_input_only_on_an_empty_line_and_control_keys_type_nothing) {
  line_editor e{4096};
  type(e, L"x");
  EXPECT_EQ(e.key(ch(L'\x1A')), outcome::unchanged); // Ctrl+Z with text: nothing
  EXPECT_EQ(e.key(key_press{0, VK_SHIFT, SHIFT_PRESSED}), outcome::unchanged);
  EXPECT_EQ(e.key(ch(L'\x07')), outcome::unchanged);
  EXPECT_EQ(e.key(vk(VK_ESCAPE)), outcome::changed);
  EXPECT_EQ(e.text(), "");
  EXPECT_EQ(e.key(ch(L'\x04')), outcome::end_of_input); // Ctrl+D
  EXPECT_EQ(e.key(ch(L'\x1A')), outcome::end_of_input);
}

} // namespace
