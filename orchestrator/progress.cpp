// Status line, ETA and event lines of a running sweep.
#include "orchestrator/progress.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace ablate {
namespace {

// A terminal is redrawn at most this often: more is flicker, and costs a
// scheduler that may handle thousands of events a second.
constexpr std::chrono::milliseconds kRedrawInterval{250};
constexpr size_t kShortId = 8;  // enough to tell points apart on one line

std::string short_id(const std::string& id) { return id.substr(0, kShortId); }

std::string rate_text(double images_per_second) {
  if (images_per_second <= 0) return "";
  if (images_per_second >= 1000) return fmt::format(" {:.1f}k img/s", images_per_second / 1000);
  return fmt::format(" {:.0f} img/s", images_per_second);
}

size_t terminal_columns() {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 0;
}

}  // namespace

std::string format_duration(double seconds) {
  const long long s = std::llround(std::max(0.0, seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

double eta_seconds(const ProgressSnapshot& snapshot) {
  if (snapshot.mean_point_seconds <= 0) return -1;
  const int workers = std::max(1, snapshot.workers);
  const int rounds = (snapshot.remaining + workers - 1) / workers;
  return rounds * snapshot.mean_point_seconds;
}

std::string format_status_line(const ProgressSnapshot& s) {
  std::string line = fmt::format("{}/{} done", s.done, s.total);
  if (s.failed > 0) line += fmt::format(", {} failed", s.failed);
  for (const auto& p : s.running)
    line += fmt::format(" | {}: {} epoch {}/{}{}", p.worker, short_id(p.id), p.epoch, p.epochs,
                        rate_text(p.images_per_second));
  line += fmt::format(" | {} elapsed", format_duration(s.elapsed_seconds));
  const double eta = eta_seconds(s);
  if (eta >= 0 && s.remaining > 0) line += fmt::format(", ETA {}", format_duration(eta));
  return line;
}

ProgressReporter::ProgressReporter(std::ostream& out, ProgressStyle style, int workers)
    : out_(out), style_(style), slots_(static_cast<size_t>(std::max(1, workers))) {
  if (style_ == ProgressStyle::live_line) width_ = terminal_columns();
}

double ProgressReporter::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - begun_).count();
}

std::string ProgressReporter::stamp() const { return fmt::format("[{:>7}]", format_duration(elapsed())); }

ProgressSnapshot ProgressReporter::snapshot() const {
  ProgressSnapshot s;
  s.total = total_;
  s.done = done_;
  s.failed = failed_;
  s.remaining = remaining_;
  s.workers = static_cast<int>(slots_.size());
  s.elapsed_seconds = elapsed();
  s.mean_point_seconds = finished_here_ > 0 ? point_seconds_sum_ / finished_here_ : 0;
  for (const auto& slot : slots_)
    if (slot.busy) s.running.push_back({slot.name, slot.id, slot.epoch, slot.epochs, slot.images_per_second});
  return s;
}

void ProgressReporter::set_slots(int slots) { slots_.resize(static_cast<size_t>(std::max(1, slots))); }

void ProgressReporter::begin(int total, int done, int failed, int to_run) {
  total_ = total, done_ = done, failed_ = failed, remaining_ = to_run;
  begun_ = std::chrono::steady_clock::now();
}

void ProgressReporter::started(int worker, const std::string& worker_name, const std::string& id,
                               const std::string& label, int epochs) {
  Slot& slot = slots_.at(worker);
  slot = Slot{true, worker_name, id, label, 0, epochs, 0, std::chrono::steady_clock::now()};
  if (style_ == ProgressStyle::lines)
    print_line(fmt::format("{} start  {} {} on {}", stamp(), short_id(id), label, worker_name));
}

void ProgressReporter::epoch(int worker, const EpochMetrics& row) {
  Slot& slot = slots_.at(worker);
  slot.epoch = row.epoch;
  slot.images_per_second = row.images_per_second;
  if (style_ == ProgressStyle::lines)
    print_line(fmt::format("{} epoch  {} {}/{}: train_loss {:.4f} val_acc {:.4f} test_acc {:.4f} ({:.1f} s{}) on {}",
                           stamp(), short_id(slot.id), row.epoch, slot.epochs, row.train_loss, row.val_acc,
                           row.test_acc, row.epoch_seconds, rate_text(row.images_per_second), slot.name));
}

void ProgressReporter::point_ended(Slot& slot) {
  slot.busy = false;
  ++finished_here_;
  remaining_ = std::max(0, remaining_ - 1);
  point_seconds_sum_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - slot.started).count();
}

void ProgressReporter::finished(int worker, const TrainResult& result) {
  Slot& slot = slots_.at(worker);
  point_ended(slot);
  ++done_;
  if (style_ == ProgressStyle::quiet) return;
  const ProgressSnapshot s = snapshot();
  const double eta = eta_seconds(s);
  print_line(fmt::format(
      "{} done   {} {}: best val_acc {:.4f} (epoch {}), test_acc there {:.4f}; {:.1f} s | "
      "{}/{} done{}{}",
      stamp(), short_id(slot.id), slot.label, result.best_val_acc, result.best_epoch, result.test_acc_at_best_val,
      result.train_seconds, done_, total_, failed_ > 0 ? fmt::format(", {} failed", failed_) : "",
      eta >= 0 && remaining_ > 0 ? fmt::format(", ETA {}", format_duration(eta)) : ""));
}

void ProgressReporter::failed(int worker, const std::string& error) {
  Slot& slot = slots_.at(worker);
  point_ended(slot);
  ++failed_;
  if (style_ == ProgressStyle::quiet) return;
  print_line(fmt::format("{} FAILED {} {} on {}: {}", stamp(), short_id(slot.id), slot.label, slot.name, error));
}

void ProgressReporter::interrupted(int worker) {
  Slot& slot = slots_.at(worker);
  slot.busy = false;  // not finished: it neither counts nor feeds the mean
  if (style_ == ProgressStyle::quiet) return;
  print_line(fmt::format("{} stopped {} {} at epoch {}/{} (unfinished: a rerun restarts it)", stamp(),
                         short_id(slot.id), slot.label, slot.epoch, slot.epochs));
}

void ProgressReporter::paused(int worker, const TrainResult& result) {
  Slot& slot = slots_.at(worker);
  slot.busy = false;  // not finished: a promotion trains it on
  if (style_ == ProgressStyle::quiet) return;
  print_line(fmt::format("{} paused {} {} at epoch {}/{}: best val_acc {:.4f} so far", stamp(), short_id(slot.id),
                         slot.label, result.epochs_trained, slot.epochs, result.best_val_acc));
}

void ProgressReporter::stopped_early(int worker, const TrainResult& result) {
  Slot& slot = slots_.at(worker);
  point_ended(slot);
  ++done_;
  if (style_ == ProgressStyle::quiet) return;
  print_line(fmt::format("{} stopped early {} {} at epoch {}/{}: best val_acc {:.4f} (epoch {})", stamp(),
                         short_id(slot.id), slot.label, result.epochs_trained, slot.epochs, result.best_val_acc,
                         result.best_epoch));
}

void ProgressReporter::note(const std::string& text) { print_line(text); }

void ProgressReporter::print_line(const std::string& line) {
  if (line_shown_) out_ << "\r\x1b[K";  // clear the status line, print above it
  out_ << line << '\n';
  line_shown_ = false;
  if (style_ == ProgressStyle::live_line)
    draw();
  else
    out_.flush();
}

void ProgressReporter::tick() {
  if (style_ != ProgressStyle::live_line) return;
  if (std::chrono::steady_clock::now() - last_draw_ >= kRedrawInterval) draw();
}

void ProgressReporter::draw() {
  std::string line = format_status_line(snapshot());
  if (width_ > 4 && line.size() >= width_) line = line.substr(0, width_ - 4) + "...";
  out_ << '\r' << line << "\x1b[K" << std::flush;
  line_shown_ = true;
  last_draw_ = std::chrono::steady_clock::now();
}

void ProgressReporter::end() {
  if (line_shown_) out_ << "\r\x1b[K" << std::flush;
  line_shown_ = false;
}

}  // namespace ablate
