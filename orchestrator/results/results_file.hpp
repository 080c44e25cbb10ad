// ResultsFile: the sweep's results ledger. Every event is appended to an fsync'd
// journal (<path>.journal) first, then reflected in the HDF5 file <path>, a view of
// the journal updated in place (only what changed) or rebuilt whole. One writer
// (rank 0): another process is locked out; within the process, call it from one thread.
#pragma once

#include "orchestrator/results/journal.hpp"
#include "orchestrator/results/ledger_state.hpp"
#include "orchestrator/results/ledger_types.hpp"
#include "orchestrator/results/results_error.hpp"
#include "orchestrator/results/results_layout.hpp"
#include "core/metrics.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ablate {

struct ResultsFileOptions {
  // Accept a file made by another sweep (or an edited spec): its points stay
  // as they are, the new sweep's points are added.
  bool allow_different_sweep = false;
  // Events update the HDF5 file when its last write is older than this (plan,
  // reset_failed and close() always do). The interval stretches to 20 times the
  // duration of the last update, so writing costs at most ~5% of the time, but to
  // no more than 3 s (results visible within ~5 s of their outcome).
  // 0 = on every event, no stretching (tests, debugging).
  double flush_interval_seconds = 1;
  // Where replay and reconciliation warnings go; empty = "ablate: warning: ..." on stderr.
  std::function<void(const std::string&)> on_warning = {};
  // Group commit of outcomes. A done or failed record reaches the operating system
  // before finish_point()/fail_point() return, so a crash of ablate (kill -9
  // included) loses none; it is fdatasync'd (safe from a power failure) within this
  // interval, together with every outcome that arrived meanwhile: one fdatasync
  // per outcome capped a sweep at ~300 points/s on a disk. 0 = fdatasync each one.
  double commit_interval_seconds = 0.1;
  // A reader (h5py, ablate status) holding the file open blocks updates in place;
  // after this long the file is replaced whole instead (the reader keeps its version).
  double reader_patience_seconds = 2;
};

class ResultsFile {
 public:
  using Options = ResultsFileOptions;

  // Opens or creates `path` and `path`.journal, replays the journal and rebuilds
  // the HDF5 file when it is missing, stale or unreadable. Refuses (ResultsRefusedError,
  // the message says what to do) a file that is not an ablate results file, one made by
  // a different sweep unless options.allow_different_sweep, and a ledger another
  // process is writing; an unwritable directory is a ResultsIoError naming it.
  ResultsFile(const std::string& path, const SweepIdentity& sweep, Options options = {});
  ~ResultsFile();  // close(); never throws (a failure goes to the warning sink)
  ResultsFile(const ResultsFile&) = delete;
  ResultsFile& operator=(const ResultsFile&) = delete;

  // Registers points; new ones become pending, known IDs are left as they are.
  void plan(const std::vector<PlannedPoint>& points);

  PointStatus status(const std::string& id) const;
  int attempts(const std::string& id) const;  // starts so far, interrupted ones included
  std::vector<std::string> ids_with(PointStatus status) const;  // in plan order

  // pending/failed -> running; attempts + 1; forgets the curves of earlier attempts.
  // `until`: the last epoch early stopping lets this attempt train (0: all).
  void start_point(const std::string& id, const PointRunInfo& info, int until = 0);
  // Adds (or replaces, for a repeated epoch number) one row of a running point's curve.
  void record_epoch(const std::string& id, const EpochMetrics& metrics);
  // running -> done; in the journal (safe from a crash of this process) before it
  // returns, fdatasync'd within options.commit_interval_seconds.
  void finish_point(const std::string& id, const TrainResult& result);
  // running/pending -> failed; same durability as finish_point().
  void fail_point(const std::string& id, const std::string& error);
  // Every failed point -> pending (for --retry-failed); durable before it returns.
  void reset_failed();

  // Early stopping; every decision is durable like an outcome, so a resumed
  // sweep replays it rather than deciding again.
  // running -> paused at a rung: `result` of the epochs trained, `mark` what it was judged on.
  void pause_point(const std::string& id, const TrainResult& result, const RungMark& mark);
  // paused -> pending, allowed to train to epoch `until` ("top" of its rung, or an "idle" worker).
  void promote_point(const std::string& id, int until, const std::string& reason);
  // paused -> stopped (for good; its result stays).
  void stop_point(const std::string& id, const std::string& reason);
  // running -> stopped: a verdict ended its run after `mark.epoch`, with `result`.
  void stop_running_point(const std::string& id, const TrainResult& result, const RungMark& mark,
                          const std::string& reason);

  // Model-based search: journals one of the search's records (a suggestion before
  // its points are planned, an observation); durable like an outcome.
  void record_search(const nlohmann::json& search);
  const std::vector<nlohmann::json>& search_records() const { return state_.search_records(); }

  // Everything the ledger knows of a point, or of all of them in plan order
  // (the scheduling policy rebuilds its state from these at start).
  const LedgerPoint& point(const std::string& id) const { return state_.point(id, path_); }
  const std::vector<LedgerPoint>& points() const { return state_.points(); }

  // Commits outcomes whose commit interval has passed, and rewrites the HDF5 file
  // if it is behind and the flush interval has passed (for the scheduler's loop);
  // flush() does both now.
  void flush_if_due();
  void flush();
  // Final materialisation (waiting up to the reader patience, 2 s at most, for a
  // reader to let go of the file); releases the journal lock. Idempotent.
  void close();

  const std::string& path() const { return path_; }
  const std::string& journal_path() const { return journal_path_; }
  // Warnings from opening (torn journal end, rebuilt file, ...), also sent to on_warning.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  void open_ledger(const SweepIdentity& sweep);
  void check_sweep(const SweepIdentity& sweep);
  void reconcile_results_file(bool statuses_changed);
  void warn(const std::string& message);
  // Throws when nothing may be recorded: the file is closed, or the journal broke.
  void check_recording() const;
  // Applies a record to the state, then journals it (buffered).
  void record(const nlohmann::json& record);
  // Journals (buffered) a record of point `id` whose change the state has already
  // applied through its typed transition (start, epoch and done, every point's).
  void record_applied(const std::string& id, std::string_view record_text);
  // Brings the HDF5 view up to date; `wait_for_reader` = false: a file a reader holds is left behind.
  void materialise(bool wait_for_reader = true);
  void materialise_if_due();
  void write_out_outcome();  // after a done/failed record
  void check_result(const std::string& id, const TrainResult& result, const char* call) const;
  bool curves_differ(const std::string& id, const TrainResult& result) const;
  void commit_if_due();
  void commit();  // fdatasync the journal

  std::string path_, journal_path_, temporary_path_;
  Options options_;
  std::unique_ptr<Journal> journal_;
  LedgerState state_;
  ResultsView view_;
  std::vector<std::string> warnings_;
  bool behind_ = false;          // the HDF5 file lacks some journaled records
  bool outcome_unsynced_ = false;  // a done/failed record is written out, not yet fdatasync'd
  std::chrono::steady_clock::time_point last_commit_{};
  bool closed_ = false;
  std::chrono::steady_clock::time_point last_write_{};
  double last_write_seconds_ = 0;  // duration of the last write of the view
};

}  // namespace ablate
