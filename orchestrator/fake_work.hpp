// FakeWork: a PointWork that trains nothing. It reports made-up epochs whose
// values follow from the config by a formula simple enough to check by hand,
// and fails, diverges or stalls on the points its rules name. Tests and the
// scheduler benchmark use it; `ablate` never does.
#pragma once

#include <chrono>
#include <csignal>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "orchestrator/point_work.hpp"

namespace ablate {

// The result FakeWork returns for a canonical config, with E = epochs, lr, s = seed:
//   epoch e (1..E): train_loss 1/e, train_acc 1 - 0.5/e, val_loss = test_loss 2/e,
//                   val_acc (1 - lr) e/E, test_acc val_acc - 0.01 s, lr lr,
//                   epoch_seconds 0, images_per_second 1000 e
//   best_epoch E, best_val_acc 1 - lr, final_test_acc = test_acc_at_best_val = 1 - lr - 0.01 s,
//   per_class_acc: 10 x final_test_acc, confusion_test: 100 on the diagonal, confusion_val: 50,
//   parameter_count: the sum of `hidden`, train_seconds 0, device "fake", epochs_trained E.
// `val_acc`, when given, prescribes val_acc(config, e) instead (test_acc follows
// it as above); best_epoch and the accuracies then follow the curve.
using FakeCurve = std::function<double(const nlohmann::json& config, int epoch)>;
TrainResult fake_result(const nlohmann::json& config, const FakeCurve& val_acc = {});

// The result of the first `epochs` epochs of `full` (early stopping ended the
// run there): its curve cut, best and final numbers from what was trained.
TrainResult truncate_result(const TrainResult& full, int epochs);

class FakeWork : public PointWork {
 public:
  enum class Action {
    fail,     // throw std::runtime_error(message) before epoch `epoch`
    diverge,  // report epoch `epoch` with a NaN train_loss, then throw "diverged at epoch ..."
    stall,    // before epoch `epoch`, sleep `stall` without reporting
  };
  struct Rule {
    std::string key;  // the rule applies to points whose config[key] == value
    nlohmann::json value;
    Action action = Action::fail;
    int epoch = 1;
    std::string message = "fake failure";
    std::chrono::milliseconds stall{0};
  };
  struct Options {
    std::chrono::milliseconds epoch_time{0};  // sleep per epoch
    std::vector<Rule> rules;
    // Once, after this many epochs in this process (0 = never), send raise_signal
    // to signal_target (0 = this process), before reporting that epoch.
    int raise_after_epochs = 0;
    int raise_signal = SIGTERM;
    int signal_target = 0;
    std::string prepare_error;  // prepare() throws std::invalid_argument with it ("" = ready)
    FakeCurve val_acc;          // prescribed val_acc curves (see fake_result)
    // When set, a checkpoint per point beside this results file, as the trainer
    // keeps: after each epoch the rows so far; a rerun replays them (with their
    // original epoch_seconds, which are then wall-clock stamps) and goes on.
    std::string checkpoint_results_path;
  };

  FakeWork();
  explicit FakeWork(Options options) : options_(std::move(options)) {}

  std::string prepare(const WorkPlacement& placement) override;
  TrainResult train(const WorkItem& item, const EpochCallback& on_epoch) override;
  std::string software_version() const override { return "fake"; }

  // IDs in the order train() began / returned a result. Thread-safe.
  std::vector<std::string> started() const;
  std::vector<std::string> finished() const;
  const WorkPlacement& placement() const { return placement_; }

 private:
  std::string checkpoint_path(const std::string& id) const;  // "" without checkpoint_results_path

  Options options_;
  WorkPlacement placement_;
  mutable std::mutex mutex_;
  std::vector<std::string> started_, finished_;
  int epochs_reported_ = 0;  // guarded by mutex_
  bool raised_ = false;
};

// "key=value" (value as JSON, else as a string) -> the rule's key and value;
// throws std::invalid_argument without a '='.
std::pair<std::string, nlohmann::json> parse_fake_match(const std::string& text);

}  // namespace ablate
