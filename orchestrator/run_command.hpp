// `ablate run`: a whole sweep, resumable, in this process or over MPI ranks.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "orchestrator/communicator.hpp"
#include "orchestrator/point_work.hpp"
#include "orchestrator/progress.hpp"

namespace ablate {

struct RunOptions {
  std::string spec_path;                // SWEEP.toml
  std::vector<std::string> overrides;   // --set key=value, applied to every point
  std::string results_path;             // -o RESULTS.h5
  std::string data_dir;                 // --data (read by the PointWork, not here)
  std::string device = "auto";          // auto | cpu | cuda
  int threads = 0;                      // LibTorch threads per worker; 0 = the node's cores shared out
  bool retry_failed = false;            // failed points run again
  bool allow_different_sweep = false;   // add this sweep's points to a file made by another (or edited) spec
  int max_consecutive_failures = 10;    // 0 = never stop for failures
  double stall_timeout_seconds = 1800;  // 0 = no stall watch
  double hand_ahead_below_seconds = 0.05;  // --hand-ahead (SchedulerOptions); 0 = never
  int ranks_per_point = 1;
  int workers_per_gpu = 1;
  int pack = 1;  // --pack: points of equal pack keys trained together per worker; kPackAuto (pack_size.hpp) = auto
  ProgressStyle progress = ProgressStyle::lines;
  double flush_interval_seconds = 1;  // how often the HDF5 view catches up with the journal (in place: cheap)
};

// What rank 0's run did, for callers that want more than the exit code.
struct RunSummary {
  int done = 0, failed = 0, interrupted = 0;  // points of this run
  int packs = 0, largest_pack = 0;            // assignments made, and the most points one of them held
  int handed_ahead = 0;                       // assignments made to a worker still training (short points)
  double schedule_seconds = 0;                // the scheduling loop: first assignment to last report
  // Rank 0's other phases (bench_scheduler prints them): expanding the sweep, opening and
  // planning the ledger, building the queue and policy, and the final write and close.
  double expand_seconds = 0, ledger_seconds = 0, queue_seconds = 0, close_seconds = 0;
};

// Checks every option on its own; throws OptionError naming the option.
void validate_run_options(const RunOptions& options);

// What every rank must agree on: ablate version, git commit, spec text.
std::string run_fingerprint(const std::string& spec_text);

// Runs or resumes the sweep on every rank of `comm`. Rank 0 schedules and is the
// only writer of the results file; the other ranks train what it assigns with
// `work` (one rank: rank 0 trains in-process). Everything is validated on every
// rank before any point trains; a rank that cannot start stops them all.
// Returns the exit code (exit_codes.hpp): 0 all done, 3 finished with failed
// points, 4 incomplete. On rank 0 a startup problem throws (OptionError, SpecError,
// ResultsError, DataError, ...); the other ranks return its exit code instead (0 when
// only the results file was refused: the job's exit code is rank 0's).
// After a stall, rank 0 closes the results file and calls comm.abort(4).
int run_sweep(const RunOptions& options, Communicator& comm, PointWork& work, std::ostream& out,
              RunSummary* summary = nullptr);

}  // namespace ablate
