// The results journal: CRC-framed JSON lines, group commit, exclusive lock.
#include "orchestrator/results/journal.hpp"

#include "orchestrator/results/atomic_file.hpp"
#include "orchestrator/results/results_error.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

namespace ablate {
namespace {

constexpr size_t kCrcDigits = 8;

uint32_t crc_of(std::string_view text) {
  return static_cast<uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
}

// What a crash can leave of a journal's first record: a prefix of "<8 hex digits> {..." without
// its newline, or zeros (a power cut after the file grew). Anything else is someone else's file.
bool is_torn_first_record(std::string_view content) {
  if (content.find_first_not_of('\0') == std::string_view::npos) return true;
  if (content.find('\n') != std::string_view::npos) return false;
  for (size_t i = 0; i < std::min(content.size(), kCrcDigits); ++i)
    if (!((content[i] >= '0' && content[i] <= '9') || (content[i] >= 'a' && content[i] <= 'f'))) return false;
  return content.size() <= kCrcDigits || (content[kCrcDigits] == ' ' &&
                                          (content.size() == kCrcDigits + 1 || content[kCrcDigits + 1] == '{'));
}

}  // namespace

std::string encode_journal_line(const nlohmann::json& record) { return encode_journal_text(record.dump()); }

std::string encode_journal_text(std::string_view record_text) {
  return fmt::format("{:08x} {}\n", crc_of(record_text), record_text);
}

namespace {

// The record's JSON text of a line whose CRC matches; nothing otherwise.
std::optional<std::string_view> checked_text(std::string_view line) {
  if (line.size() < kCrcDigits + 2 || line[kCrcDigits] != ' ') return std::nullopt;
  uint32_t expected = 0;
  for (size_t i = 0; i < kCrcDigits; ++i) {
    const char c = line[i];
    uint32_t digit = 0;
    if (c >= '0' && c <= '9') digit = static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') digit = static_cast<uint32_t>(c - 'a' + 10);
    else return std::nullopt;
    expected = expected * 16 + digit;
  }
  const std::string_view text = line.substr(kCrcDigits + 1);
  if (crc_of(text) != expected) return std::nullopt;
  return text;
}

// The record a checked text holds: one JSON object, or nothing.
std::optional<nlohmann::json> parsed_record(std::string_view text) {
  auto record = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (record.is_discarded() || !record.is_object()) return std::nullopt;
  return record;
}

}  // namespace

std::optional<nlohmann::json> decode_journal_line(std::string_view line) {
  const auto text = checked_text(line);
  return text ? parsed_record(*text) : std::nullopt;
}

bool journal_line_intact(std::string_view line) {
  const auto text = checked_text(line);
  return text && text->front() == '{' && text->back() == '}';
}

nlohmann::json JournalReplay::record(const Entry& entry) const {
  auto record = parsed_record(std::string_view(content).substr(entry.begin, entry.size));
  if (!record)
    throw ResultsUsageError(journal_path, fmt::format("the line is damaged: its CRC matches but its text is not "
                                                      "one JSON object (line {} of '{}')",
                                                      entry.line, journal_path));
  return std::move(*record);
}

Journal::Journal(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw ResultsIoError(path_, fmt::format("cannot open results journal '{}': {}", path_, errno_text(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error_number = errno;
    if (error_number == EWOULDBLOCK) {
      ::close(fd_);
      fd_ = -1;
      throw ResultsRefusedError(path_, fmt::format("results journal '{}' is locked by another ablate process that "
                                                   "is writing the same results file: wait for it to finish, or "
                                                   "choose another results path",
                                                   path_));
    }
    // Some network file systems cannot lock; one writer is then the user's promise.
    lock_warning_ = fmt::format("results journal '{}' cannot be locked on this file system ({}): make sure no "
                                "other ablate process writes the same results file",
                                path_, errno_text(error_number));
  }
  struct stat info {};
  if (::fstat(fd_, &info) != 0) {
    const int error_number = errno;
    ::close(fd_);
    fd_ = -1;
    throw ResultsIoError(path_, fmt::format("cannot stat results journal '{}': {}", path_, errno_text(error_number)));
  }
  created_ = info.st_size == 0;
  durable_bytes_ = written_bytes_ = static_cast<uint64_t>(info.st_size);
  if (created_) fsync_directory(parent_directory(path_));
}

Journal::~Journal() {
  if (fd_ < 0) return;
  try {
    if (broken_.empty()) sync();
  } catch (...) {  // a destructor must not throw; the durable records are safe
  }
  ::close(fd_);
}

JournalReplay Journal::replay() {
  JournalReplay replay;
  if (!lock_warning_.empty()) replay.warnings.push_back(lock_warning_);
  std::string content(durable_bytes_, '\0');
  size_t read_so_far = 0;
  while (read_so_far < content.size()) {
    const ssize_t n = ::pread(fd_, content.data() + read_so_far, content.size() - read_so_far,
                              static_cast<off_t>(read_so_far));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ResultsIoError(path_, fmt::format("cannot read results journal '{}': {}", path_, errno_text(errno)));
    if (n == 0) break;
    read_so_far += static_cast<size_t>(n);
  }
  content.resize(read_so_far);

  struct Damaged {
    size_t line, begin;
  };
  std::vector<Damaged> damaged;
  size_t good_end = 0, begin = 0, line = 0;
  while (begin < content.size()) {
    ++line;
    const size_t newline = content.find('\n', begin);
    if (newline == std::string::npos) {  // torn: the write was cut before its newline
      damaged.push_back({line, begin});
      break;
    }
    if (journal_line_intact(std::string_view(content).substr(begin, newline - begin))) {
      const size_t text_begin = begin + kCrcDigits + 1;
      replay.entries.push_back({text_begin, newline - text_begin, line});
      good_end = newline + 1;
    } else {
      damaged.push_back({line, begin});
    }
    begin = newline + 1;
  }

  // Cutting the damaged end below would empty a file that holds no record at all: refuse it instead.
  if (replay.entries.empty() && !content.empty() && !is_torn_first_record(content))
    throw ResultsRefusedError(path_, fmt::format("'{}' exists but is not an ablate results journal (its {} bytes hold "
                                                 "no journal record); ablate will not overwrite it: move it away or "
                                                 "choose another results path",
                                                 path_, content.size()));

  size_t first_tail_line = 0;
  for (const auto& d : damaged) {
    if (d.begin < good_end) {
      replay.warnings.push_back(fmt::format("results journal '{}': line {} is damaged (its CRC does not match) and "
                                            "was skipped",
                                            path_, d.line));
    } else if (first_tail_line == 0) {
      first_tail_line = d.line;
    }
  }
  if (good_end < content.size()) {
    replay.warnings.push_back(fmt::format("results journal '{}': ignored a torn or damaged end ({} bytes from line "
                                          "{}), most likely a write cut short by a crash; the records before it are "
                                          "intact",
                                          path_, content.size() - good_end, first_tail_line));
    // Cut the tail so the next append starts on a clean line.
    if (::ftruncate(fd_, static_cast<off_t>(good_end)) != 0 || ::fdatasync(fd_) != 0)
      throw ResultsIoError(path_, fmt::format("cannot cut the damaged end off results journal '{}': {}", path_,
                                              errno_text(errno)));
    durable_bytes_ = written_bytes_ = good_end;
  }
  content.resize(good_end);
  replay.content = std::move(content);
  replay.journal_path = path_;
  return replay;
}

void Journal::check_writable() const {
  if (fd_ < 0)
    throw ResultsUsageError(path_, fmt::format("results journal '{}' is closed (a bug in the caller)", path_));
  if (!broken_.empty())
    throw ResultsIoError(path_, fmt::format("results journal '{}' could not be written earlier ({}); reopen the "
                                            "results file (resume the sweep) to continue from its last durable "
                                            "record",
                                            path_, broken_));
}

void Journal::append(const nlohmann::json& record) { append_text(record.dump()); }

void Journal::append_text(std::string_view record_text) {
  check_writable();
  fmt::format_to(std::back_inserter(buffer_), "{:08x} {}\n", crc_of(record_text), record_text);
}

void Journal::fail(const std::string& what, int error_number) {
  broken_ = fmt::format("{}: {}", what, errno_text(error_number));
  buffer_.clear();
  // Best effort: a half-written group must not glue itself to the next line. The
  // records written out before it are whole and were reported as recorded (their
  // checkpoints may be gone): keep them, and try once more to make them durable.
  if (::ftruncate(fd_, static_cast<off_t>(written_bytes_)) == 0 && ::fdatasync(fd_) == 0)
    durable_bytes_ = written_bytes_;
  throw ResultsIoError(path_, fmt::format("cannot write results journal '{}': {} failed: {}{}. The records written "
                                          "before are durable; free the cause and resume the sweep.",
                                          path_, what, errno_text(error_number),
                                          error_number == ENOSPC || error_number == EDQUOT ? " (the disk is full)"
                                                                                           : ""));
}

void Journal::write_out() {
  check_writable();
  size_t written = 0;
  while (written < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + written, buffer_.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write", errno);
    written += static_cast<size_t>(n);
  }
  written_bytes_ += buffer_.size();
  buffer_.clear();
}

void Journal::sync() {
  write_out();
  if (written_bytes_ == durable_bytes_) return;
  if (::fdatasync(fd_) != 0) fail("fdatasync", errno);
  durable_bytes_ = written_bytes_;
}

void Journal::close() {
  if (fd_ < 0) return;
  if (broken_.empty()) sync();
  ::close(fd_);
  fd_ = -1;
}

}  // namespace ablate
