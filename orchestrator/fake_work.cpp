// The made-up training of FakeWork: hand-checkable numbers, scripted misbehaviour.
#include "orchestrator/fake_work.hpp"

#include "core/result_codec.hpp"
#include "orchestrator/checkpoint_files.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <fstream>
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

std::vector<EpochMetrics> read_fake_checkpoint(const std::string& path) {
  std::ifstream in(path);
  std::vector<EpochMetrics> rows;
  if (!in) return rows;
  const auto json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (json.is_array())
    for (const auto& row : json) rows.push_back(epoch_from_json(row));
  return rows;
}

// Written whole and renamed, as the trainer writes its checkpoints.
void write_fake_checkpoint(const std::string& path, const std::vector<EpochMetrics>& rows) {
  nlohmann::json json = nlohmann::json::array();
  for (const auto& row : rows) json.push_back(epoch_to_json(row));
  const std::string temporary = path + ".tmp";
  std::ofstream(temporary) << json.dump();
  std::rename(temporary.c_str(), path.c_str());
}

}  // namespace

TrainResult truncate_result(const TrainResult& full, int epochs) {
  TrainResult r = full;
  r.curves.resize(std::min(r.curves.size(), static_cast<size_t>(epochs)));
  r.epochs_trained = r.curves.empty() ? 0 : r.curves.back().epoch;
  r.best_epoch = 0;
  for (const auto& row : r.curves)
    if (r.best_epoch == 0 || row.val_acc > r.best_val_acc)
      r.best_epoch = row.epoch, r.best_val_acc = row.val_acc, r.test_acc_at_best_val = row.test_acc;
  r.final_test_acc = r.curves.empty() ? 0 : r.curves.back().test_acc;
  r.per_class_acc.assign(kNumClasses, r.final_test_acc);
  return r;
}

TrainResult fake_result(const nlohmann::json& config, const FakeCurve& val_acc) {
  const int epochs = config.at("epochs").get<int>();
  const double lr = config.at("lr").get<double>();
  const int seed = config.at("seed").get<int>();
  TrainResult r;
  for (int e = 1; e <= epochs; ++e) {
    r.curves.push_back(fake_epoch(e, epochs, lr, seed));
    if (val_acc) {
      r.curves.back().val_acc = val_acc(config, e);
      r.curves.back().test_acc = r.curves.back().val_acc - 0.01 * seed;
    }
  }
  r.confusion_test.assign(kNumClasses * kNumClasses, 0);
  r.confusion_val.assign(kNumClasses * kNumClasses, 0);
  for (int c = 0; c < kNumClasses; ++c)
    r.confusion_test[c * kNumClasses + c] = 100, r.confusion_val[c * kNumClasses + c] = 50;
  for (const auto& width : config.at("hidden")) r.parameter_count += width.get<int64_t>();
  r.device = "fake";
  return truncate_result(r, epochs);
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

  const TrainResult full = fake_result(config, options_.val_acc);
  std::vector<EpochMetrics> trained;  // what this point has, checkpointed epochs included
  EpochVerdict verdict = EpochVerdict::go_on;
  const std::string checkpoint = checkpoint_path(item.id);
  if (!checkpoint.empty()) trained = read_fake_checkpoint(checkpoint);
  for (const EpochMetrics& row : trained)  // replayed, like the trainer's resume
    if (on_epoch) verdict = on_epoch(row);

  for (size_t e = trained.size(); e < full.curves.size() && verdict == EpochVerdict::go_on; ++e) {
    EpochMetrics row = full.curves[e];
    if (rule && rule->epoch == row.epoch) {
      if (rule->action == Action::fail) throw std::runtime_error(rule->message);
      if (rule->action == Action::stall) std::this_thread::sleep_for(rule->stall);
    }
    if (options_.epoch_time.count() > 0) std::this_thread::sleep_for(options_.epoch_time);
    if (!checkpoint.empty())  // a stamp that shows, after a resume, which attempt trained the epoch
      row.epoch_seconds = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    trained.push_back(row);
    if (!checkpoint.empty()) write_fake_checkpoint(checkpoint, trained);
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
    if (on_epoch) verdict = on_epoch(reported);
    if (diverge)
      throw std::runtime_error(fmt::format("diverged at epoch {}, step 1: the loss is NaN or infinite", row.epoch));
  }
  {
    std::lock_guard lock(mutex_);
    finished_.push_back(item.id);
  }
  TrainResult result = truncate_result(full, static_cast<int>(trained.size()));
  result.curves = trained;
  return result;
}

std::string FakeWork::checkpoint_path(const std::string& id) const {
  if (options_.checkpoint_results_path.empty()) return "";
  ::mkdir(checkpoint_directory(options_.checkpoint_results_path).c_str(), 0755);
  return point_checkpoint_path(options_.checkpoint_results_path, id);
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
