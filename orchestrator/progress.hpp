// ProgressReporter: what rank 0 tells a person during a sweep. In a terminal one
// live status line (rewritten a few times a second) with finished points
// printed above it; in a log, one plain line per event.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "core/metrics.hpp"

namespace ablate {

enum class ProgressStyle {
  live_line,  // a terminal: "\r"-rewritten status line
  lines,      // a log: a line per start, epoch, end
  quiet,      // only notes (stops, warnings)
};

// A point being trained, as the status line shows it.
struct RunningPoint {
  std::string worker;  // "rank 2", "local"
  std::string id;
  int epoch = 0;   // epochs finished
  int epochs = 0;  // epochs planned
  double images_per_second = 0;
};

// What the status line summarises; the reporter fills it, tests fill it by hand.
struct ProgressSnapshot {
  int total = 0;             // points of the sweep
  int done = 0, failed = 0;  // of those, now (earlier runs included)
  int remaining = 0;         // points of this run not finished yet, running ones included
  int workers = 1;
  double elapsed_seconds = 0;     // of this run
  double mean_point_seconds = 0;  // wall time per point finished in this run; 0 = none yet
  std::vector<RunningPoint> running;
};

// "42s", "3m05s", "2h07m".
std::string format_duration(double seconds);

// Time left if the remaining points take the mean time each and the workers
// share them: ceil(remaining / workers) * mean. Negative when unknown (no mean yet).
double eta_seconds(const ProgressSnapshot& snapshot);

// "12/40 done, 1 failed | rank 1: 3f2a.. epoch 2/5 5.1k img/s | 3m05s elapsed, ETA 12m10s"
std::string format_status_line(const ProgressSnapshot& snapshot);

class ProgressReporter {
 public:
  ProgressReporter(std::ostream& out, ProgressStyle style, int workers);

  // The points that train at once: one slot per worker, or per member of a
  // worker's pack (--pack K: worker * K + member). Slots are the `worker`
  // arguments below; the ETA shares the remaining points among them.
  void set_slots(int slots);
  void begin(int total, int done, int failed, int to_run);
  void started(int worker, const std::string& worker_name, const std::string& id, const std::string& label, int epochs);
  void epoch(int worker, const EpochMetrics& row);
  void finished(int worker, const TrainResult& result);
  void failed(int worker, const std::string& error);
  void interrupted(int worker);
  // Early stopping ended the point at a rung: paused (it may be promoted) or stopped (for good, counted as finished).
  void paused(int worker, const TrainResult& result);
  void stopped_early(int worker, const TrainResult& result);
  // A line that must be seen (a stop, a warning), in every style.
  void note(const std::string& text);
  // Live style: redraws the status line when the last draw is old enough.
  void tick();
  // Clears the status line; later output starts on a clean line.
  void end();

  ProgressSnapshot snapshot() const;

 private:
  struct Slot {
    bool busy = false;
    std::string name, id, label;
    int epoch = 0, epochs = 0;
    double images_per_second = 0;
    std::chrono::steady_clock::time_point started;
  };
  double elapsed() const;
  std::string stamp() const;                 // "[  3m05s]"
  void print_line(const std::string& line);  // a permanent line (above the live one)
  void point_ended(Slot& slot);
  void draw();

  std::ostream& out_;
  ProgressStyle style_;
  std::vector<Slot> slots_;
  int total_ = 0, done_ = 0, failed_ = 0, remaining_ = 0;
  int finished_here_ = 0;
  double point_seconds_sum_ = 0;
  std::chrono::steady_clock::time_point begun_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
  size_t width_ = 0;  // terminal columns (live style); 0 = unknown
  bool line_shown_ = false;
};

}  // namespace ablate
