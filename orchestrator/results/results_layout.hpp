// ResultsView: the HDF5 view of a LedgerState in the documented layout
// (docs/results-format.md, format 4): extendable tables updated in place, so an
// event costs O(1) in the file, or written whole when that is not possible.
#pragma once

#include "orchestrator/results/hdf5_write.hpp"
#include "orchestrator/results/ledger_state.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ablate {

inline constexpr const char* kResultsFormat = "ablate-results";
// 4: one row per point in extendable tables (/index, /curves, /rungs, /confusion_test, ...), no /points groups.
// 3: early stopping (statuses paused and stopped, epochs_trained, until, rungs).
inline constexpr int64_t kResultsFormatVersion = 4;
// The root attribute journal_bytes while the file is being updated in place: a
// writer killed mid-update leaves it, and the next open rebuilds the file.
inline constexpr int64_t kJournalBytesUpdating = -1;

// The hp.<key> columns of /index: every config key whose value is not the same in
// every point, with the column kind its values share. Kept up to date as points are
// planned, each new point compared once with the first.
class SweptKeys {
 public:
  void add(const std::vector<LedgerPoint>& points);  // takes in the points it has not seen yet
  std::vector<std::pair<std::string, H5Column::Kind>> columns() const;

 private:
  struct Key {
    bool all_present = true, same_kind = true;
    int kind = -1;  // of the first point that has the key
  };
  void take(Key& key, const nlohmann::json* value) const;
  std::map<std::string, Key> keys_;
  size_t seen_ = 0;
};

class ResultsView {
 public:
  explicit ResultsView(std::string path);

  // The point at this position (plan order) changed; new points need no call.
  void touch(size_t position);

  enum class Outcome { updated, rebuilt, reader_holds_file };
  // Brings the file up to date with `state`, marked as reflecting `journal_bytes`
  // of the journal. In place when it can: only the touched and new points are written.
  // A complete new file replaces the old one atomically on the first write, when a
  // new hp.* column appears, after a failed write, and when a reader has held the file
  // open for `reader_patience_seconds` (it keeps reading the old one); until then a
  // held file is left behind (reader_holds_file). Throws ResultsIoError/Hdf5Error;
  // the next call then rebuilds.
  Outcome write(const LedgerState& state, uint64_t journal_bytes, double reader_patience_seconds);
  // The next write() replaces the file whole.
  void invalidate() { file_current_ = false; }

 private:
  struct WrittenPoint {
    uint64_t curve_generation = 0, result_generation = 0;
    std::vector<hsize_t> curve_rows;  // its rows in /curves, in curve order
    size_t rungs = 0;                 // rows of its rungs in /rungs
    int64_t predictions_start = 0, predictions_count = 0;
    uint64_t text_fingerprint = 0;  // of the variable-length text in its /index row
  };
  void rebuild(const LedgerState& state, uint64_t journal_bytes);
  void update_in_place(const LedgerState& state, uint64_t journal_bytes);
  void create_layout(const H5Writer& writer, hid_t file, const LedgerState& state);
  void write_changes(const H5Writer& writer, hid_t file, const LedgerState& state);
  void write_root_attributes(const H5Writer& writer, hid_t root, const LedgerState& state, int64_t journal_bytes);

  std::string path_;
  SweptKeys swept_;
  std::vector<std::pair<std::string, H5Column::Kind>> file_columns_;  // the hp.* columns the file has
  std::vector<WrittenPoint> written_;  // per point of the file, plan order
  std::vector<size_t> touched_;
  std::vector<char> is_touched_;
  bool file_current_ = false;  // the file holds what written_ says (else: rebuild)
  std::optional<std::chrono::steady_clock::time_point> reader_since_;
};

}  // namespace ablate
