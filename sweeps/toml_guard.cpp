// A small TOML scanner (strings, comments, where values start) that finds the inputs toml++ 3.3
// cannot parse safely, before toml++ sees them.
#include "sweeps/toml_guard.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sweeps/spec_error.hpp"

namespace ablate::sweeps {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
bool is_ascii(char c) { return static_cast<unsigned char>(c) < 0x80; }

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
// Where toml++ stops reading a bare value (number, boolean, date): its is_value_terminator().
bool ends_bare_value(char c) { return is_blank(c) || c == ',' || c == ']' || c == '}' || c == '#'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Follows just enough of TOML to know where toml++ tests characters for whitespace: everywhere
// outside strings and comments, including inside a bare value up to its end (toml++ reads
// `x = 1"é"` as one malformed value, not as 1 and a string), and at two places inside """
// strings. Strings and comments are skipped; their non-ASCII text never reaches the test.
class TrapScanner {
 public:
  TrapScanner(std::string_view text, const std::string& source_name) : text_(text), source_(source_name) {}

  void scan() {
    size_t i = text_.substr(0, kByteOrderMark.size()) == kByteOrderMark ? kByteOrderMark.size() : 0;
    while (i < text_.size()) {
      const char c = text_[i];
      if (!is_ascii(c)) fail_outside_strings(i);
      if (c == '#') {
        i = text_.find('\n', i);  // a comment ends at its newline, which is read next
        if (i == std::string_view::npos) break;
      } else if (c == '"' || c == '\'') {
        i = after_string(i);
        mode_ = mode_ == Mode::value ? Mode::after_value : mode_;
      } else if (c == '\n') {
        if (nesting_.empty()) mode_ = Mode::key;  // arrays may span lines; everything else ends here
        ++i;
      } else if (is_blank(c)) {
        ++i;
      } else if (mode_ == Mode::value) {
        i = after_value_start(i);
      } else {
        if (c == '=' && mode_ == Mode::key) mode_ = Mode::value;
        if (c == ',' && !nesting_.empty()) mode_ = nesting_.back() == '[' ? Mode::value : Mode::key;
        if (!nesting_.empty() && c == (nesting_.back() == '[' ? ']' : '}')) {
          nesting_.pop_back();
          mode_ = Mode::after_value;
        }
        ++i;  // outside values, [ and ] belong to a table header
      }
    }
  }

 private:
  enum class Mode { key, value, after_value };

  // A value starts at i: an array or inline table opens, an empty array closes, or a bare value
  // runs to its end, absorbing quotes. Returns where scanning goes on.
  size_t after_value_start(size_t i) {
    const char c = text_[i];
    if (c == '[' || c == '{') {
      nesting_.push_back(c);
      mode_ = c == '[' ? Mode::value : Mode::key;
      return i + 1;
    }
    if (c == ']' && !nesting_.empty() && nesting_.back() == '[') {  // [] or a trailing comma
      nesting_.pop_back();
      mode_ = Mode::after_value;
      return i + 1;
    }
    const size_t begin = i;
    while (i < text_.size() && !ends_bare_value(text_[i])) {
      if (!is_ascii(text_[i])) fail_outside_strings(i);
      ++i;
    }
    // "1979-05-27 07:32:00": toml++ reads on past the space of a date followed by a digit.
    const std::string_view value = text_.substr(begin, i - begin);
    if (value.size() == 10 && value[4] == '-' && value[7] == '-' && i + 1 < text_.size() && text_[i] == ' ' &&
        is_digit(text_[i + 1])) {
      for (++i; i < text_.size() && !ends_bare_value(text_[i]); ++i)
        if (!is_ascii(text_[i])) fail_outside_strings(i);
    }
    mode_ = Mode::after_value;
    return i;
  }

  // Skips the string that starts at i (a quote); returns the index after it. A single-line
  // string also ends at a newline (toml++ reports it unterminated).
  size_t after_string(size_t i) const {
    const char quote = text_[i];
    const bool triple = text_.substr(i, 3) == std::string(3, quote);
    const bool basic = quote == '"';
    i += triple ? 3 : 1;
    while (i < text_.size()) {
      const char c = text_[i];
      if (c == '\\' && basic) {
        if (triple) i = after_multi_line_escape(i);
        else i += i + 1 < text_.size() && text_[i + 1] != '\n' ? 2 : 1;  // an escaped character is content
      } else if (c == quote && (!triple || text_.substr(i, 3) == std::string(3, quote))) {
        if (!triple) return i + 1;
        while (i < text_.size() && text_[i] == quote) ++i;  // up to two quotes may end the content
        return i;
      } else if (c == '\n' && !triple) {
        return i;
      } else {
        ++i;
      }
    }
    return i;
  }

  [[noreturn]] void fail_outside_strings(size_t i) const {
    fail(i, fmt::format("{} outside a quoted string or a comment: TOML names, numbers and booleans are plain "
                        "ASCII; put text in quotes (\"...\") or remove the character",
                        describe(i)));
  }

  // After a backslash in a """ string toml++ asks whether the next character, and after a
  // line-ending backslash the first character of the continued line, is whitespace: that
  // question is the one it cannot answer for non-ASCII characters.
  size_t after_multi_line_escape(size_t backslash) const {
    size_t i = backslash + 1;
    if (i >= text_.size()) return i;
    if (!is_ascii(text_[i]))
      fail(i, fmt::format("invalid escape sequence: a backslash followed by {} in a \"\"\" string; write a "
                          "backslash as \\\\",
                          describe(i)));
    if (text_[i] != ' ' && text_[i] != '\t' && text_[i] != '\r' && text_[i] != '\n') return i + 1;
    while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\r' || text_[i] == '\n')) ++i;
    if (i < text_.size() && !is_ascii(text_[i]))
      fail(i, fmt::format("a \"\"\" string continued by a line-ending backslash goes on with {}, which the TOML "
                          "library (toml++ 3.3) cannot read there: remove the backslash at the end of the line "
                          "before, or start the line with an ASCII character",
                          describe(i)));
    return i;
  }

  // "'é' (U+00E9)", "the end of the line", "byte 0xff (not UTF-8)".
  std::string describe(size_t i) const {
    const auto byte = static_cast<unsigned char>(text_[i]);
    if (byte == '\n') return "the end of the line";
    if (byte < 0x20 || byte == 0x7F) return fmt::format("the control character U+{:04X}", byte);
    if (byte < 0x80) return fmt::format("'{}'", text_[i]);
    const int length = byte > 0xF4 ? 0 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 0;
    const std::string not_utf8 = fmt::format("byte 0x{:02x}, which is not UTF-8 (save the file as UTF-8)", byte);
    if (length == 0 || i + length > text_.size() ||
        !std::all_of(text_.begin() + i + 1, text_.begin() + i + length, is_continuation_byte))
      return not_utf8;
    uint32_t codepoint = byte & (0x7F >> length);
    for (int k = 1; k < length; ++k) codepoint = (codepoint << 6) | (static_cast<unsigned char>(text_[i + k]) & 0x3F);
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 either: never echo them.
    constexpr uint32_t kSmallest[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (codepoint < kSmallest[length] || (codepoint >= 0xD800 && codepoint <= 0xDFFF) || codepoint > 0x10FFFF)
      return not_utf8;
    return fmt::format("'{}' (U+{:04X})", text_.substr(i, length), codepoint);
  }

  // Lines count '\n'; columns count characters (not bytes), as toml++ does.
  [[noreturn]] void fail(size_t i, const std::string& message) const {
    const size_t line_begin = i == 0 ? 0 : text_.rfind('\n', i - 1) + 1;  // npos + 1 == 0
    const int line = 1 + static_cast<int>(std::count(text_.begin(), text_.begin() + i, '\n'));
    const int column = 1 + static_cast<int>(std::count_if(text_.begin() + line_begin, text_.begin() + i,
                                                          [](char c) { return !is_continuation_byte(c); }));
    throw SpecError(source_, {line, column}, "TOML syntax error: " + message);
  }

  std::string_view text_;
  const std::string& source_;
  Mode mode_ = Mode::key;
  std::vector<char> nesting_;  // the open [ and { of the value being read
};

}  // namespace

void refuse_toml_parser_traps(std::string_view text, const std::string& source_name) {
  TrapScanner(text, source_name).scan();
}

}  // namespace ablate::sweeps
