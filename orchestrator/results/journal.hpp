// Journal: the results ledger's append-only write-ahead log. One JSON record per
// line, each prefixed by the CRC32 of its JSON text, appended with group commit
// (append() buffers, write_out() writes, sync() also fdatasyncs), guarded by an
// exclusive flock.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ablate {

// "<crc32 of json, 8 lowercase hex digits> <json>\n"
std::string encode_journal_line(const nlohmann::json& record);
// The same for a record's JSON text (one JSON object, no newline in it).
std::string encode_journal_text(std::string_view record_text);
// The record of one line (without its '\n'), or nothing when the CRC or the JSON is wrong.
std::optional<nlohmann::json> decode_journal_line(std::string_view line);

// Whether a line (without its '\n') holds an intact record: its CRC matches and its
// text is braced as one JSON object. The CRC covers the text as written (always a
// JSON object); the JSON itself is read when the record is (JournalReplay::record).
bool journal_line_intact(std::string_view line);

// A journal's intact records, as text: each is parsed when the ledger applies it
// (record()), so a replay holds one record's JSON tree at a time. Parsed all at
// once, the records of a 100,000-point journal (170 MB of text) took several times
// that as JSON trees, most of rank 0's memory on a resume.
struct JournalReplay {
  struct Entry {
    size_t begin = 0, size = 0;  // of the record's JSON text in `content`
    size_t line = 0;             // 1-based, for messages
  };
  std::string content;  // the journal's bytes, up to the end of its last intact record
  std::string journal_path;
  std::vector<Entry> entries;
  std::vector<std::string> warnings;  // damaged lines skipped, torn tail cut

  // The record of `entry`. Throws ResultsUsageError when its text is not a JSON
  // object after all (a line whose CRC matches what a faulty writer wrote).
  nlohmann::json record(const Entry& entry) const;
};

class Journal {
 public:
  // Opens `path` (creating it when absent) and takes an exclusive lock on it.
  // Throws ResultsRefusedError when another process holds the lock, ResultsIoError
  // when the file cannot be opened.
  explicit Journal(std::string path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Reads every intact record. A damaged tail (a line torn by a kill, or
  // garbage after the last good line) is cut off the file, with a warning; a
  // damaged line between good ones is skipped, with a warning.
  JournalReplay replay();

  void append(const nlohmann::json& record);  // buffered until write_out() or sync()
  void append_text(std::string_view record_text);  // a record as its JSON text (one line)
  // Hands the buffered records to the operating system: from then on they survive
  // a crash (kill -9) of this process, but not yet a crash of the machine.
  void write_out();
  // write_out(), then fdatasync: durable even against a power failure. On failure
  // the records not yet written out are dropped, the file is cut back to the end of
  // the last whole record, and every later call throws: the ledger must be
  // reopened, which resumes from the records in the file.
  void sync();
  void close();  // sync(), then release the lock
  // Throws the error that broke the journal (or ResultsUsageError once closed).
  void check_writable() const;

  const std::string& path() const { return path_; }
  bool created() const { return created_; }          // the file did not exist (or was empty) at open
  uint64_t durable_bytes() const { return durable_bytes_; }
  bool has_unsynced_records() const { return !buffer_.empty() || written_bytes_ > durable_bytes_; }

 private:
  [[noreturn]] void fail(const std::string& what, int error_number);

  std::string path_;
  int fd_ = -1;
  bool created_ = false;
  uint64_t durable_bytes_ = 0;  // fdatasync'd
  uint64_t written_bytes_ = 0;  // handed to the OS (>= durable_bytes_)
  std::string buffer_;
  std::string lock_warning_;
  std::string broken_;  // why the journal stopped accepting writes ("" while healthy)
};

}  // namespace ablate
