// The made-up training of FakeWork: hand-checkable numbers, scripted misbehaviour.
#include "orchestrator/fake_work.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

namespace ablate {
namespace {

EpochMetrics fake_epoch(int e, int epochs, double lr, int seed) {
  EpochMetrics m;
  m.epoch = e;
  m.train_loss = 1.0 / e;
  m.train_acc = 1 - 0.5 / e;
  m.val_loss = m.test_loss = 2.0 / e;
  m.val_acc = (1 - lr) * e / epochs;
  m.test_acc = m.val_acc - 0.01 * seed;
  m.lr = lr;
  m.epoch_seconds = 0;
  m.images_per_second = 1000.0 * e;
  return m;
}

}  // namespace

TrainResult fake_result(const nlohmann::json& config) {
  const int epochs = config.at("epochs").get<int>();
  const double lr = config.at("lr").get<double>();
  const int seed = config.at("seed").get<int>();
  TrainResult r;
  for (int e = 1; e <= epochs; ++e) r.curves.push_back(fake_epoch(e, epochs, lr, seed));
  r.best_epoch = epochs;
  r.best_val_acc = 1 - lr;
  r.final_test_acc = r.test_acc_at_best_val = 1 - lr - 0.01 * seed;
  r.per_class_acc.assign(kNumClasses, r.final_test_acc);
  r.confusion_test.assign(kNumClasses * kNumClasses, 0);
  r.confusion_val.assign(kNumClasses * kNumClasses, 0);
  for (int c = 0; c < kNumClasses; ++c)
    r.confusion_test[c * kNumClasses + c] = 100, r.confusion_val[c * kNumClasses + c] = 50;
  for (const auto& width : config.at("hidden")) r.parameter_count += width.get<int64_t>();
  r.device = "fake";
  return r;
}

FakeWork::FakeWork() : FakeWork(Options{}) {}

std::string FakeWork::prepare(const WorkPlacement& placement) {
  if (!options_.prepare_error.empty()) throw std::invalid_argument(options_.prepare_error);
  placement_ = placement;
  return "fake";
}

TrainResult FakeWork::train(const WorkItem& item, const EpochCallback& on_epoch) {
  {
    std::lock_guard lock(mutex_);
    started_.push_back(item.id);
  }
  const nlohmann::json config = nlohmann::json::parse(item.config_text);
  const Rule* rule = nullptr;
  for (const auto& r : options_.rules)
    if (config.contains(r.key) && config.at(r.key) == r.value) rule = &r;

  TrainResult result = fake_result(config);
  for (const EpochMetrics& row : result.curves) {
    if (rule && rule->epoch == row.epoch) {
      if (rule->action == Action::fail) throw std::runtime_error(rule->message);
      if (rule->action == Action::stall) std::this_thread::sleep_for(rule->stall);
    }
    if (options_.epoch_time.count() > 0) std::this_thread::sleep_for(options_.epoch_time);
    EpochMetrics reported = row;
    const bool diverge = rule && rule->action == Action::diverge && rule->epoch == row.epoch;
    if (diverge) reported.train_loss = std::numeric_limits<double>::quiet_NaN();
    bool raise_now = false;
    {
      std::lock_guard lock(mutex_);
      ++epochs_reported_;
      if (options_.raise_after_epochs > 0 && !raised_ && epochs_reported_ >= options_.raise_after_epochs)
        raise_now = raised_ = true;
    }
    if (raise_now) {
      if (options_.signal_target > 0)
        ::kill(options_.signal_target, options_.raise_signal);
      else
        std::raise(options_.raise_signal);
    }
    if (on_epoch) on_epoch(reported);
    if (diverge)
      throw std::runtime_error(fmt::format("diverged at epoch {}, step 1: the loss is NaN or infinite", row.epoch));
  }
  {
    std::lock_guard lock(mutex_);
    finished_.push_back(item.id);
  }
  return result;
}

std::vector<std::string> FakeWork::started() const {
  std::lock_guard lock(mutex_);
  return started_;
}

std::vector<std::string> FakeWork::finished() const {
  std::lock_guard lock(mutex_);
  return finished_;
}

std::pair<std::string, nlohmann::json> parse_fake_match(const std::string& text) {
  const size_t equals = text.find('=');
  if (equals == std::string::npos || equals == 0)
    throw std::invalid_argument(fmt::format("'{}': expected key=value, e.g. lr=0.5", text));
  const std::string value = text.substr(equals + 1);
  auto parsed = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  return {text.substr(0, equals), parsed.is_discarded() ? nlohmann::json(value) : parsed};
}

}  // namespace ablate
