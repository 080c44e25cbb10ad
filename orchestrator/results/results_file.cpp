// The results ledger: journal first, HDF5 view second, reconciled at open.
#include "orchestrator/results/results_file.hpp"

#include "orchestrator/results/atomic_file.hpp"
#include "core/curve_fields.hpp"
#include "orchestrator/results/hdf5_check.hpp"
#include "orchestrator/results/journal_records.hpp"
#include "orchestrator/results/results_error.hpp"
#include "orchestrator/results/results_probe.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <iterator>
#include <random>
#include <thread>

namespace ablate {
namespace {

constexpr double kRewriteCostFactor = 20;
// ...but never past this, so that results appear in the .h5 within ~5 s of their outcome.
constexpr double kMaxStretchedIntervalSeconds = 3;
// The longest the final write waits for a reader to let go of the file (close()).
constexpr double kCloseWaitForReaderSeconds = 2;

std::string new_ledger_id() {
  std::random_device entropy;
  const uint64_t high = entropy(), low = entropy();
  return fmt::format("{:016x}", (high << 32) ^ low);
}

bool same_rows(const std::vector<EpochMetrics>& a, const std::vector<EpochMetrics>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].epoch != b[i].epoch) return false;
    for (const auto& field : kCurveFields)  // bitwise, so NaN rows compare equal
      if (std::memcmp(&(a[i].*field.member), &(b[i].*field.member), sizeof(double)) != 0) return false;
  }
  return true;
}

void check_directory(const std::string& path) {
  const std::string directory = parent_directory(path);
  struct stat info {};
  if (::stat(directory.c_str(), &info) != 0)
    throw ResultsIoError(path, fmt::format("cannot use results file '{}': its directory '{}' is not accessible ({}); "
                                           "create it or choose another results path",
                                           path, directory, errno_text(errno)));
  if (!S_ISDIR(info.st_mode))
    throw ResultsIoError(path, fmt::format("cannot use results file '{}': '{}' is not a directory; choose a results "
                                           "path inside a directory",
                                           path, directory));
  if (::access(directory.c_str(), W_OK | X_OK) != 0)
    throw ResultsIoError(path, fmt::format("cannot write in directory '{}' ({}): results file '{}', its journal and "
                                           "its temporary file are written there; choose a results path in a "
                                           "writable directory or fix its permissions",
                                           directory, errno_text(errno), path));
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode))
    throw ResultsRefusedError(path, fmt::format("results path '{}' is a directory: give a file name such as "
                                                "'{}/results.h5'",
                                                path, path));
}

bool journal_has_content(const std::string& journal_path) {
  struct stat info {};
  return ::stat(journal_path.c_str(), &info) == 0 && info.st_size > 0;
}

// A results path that holds something the ledger must not overwrite.
[[noreturn]] void refuse_existing(const std::string& path, const std::string& journal_path,
                                  const ResultsProbe& probe) {
  if (probe.kind == ResultsProbe::Kind::ablate)
    throw ResultsRefusedError(path, fmt::format("results file '{}' has no journal '{}' next to it, so it cannot be "
                                                "resumed: copy the journal alongside it, or choose a new results "
                                                "path (the file itself stays readable for analysis)",
                                                path, journal_path));
  throw ResultsRefusedError(path, fmt::format("'{}' exists but is not an ablate results file ({}); ablate will not "
                                              "overwrite it: choose another results path or move the file away",
                                              path, probe.detail));
}

}  // namespace

ResultsFile::ResultsFile(const std::string& path, const SweepIdentity& sweep, Options options)
    : path_(path),
      journal_path_(path + ".journal"),
      temporary_path_(path + ".tmp"),
      options_(std::move(options)),
      view_(path) {
  silence_hdf5_error_printing();
  if (path_.empty()) throw ResultsUsageError(path_, "the results path is empty: give a file name such as results.h5");
  if (!(options_.flush_interval_seconds >= 0))
    throw ResultsUsageError(path_, fmt::format("flush_interval_seconds = {} must be >= 0",
                                               options_.flush_interval_seconds));
  if (!(options_.reader_patience_seconds >= 0))
    throw ResultsUsageError(path_, fmt::format("reader_patience_seconds = {} must be >= 0",
                                               options_.reader_patience_seconds));
  if (!(options_.commit_interval_seconds >= 0))
    throw ResultsUsageError(path_, fmt::format("commit_interval_seconds = {} must be >= 0",
                                               options_.commit_interval_seconds));
  check_directory(path_);
  open_ledger(sweep);
}

ResultsFile::~ResultsFile() {
  try {
    close();
  } catch (const std::exception& e) {
    warn(fmt::format("closing results file '{}' failed: {}", path_, e.what()));
  }
}

void ResultsFile::warn(const std::string& message) {
  warnings_.push_back(message);
  if (options_.on_warning) options_.on_warning(message);
  else std::cerr << "ablate: warning: " << message << "\n";
}

void ResultsFile::open_ledger(const SweepIdentity& sweep) {
  // Before touching anything: is the path someone else's file, or a results file without its journal?
  const ResultsProbe first_probe = probe_results_file(path_);
  if (first_probe.kind != ResultsProbe::Kind::missing && !journal_has_content(journal_path_))
    refuse_existing(path_, journal_path_, first_probe);

  journal_ = std::make_unique<Journal>(journal_path_);
  JournalReplay replay = journal_->replay();
  for (const auto& w : replay.warnings) warn(w);
  ::unlink(temporary_path_.c_str());  // left by a crash mid-write; we hold the lock

  if (replay.entries.empty()) {  // a new ledger (or one whose header write was torn)
    if (first_probe.kind != ResultsProbe::Kind::missing) refuse_existing(path_, journal_path_, first_probe);
    record(ledger_record(new_ledger_id(), sweep, iso8601_utc_now()));
    journal_->sync();
    materialise();
    return;
  }

  nlohmann::json header;
  try {
    header = replay.record(replay.entries.front());
  } catch (const ResultsUsageError&) {  // not a JSON object: no header, refused below
  }
  if (!header.is_object() || header.value("t", "") != "ledger" || header.value("format", "") != kJournalFormat)
    throw ResultsRefusedError(journal_path_, fmt::format("'{}' does not start with an ablate journal header; it is not "
                                                         "the journal of results file '{}': move it away or choose "
                                                         "another results path",
                                                         journal_path_, path_));
  try {  // the header, parsed once above
    state_.apply(header, journal_path_);
  } catch (const ResultsUsageError& e) {
    throw ResultsRefusedError(journal_path_, fmt::format("cannot read the header of results journal '{}': {}",
                                                         journal_path_, e.what()));
  }
  for (auto entry = std::next(replay.entries.begin()); entry != replay.entries.end(); ++entry) {
    try {
      state_.apply(replay.record(*entry), journal_path_);
    } catch (const ResultsUsageError& e) {
      warn(fmt::format("results journal '{}' line {}: {} (record ignored)", journal_path_, entry->line, e.what()));
    }
  }
  const size_t interrupted = state_.end_session();
  if (interrupted > 0)
    warn(fmt::format("{} point(s) of '{}' were running when the previous run stopped; they are pending again",
                     interrupted, path_));
  check_sweep(sweep);
  reconcile_results_file(interrupted > 0);
}

void ResultsFile::check_sweep(const SweepIdentity& sweep) {
  for (const auto& known : state_.sweeps())
    if (known.name == sweep.name && known.spec_text == sweep.spec_text) return;
  const SweepIdentity& original = state_.sweeps().front();
  if (!options_.allow_different_sweep) {
    const std::string what =
        original.name == sweep.name
            ? fmt::format("the spec of sweep '{}' ('{}') differs from the spec recorded in it (read from '{}')",
                          sweep.name, sweep.path, original.path)
            : fmt::format("it belongs to sweep '{}' (spec '{}'), not to sweep '{}' ('{}')", original.name,
                          original.path, sweep.name, sweep.path);
    throw ResultsRefusedError(path_, fmt::format("refusing results file '{}': {}. Choose another results path, or "
                                                 "allow a different sweep (--allow-different-sweep) to add this "
                                                 "sweep's points to the file; existing points are never overwritten",
                                                 path_, what));
  }
  record(sweep_record(sweep, iso8601_utc_now()));
  journal_->sync();
}

void ResultsFile::reconcile_results_file(bool statuses_changed) {
  const ResultsProbe probe = probe_results_file(path_);
  switch (probe.kind) {
    case ResultsProbe::Kind::missing:
      warn(fmt::format("results file '{}' is missing; rebuilding it from its journal '{}'", path_, journal_path_));
      break;
    case ResultsProbe::Kind::not_hdf5:
      warn(fmt::format("results file '{}' is unreadable ({}); rebuilding it from its journal '{}'", path_,
                       probe.detail, journal_path_));
      break;
    case ResultsProbe::Kind::foreign:
      throw ResultsRefusedError(path_, fmt::format("'{}' is an HDF5 file but not an ablate results file ({}), yet "
                                                   "an ablate journal '{}' lies next to it; ablate will not overwrite "
                                                   "it: move one of them away",
                                                   path_, probe.detail, journal_path_));
    case ResultsProbe::Kind::ablate:
      if (probe.ledger_id != state_.ledger_id())
        throw ResultsRefusedError(path_, fmt::format("results file '{}' (ledger {}) and journal '{}' (ledger {}) "
                                                     "belong to different runs: put the matching journal next to "
                                                     "the file, or move one of them away",
                                                     path_, probe.ledger_id, journal_path_, state_.ledger_id()));
      // Current (a version of this format that reflects the whole journal): left as it is;
      // the first write rebuilds it, as the view knows only what it wrote itself.
      if (!statuses_changed && probe.format_version == kResultsFormatVersion &&
          journal_->durable_bytes() == static_cast<uint64_t>(probe.journal_bytes) &&
          !journal_->has_unsynced_records())
        return;
      break;
  }
  materialise();
}

void ResultsFile::check_recording() const {
  if (closed_) throw ResultsUsageError(path_, fmt::format("results file '{}' is closed", path_));
  journal_->check_writable();  // after a failed write the state is ahead of the journal: stop here
}

void ResultsFile::record(const nlohmann::json& record) {
  check_recording();
  state_.apply(record, path_);
  journal_->append(record);
  if (record.contains("id") && record.at("t") != "plan") view_.touch(state_.position(record.at("id"), path_));
  behind_ = true;
}

void ResultsFile::record_applied(const std::string& id, std::string_view record_text) {
  journal_->append_text(record_text);
  view_.touch(state_.position(id, path_));
  behind_ = true;
}

void ResultsFile::commit() {
  journal_->sync();
  outcome_unsynced_ = false;
  last_commit_ = std::chrono::steady_clock::now();
}

void ResultsFile::write_out_outcome() {
  journal_->write_out();
  outcome_unsynced_ = true;
  commit_if_due();
}

void ResultsFile::commit_if_due() {
  if (!outcome_unsynced_) return;
  const std::chrono::duration<double> since = std::chrono::steady_clock::now() - last_commit_;
  if (since.count() >= options_.commit_interval_seconds) commit();
}

void ResultsFile::materialise(bool wait_for_reader) {
  commit();  // the file never shows a record the journal could lose
  const auto begin = std::chrono::steady_clock::now();
  const auto outcome =
      view_.write(state_, journal_->durable_bytes(), wait_for_reader ? options_.reader_patience_seconds : 0);
  // A reader holds the file: still behind, and tried again at the next event (a lock test
  // is cheap), so the update goes in as soon as the reader lets go.
  if (outcome == ResultsView::Outcome::reader_holds_file) return;
  last_write_ = std::chrono::steady_clock::now();
  // The interval stretches with what updates cost; a rebuild (rare, O(points)) does not stretch it.
  if (outcome == ResultsView::Outcome::updated)
    last_write_seconds_ = std::chrono::duration<double>(last_write_ - begin).count();
  behind_ = false;
}

void ResultsFile::materialise_if_due() {
  if (!behind_) return;
  // A rewrite costs time in proportion to the file; a big sweep stretches the
  // interval so that rewriting takes at most 1/kRewriteCostFactor of the time.
  double interval = options_.flush_interval_seconds;
  if (interval > 0)
    interval = std::max(interval, std::min(kRewriteCostFactor * last_write_seconds_, kMaxStretchedIntervalSeconds));
  const std::chrono::duration<double> since = std::chrono::steady_clock::now() - last_write_;
  if (since.count() >= interval) materialise();
}

void ResultsFile::plan(const std::vector<PlannedPoint>& points) {
  bool added = false;
  for (const auto& p : points) {
    if (p.id.empty()) throw ResultsUsageError(path_, "plan(): a point has an empty id");
    check_recording();
    if (!state_.plan(p, path_)) continue;
    journal_->append_text(plan_record(p));  // a new row: the view writes it without a touch
    behind_ = true;
    added = true;
  }
  if (added) materialise();
}

void ResultsFile::record_search(const nlohmann::json& search) {
  record(search_record(search));
  write_out_outcome();  // before the suggestion's points are planned: a resume sees the suggestion first
}

PointStatus ResultsFile::status(const std::string& id) const { return state_.point(id, path_).status; }

int ResultsFile::attempts(const std::string& id) const { return state_.point(id, path_).attempts; }

std::vector<std::string> ResultsFile::ids_with(PointStatus status) const {
  std::vector<std::string> ids;
  for (const auto& p : state_.points())
    if (p.status == status) ids.push_back(p.planned.id);
  return ids;
}

void ResultsFile::start_point(const std::string& id, const PointRunInfo& info, int until) {
  check_recording();
  const std::string at = iso8601_utc_now();
  state_.start(id, info, at, until, path_);
  record_applied(id, start_record(id, info, at, until));
  materialise_if_due();
}

void ResultsFile::record_epoch(const std::string& id, const EpochMetrics& metrics) {
  check_recording();
  state_.add_epoch(id, metrics, path_);
  record_applied(id, epoch_record(id, metrics));
  materialise_if_due();
}

void ResultsFile::check_result(const std::string& id, const TrainResult& result, const char* call) const {
  const size_t cells = kNumClasses * kNumClasses;
  auto check_size = [&](const char* name, size_t size, size_t expected) {
    if (size != expected)
      throw ResultsUsageError(path_, fmt::format("{}('{}'): {} has {} values, expected {}", call, id, name, size,
                                                 expected));
  };
  check_size("confusion_test", result.confusion_test.size(), cells);
  check_size("confusion_val", result.confusion_val.size(), cells);
  check_size("per_class_acc", result.per_class_acc.size(), kNumClasses);
}

// The result's curves go into the record only when they differ from the streamed epochs.
bool ResultsFile::curves_differ(const std::string& id, const TrainResult& result) const {
  return !result.curves.empty() && !same_rows(result.curves, state_.point(id, path_).curves);
}

void ResultsFile::finish_point(const std::string& id, const TrainResult& result) {
  check_result(id, result, "finish_point");
  check_recording();
  const std::string at = iso8601_utc_now();
  const bool with_curves = curves_differ(id, result);
  std::string text = done_record(id, result, at, with_curves);
  TrainResult kept = result;
  if (!with_curves) kept.curves.clear();  // the streamed epochs stand, as a replay of `text` keeps them
  state_.finish(id, std::move(kept), at, path_);
  record_applied(id, text);
  write_out_outcome();
  materialise_if_due();
}

void ResultsFile::pause_point(const std::string& id, const TrainResult& result, const RungMark& mark) {
  check_result(id, result, "pause_point");
  record(pause_record(id, result, mark, iso8601_utc_now(), curves_differ(id, result)));
  write_out_outcome();
  materialise_if_due();
}

void ResultsFile::promote_point(const std::string& id, int until, const std::string& reason) {
  record(promote_record(id, until, reason));
  write_out_outcome();  // before the point is handed out: a promotion is never lost behind its training
  materialise_if_due();
}

void ResultsFile::stop_point(const std::string& id, const std::string& reason) {
  record(stop_record(id, iso8601_utc_now(), reason));
  write_out_outcome();
  materialise_if_due();
}

void ResultsFile::stop_running_point(const std::string& id, const TrainResult& result, const RungMark& mark,
                                     const std::string& reason) {
  check_result(id, result, "stop_running_point");
  record(stop_running_record(id, result, mark, iso8601_utc_now(), reason, curves_differ(id, result)));
  write_out_outcome();
  materialise_if_due();
}

void ResultsFile::fail_point(const std::string& id, const std::string& error) {
  record(fail_record(id, error, iso8601_utc_now()));
  write_out_outcome();
  materialise_if_due();
}

void ResultsFile::reset_failed() {
  const auto failed = ids_with(PointStatus::failed);
  for (const auto& id : failed) record(reset_record(id));
  if (!failed.empty()) materialise();
}

void ResultsFile::flush_if_due() {
  if (closed_) return;
  commit_if_due();
  materialise_if_due();
}

void ResultsFile::flush() {
  if (closed_) throw ResultsUsageError(path_, fmt::format("results file '{}' is closed", path_));
  materialise(/*wait_for_reader=*/false);
}

void ResultsFile::close() {
  if (closed_) return;
  closed_ = true;
  // The last write waits a little for a reader holding the file (a read of /index
  // lets go within moments): an update in place costs a fraction of a new file,
  // which at 100,000 points took 2 s and held the 280 MB file twice in rank 0's
  // memory. After the reader patience (at most kCloseWaitForReaderSeconds) the
  // file is replaced whole, as during the sweep.
  const auto give_up = std::chrono::steady_clock::now() +
                       std::chrono::duration<double>(std::min(options_.reader_patience_seconds,
                                                              kCloseWaitForReaderSeconds));
  while (behind_ && std::chrono::steady_clock::now() < give_up) {
    materialise(/*wait_for_reader=*/true);
    if (behind_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (behind_) materialise(/*wait_for_reader=*/false);
  journal_->close();
}

}  // namespace ablate
