// Quoting for bash words and #SBATCH directive values; see shell_quote.hpp.
#include "slurm/shell_quote.hpp"

#include <fmt/format.h>

#include "slurm/slurm_error.hpp"

namespace ablate::slurm {
namespace {

bool is_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

bool is_plain_sbatch_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("._:@+,=/%-").find(c) != std::string_view::npos;
}

std::string describe_control(char c) {
  switch (c) {
    case '\n': return "a newline";
    case '\r': return "a carriage return";
    case '\t': return "a tab";
    default: return fmt::format("the control character 0x{:02x}", static_cast<unsigned char>(c));
  }
}

}  // namespace

std::string bash_quote(std::string_view text, std::string_view what) {
  if (text.find('\0') != std::string_view::npos) {
    throw SlurmError(fmt::format("{} contains a NUL byte, which no shell word can hold; remove it", what));
  }
  std::string quoted = "'";
  for (const char c : text) {
    // Inside single quotes nothing is special but the closing quote itself: end the quoted
    // run, add an escaped quote, start a new run.
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += '\'';
  return quoted;
}

std::string bash_quote_words(const std::vector<std::string>& words, std::string_view what) {
  std::string joined;
  for (const auto& word : words) {
    if (!joined.empty()) joined += ' ';
    joined += bash_quote(word, what);
  }
  return joined;
}

std::string sbatch_value(std::string_view option, std::string_view value) {
  if (value.empty()) {
    throw SlurmError(fmt::format("{} is empty; give a value or leave the option out", option));
  }
  bool plain = true;
  for (const char c : value) {
    if (is_control(c)) {
      throw SlurmError(fmt::format(
          "{} contains {}, which an #SBATCH line cannot carry (sbatch reads a directive to the end of "
          "its line); use a value without control characters",
          option, describe_control(c)));
    }
    plain = plain && is_plain_sbatch_char(c);
  }
  if (plain) return std::string(value);
  std::string quoted = "\"";
  for (const char c : value) {
    if (c == '\\' || c == '"') quoted += '\\';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

std::string slurm_filename_literal(std::string_view path, std::string_view what) {
  if (path.find('\\') != std::string_view::npos) {
    throw SlurmError(fmt::format(
        "{} '{}' contains a backslash, which makes Slurm ignore the %j in the job's log file name; "
        "choose a path without '\\'",
        what, path));
  }
  std::string literal;
  for (const char c : path) {
    if (c == '%') literal += '%';
    literal += c;
  }
  return literal;
}

}  // namespace ablate::slurm
