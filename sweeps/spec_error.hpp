// SpecError: a sweep file that cannot be run, with the file:line:column to fix.
#pragma once

#include <stdexcept>
#include <string>

namespace ablate::sweeps {

// Where a value sits in a spec file; 1-based. Line 0 means "the file as a whole"
// (e.g. it cannot be opened), and what() then prints only the file name.
struct SourcePos {
  int line = 0;
  int column = 0;
};

class SpecError : public std::runtime_error {
 public:
  SpecError(std::string file, SourcePos pos, std::string message)
      : std::runtime_error(format_what(file, pos, message)),
        file_(std::move(file)),
        line_(pos.line),
        column_(pos.column),
        message_(std::move(message)) {}

  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }

 private:
  static std::string format_what(const std::string& file, SourcePos pos, const std::string& message) {
    if (pos.line <= 0) return file + ": " + message;
    return file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " + message;
  }

  std::string file_;
  int line_;
  int column_;
  std::string message_;
};

}  // namespace ablate::sweeps
