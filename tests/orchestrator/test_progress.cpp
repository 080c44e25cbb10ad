// Tests of orchestrator/progress: ETA arithmetic and the lines a person reads.
#include <catch2/catch.hpp>
#include <sstream>

#include "orchestrator/progress.hpp"

using namespace ablate;

TEST_CASE("durations read as seconds minutes or hours", "[orchestrator]") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(59.4) == "59s");
  CHECK(format_duration(65) == "1m05s");
  CHECK(format_duration(3599) == "59m59s");
  CHECK(format_duration(3600 * 2 + 7 * 60 + 30) == "2h07m");
}

TEST_CASE("ETA: remaining points in rounds of one per worker at the mean point time", "[orchestrator]") {
  ProgressSnapshot s;
  s.total = 40, s.done = 12, s.failed = 1, s.remaining = 27, s.workers = 2, s.mean_point_seconds = 20;
  CHECK(eta_seconds(s) == 14 * 20.0);  // ceil(27 / 2) = 14 rounds
  s.workers = 3;
  CHECK(eta_seconds(s) == 9 * 20.0);
  s.mean_point_seconds = 0;  // nothing finished yet: unknown
  CHECK(eta_seconds(s) < 0);
}

TEST_CASE("the status line shows counts each running point and the ETA", "[orchestrator]") {
  ProgressSnapshot s;
  s.total = 40, s.done = 12, s.failed = 1, s.remaining = 27, s.workers = 2, s.mean_point_seconds = 20;
  s.elapsed_seconds = 185;
  s.running = {{"rank 1", "3f2a9c0011223344", 2, 5, 5100}, {"rank 2", "77aa000011112222", 0, 5, 0}};
  CHECK(format_status_line(s) ==
        "12/40 done, 1 failed | rank 1: 3f2a9c00 epoch 2/5 5.1k img/s | rank 2: 77aa0000 epoch 0/5 | 3m05s elapsed, "
        "ETA 4m40s");
}

TEST_CASE("a log gets one plain line per event", "[orchestrator]") {
  std::ostringstream out;
  ProgressReporter progress(out, ProgressStyle::lines, 1);
  progress.begin(3, 1, 0, 2);
  progress.started(0, "local", "00112233445566778899", "2x256 seed=0", 5);
  EpochMetrics row;
  row.epoch = 1, row.train_loss = 0.5, row.val_acc = 0.8, row.test_acc = 0.79, row.images_per_second = 2500;
  progress.epoch(0, row);
  TrainResult result;
  result.best_val_acc = 0.85, result.best_epoch = 4, result.test_acc_at_best_val = 0.84;
  progress.finished(0, result);
  progress.started(0, "local", "aabbccdd00", "linear seed=0", 5);
  progress.failed(0, "diverged at epoch 1, step 3");
  progress.end();
  const std::string text = out.str();
  CHECK(text.find("start  00112233 2x256 seed=0 on local\n") != std::string::npos);
  CHECK(text.find("epoch  00112233 1/5: train_loss 0.5000 val_acc 0.8000 test_acc 0.7900") != std::string::npos);
  CHECK(text.find("done   00112233 2x256 seed=0: best val_acc 0.8500 (epoch 4)") != std::string::npos);
  CHECK(text.find("2/3 done") != std::string::npos);  // one done before this run + this one
  CHECK(text.find("FAILED aabbccdd linear seed=0 on local: diverged at epoch 1, step 3\n") != std::string::npos);
  CHECK(text.find('\r') == std::string::npos);  // no terminal tricks in a log
  CHECK(progress.snapshot().failed == 1);
  CHECK(progress.snapshot().remaining == 0);
}

TEST_CASE("quiet progress prints only notes", "[orchestrator]") {
  std::ostringstream out;
  ProgressReporter progress(out, ProgressStyle::quiet, 1);
  progress.begin(1, 0, 0, 1);
  progress.started(0, "local", "00112233", "x", 1);
  progress.finished(0, TrainResult{});
  progress.note("SIGINT received");
  CHECK(out.str() == "SIGINT received\n");
}
