// Tests of per-point checkpoints (trainer/checkpoint): a run interrupted after an
// epoch and resumed from its checkpoint ends exactly where an uninterrupted run
// ends; checkpoints of another config or damaged ones are ignored, with a reason.
#include "tests/trainer/torch_catch.hpp"

#include <cstring>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "core/config.hpp"
#include "trainer/checkpoint.hpp"
#include "trainer/device.hpp"
#include "trainer/models.hpp"
#include "trainer/optim.hpp"
#include "trainer/train.hpp"

namespace {

const ablate::FashionMnist& real_data() {
  static const ablate::FashionMnist data = ablate::load_fashion_mnist("");
  return data;
}

struct StopAfterEpoch {
  int epoch;
};

// A temporary directory holding point.pt (and its temporary). POSIX calls: in a
// torch-linked binary, libtorch.so's own std::filesystem::remove_all crashes.
struct Scratch {
  std::string dir;
  Scratch() {
    char name[] = "/tmp/ablate_ckpt_XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    dir = name;
  }
  ~Scratch() {
    for (const char* leaf : {"/point.pt", "/point.pt.tmp"}) ::unlink((dir + leaf).c_str());
    ::rmdir(dir.c_str());
  }
  std::string file(const std::string& name) const { return dir + "/" + name; }
};

struct Run {
  ablate::TrainResult result;
  std::vector<ablate::EpochMetrics> reported;  // what on_epoch saw, in order
  std::vector<torch::Tensor> weights;
  std::vector<std::string> warnings;
  bool stopped = false;
};

// Trains `config`; with `stop_after` > 0 the epoch callback throws after that
// epoch, as a worker told to stop does; with `pause_after` > 0 it answers
// `pause` after that epoch, as early stopping does.
Run train(const ablate::TrainConfig& config, const std::string& checkpoint, int stop_after = 0, int pause_after = 0) {
  ablate::set_torch_threads(1);
  Run run;
  torch::nn::Sequential model;
  ablate::TrainContext context;
  context.trained_model = &model;
  context.checkpoint_path = checkpoint;
  context.on_warning = [&run](const std::string& w) { run.warnings.push_back(w); };
  try {
    run.result = ablate::train(config, real_data(), context, [&](const ablate::EpochMetrics& row) {
      run.reported.push_back(row);
      if (row.epoch == stop_after) throw StopAfterEpoch{row.epoch};
      return row.epoch == pause_after ? ablate::EpochVerdict::pause : ablate::EpochVerdict::go_on;
    });
    for (const auto& p : model->parameters()) run.weights.push_back(p.detach().clone());
    for (const auto& b : model->buffers()) run.weights.push_back(b.detach().clone());
  } catch (const StopAfterEpoch&) {
    run.stopped = true;
  }
  return run;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Every measured field but the clock's.
void require_same_curves(const std::vector<ablate::EpochMetrics>& a, const std::vector<ablate::EpochMetrics>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("epoch " << a[i].epoch);
    CHECK(a[i].epoch == b[i].epoch);
    CHECK(same_bits(a[i].train_loss, b[i].train_loss));
    CHECK(same_bits(a[i].train_acc, b[i].train_acc));
    CHECK(same_bits(a[i].val_loss, b[i].val_loss));
    CHECK(same_bits(a[i].val_acc, b[i].val_acc));
    CHECK(same_bits(a[i].test_loss, b[i].test_loss));
    CHECK(same_bits(a[i].test_acc, b[i].test_acc));
    CHECK(same_bits(a[i].lr, b[i].lr));
    CHECK(same_bits(a[i].train_eval_loss, b[i].train_eval_loss));
    CHECK(same_bits(a[i].train_eval_acc, b[i].train_eval_acc));
  }
}

ablate::TrainConfig small_mlp() {
  ablate::TrainConfig config;
  config.hidden = {64, 32};
  config.train_limit = 2000;
  config.val_size = 500;
  config.epochs = 3;
  config.batch_size = 100;
  // Everything random is exercised: dropout (global generator), augmentation
  // (its own generator), shuffling (another one), momentum (optimizer state).
  config.dropout = 0.2;
  config.augment_shift = 2;
  config.augment_flip = true;
  config.augment_erase = 0.5;
  config.seed = 7;
  return config;
}

}  // namespace

TEST_CASE("a run resumed from its checkpoint ends exactly like an uninterrupted one", "[train][checkpoint][slow]") {
  Scratch scratch;
  auto config = small_mlp();
  SECTION("SGD with momentum, cosine schedule, dropout and augmentation") {}
  SECTION("AdamW with BatchNorm (running statistics are buffers)") {
    config.optimizer = "adamw";
    config.lr = 1e-3;
    config.weight_decay = 1e-2;
    config.batchnorm = true;
  }
  const Run whole = train(config, "");
  REQUIRE_FALSE(whole.stopped);

  const std::string checkpoint = scratch.file("point.pt");
  const Run first = train(config, checkpoint, /*stop_after=*/1);
  REQUIRE(first.stopped);
  REQUIRE(::access(checkpoint.c_str(), F_OK) == 0);
  const Run second = train(config, checkpoint);
  REQUIRE_FALSE(second.stopped);
  CHECK(second.warnings.empty());

  // The resumed attempt first replays the epoch it had, then trains the rest.
  REQUIRE(second.reported.size() == 3);
  CHECK(second.reported[0].epoch == 1);
  require_same_curves({second.reported[0]}, {first.reported[0]});
  require_same_curves(second.result.curves, whole.result.curves);
  CHECK(second.result.best_epoch == whole.result.best_epoch);
  CHECK(same_bits(second.result.best_val_acc, whole.result.best_val_acc));
  CHECK(second.result.final_test_acc == whole.result.final_test_acc);
  CHECK(second.result.confusion_test == whole.result.confusion_test);
  CHECK(second.result.test_predictions == whole.result.test_predictions);
  REQUIRE(second.weights.size() == whole.weights.size());
  for (size_t i = 0; i < whole.weights.size(); ++i) CHECK(torch::equal(second.weights[i], whole.weights[i]));
}

TEST_CASE("a checkpoint after the second of three epochs resumes at the third", "[train][checkpoint][slow]") {
  Scratch scratch;
  const auto config = small_mlp();
  const std::string checkpoint = scratch.file("point.pt");
  REQUIRE(train(config, checkpoint, /*stop_after=*/2).stopped);
  const Run resumed = train(config, checkpoint);
  const Run whole = train(config, "");
  REQUIRE(resumed.reported.size() == 3);  // two replayed rows, one trained
  require_same_curves(resumed.result.curves, whole.result.curves);
  for (size_t i = 0; i < whole.weights.size(); ++i) CHECK(torch::equal(resumed.weights[i], whole.weights[i]));
}

TEST_CASE("a run killed after its last epoch was reported ends from its checkpoint without training again",
          "[train][checkpoint][slow]") {
  // The window: the last epoch's row reached the ledger, the point's end did not.
  Scratch scratch;
  const auto config = small_mlp();
  const std::string checkpoint = scratch.file("point.pt");
  const Run whole = train(config, checkpoint);
  REQUIRE(::access(checkpoint.c_str(), F_OK) == 0);  // the last epoch is in it
  const Run again = train(config, checkpoint);
  REQUIRE(again.reported.size() == 3);  // all three replayed
  for (size_t e = 0; e < 3; ++e) CHECK(same_bits(again.reported[e].epoch_seconds, whole.reported[e].epoch_seconds));
  CHECK(again.result.epochs_trained == 3);
  require_same_curves(again.result.curves, whole.result.curves);
  CHECK(again.result.final_test_acc == whole.result.final_test_acc);
  CHECK(again.result.confusion_test == whole.result.confusion_test);
  CHECK(again.result.test_predictions == whole.result.test_predictions);
  for (size_t i = 0; i < whole.weights.size(); ++i) CHECK(torch::equal(again.weights[i], whole.weights[i]));
}

TEST_CASE("a paused point keeps its checkpoint and, promoted, ends bitwise like an unpaused run",
          "[train][checkpoint][early_stopping][slow]") {
  Scratch scratch;
  auto config = small_mlp();
  config.epochs = 4;
  const std::string checkpoint = scratch.file("point.pt");
  const Run whole = train(config, "");

  // Paused at the first rung: the run ends normally after epoch 1, with a
  // complete result of what it trained (the last epoch's evaluation).
  const Run paused = train(config, checkpoint, /*stop_after=*/0, /*pause_after=*/1);
  REQUIRE_FALSE(paused.stopped);
  REQUIRE(paused.result.curves.size() == 1);
  CHECK(paused.result.epochs_trained == 1);
  CHECK(paused.result.test_predictions.size() == 10000);
  CHECK(paused.result.final_test_acc == paused.result.curves.back().test_acc);
  require_same_curves(paused.result.curves, {whole.result.curves[0]});
  REQUIRE(::access(checkpoint.c_str(), F_OK) == 0);

  // A restart that is told to pause at the same epoch ends at once: nothing past the rung.
  const Run again = train(config, checkpoint, 0, /*pause_after=*/1);
  REQUIRE(again.reported.size() == 1);
  CHECK(again.result.epochs_trained == 1);
  CHECK(again.result.test_predictions == paused.result.test_predictions);

  // Promoted to epoch 3, then to the end: every row and weight as the whole run's.
  const Run promoted = train(config, checkpoint, 0, /*pause_after=*/3);
  REQUIRE(promoted.reported.size() == 3);  // one replayed, two trained
  CHECK(promoted.result.epochs_trained == 3);
  const Run last = train(config, checkpoint);
  CHECK(last.result.epochs_trained == 4);
  require_same_curves(last.result.curves, whole.result.curves);
  CHECK(last.result.test_predictions == whole.result.test_predictions);
  for (size_t i = 0; i < whole.weights.size(); ++i) CHECK(torch::equal(last.weights[i], whole.weights[i]));
}

TEST_CASE("unusable checkpoints are ignored with a reason and the point starts afresh", "[train][checkpoint][slow]") {
  Scratch scratch;
  auto config = small_mlp();
  config.epochs = 2;
  const std::string checkpoint = scratch.file("point.pt");
  const Run whole = train(config, "");

  SECTION("damaged") {
    std::ofstream(checkpoint, std::ios::binary) << "PK\x03\x04 not really a zip archive";
    const Run run = train(config, checkpoint);
    REQUIRE(run.warnings.size() == 1);
    CHECK_THAT(run.warnings[0], Catch::Contains(checkpoint) && Catch::Contains("cannot be read"));
    require_same_curves(run.result.curves, whole.result.curves);
  }
  SECTION("another configuration's") {
    auto other = config;
    other.lr = 0.01;
    REQUIRE(train(other, checkpoint, /*stop_after=*/1).stopped);
    const Run run = train(config, checkpoint);
    REQUIRE(run.warnings.size() == 1);
    CHECK_THAT(run.warnings[0], Catch::Contains("another configuration"));
    require_same_curves(run.result.curves, whole.result.curves);
  }
}

TEST_CASE("a checkpoint written before a key existed still resumes after an upgrade", "[checkpoint]") {
  Scratch scratch;
  const std::string path = scratch.file("point.pt");
  const auto config = small_mlp();
  torch::nn::Sequential model = ablate::build_model(config);
  auto optimizer = ablate::make_optimizer(model->parameters(), config);
  ablate::TrainingState state{*model, *optimizer, {}};
  ablate::TrainingProgress progress;
  progress.epoch = 1;
  progress.curves.resize(1);
  progress.curves[0].epoch = 1;
  auto save_for = [&](const nlohmann::json& stored_config) {
    ablate::save_checkpoint(path, {ablate::canonical_text(stored_config), config.epochs, 1, 0}, state, progress);
  };
  auto why_unusable_now = [&](const ablate::TrainConfig& now) {
    std::string why;
    const ablate::CheckpointKey key{ablate::canonical_text(ablate::config_to_json(now)), now.epochs, 1, 0};
    const bool usable = ablate::read_checkpoint(path, key, state, &why).has_value();
    CHECK(usable == why.empty());
    return why;
  };

  // Written by an ablate before eval_flip: every key but that one.
  auto older = ablate::config_to_json(config);
  REQUIRE(older.erase("eval_flip") == 1);
  save_for(older);
  CHECK(why_unusable_now(config).empty());
  // That key set away from its default is another configuration.
  auto flipped = config;
  flipped.eval_flip = true;
  CHECK_THAT(why_unusable_now(flipped), Catch::Contains("another configuration"));
  // So is one written by a newer ablate, with a key this one does not know.
  auto newer = ablate::config_to_json(config);
  newer["a_key_from_the_future"] = 1;
  save_for(newer);
  CHECK_THAT(why_unusable_now(config), Catch::Contains("another configuration"));
  // And one that differs in a known key's value.
  auto other = ablate::config_to_json(config);
  other["lr"] = 0.01;
  save_for(other);
  CHECK_THAT(why_unusable_now(config), Catch::Contains("another configuration"));
}
