// Tests of trainer/train on a small real subset: learning, determinism, divergence,
// the clean train accuracy and its subset.
#include "tests/trainer/torch_catch.hpp"

#include <algorithm>
#include <cmath>

#include "trainer/dataset.hpp"
#include "trainer/device.hpp"
#include "trainer/train.hpp"
#include "trainer/train_eval_subset.hpp"

namespace {
const ablate::FashionMnist& real_data() {
  static const ablate::FashionMnist data = ablate::load_fashion_mnist("");
  return data;
}

ablate::TrainConfig small(const std::string& model) {
  ablate::TrainConfig config;
  config.model = model;
  config.train_limit = 4000;
  config.val_size = 1000;
  config.epochs = 2;
  config.batch_size = 64;
  config.channels = {8, 16};
  config.fc_width = 32;
  config.resnet_width = 4;
  config.resnet_blocks = {1, 1};
  return config;
}

ablate::TrainResult run(const ablate::TrainConfig& config) {
  ablate::set_torch_threads(2);
  ablate::TrainContext context;
  return ablate::train(config, real_data(), context);
}
}  // namespace

TEST_CASE("a short training on real data clearly beats chance", "[train][slow]") {
  const auto result = run(small("mlp"));
  REQUIRE(result.curves.size() == 2);
  CHECK(result.final_test_acc > 0.70);  // chance is 0.10
  CHECK(result.curves[1].train_loss < result.curves[0].train_loss);
  CHECK(result.parameter_count == 269322);
  int64_t test_total = 0;
  for (auto n : result.confusion_test) test_total += n;
  CHECK(test_total == 10000);
  int64_t val_total = 0;
  for (auto n : result.confusion_val) val_total += n;
  CHECK(val_total == 1000);
  REQUIRE(result.per_class_acc.size() == 10);
  // Every test image's prediction, in test-set order: with the true labels they
  // rebuild the confusion matrix exactly.
  REQUIRE(result.test_predictions.size() == 10000);
  std::vector<int64_t> rebuilt(100, 0);
  for (size_t i = 0; i < 10000; ++i) ++rebuilt[real_data().test.labels[i] * 10 + result.test_predictions[i]];
  CHECK(rebuilt == result.confusion_test);
  CHECK(result.best_epoch >= 1);
  CHECK(result.best_val_acc == result.curves[result.best_epoch - 1].val_acc);
}

TEST_CASE("every model family trains a step on real data", "[train][slow]") {
  for (const std::string family : {"linear", "cnn", "resnet"}) {
    auto config = small(family);
    config.epochs = 1;
    config.train_limit = 3000;
    config.augment_shift = 2;
    config.augment_flip = true;
    config.augment_erase = 0.5;
    const auto result = run(config);
    INFO(family << " test accuracy " << result.final_test_acc);
    CHECK(result.final_test_acc > 0.2);  // twice chance after one short epoch: it learns
  }
}

TEST_CASE("the same seed and thread count give bitwise-identical curves", "[train][slow]") {
  auto config = small("mlp");
  config.dropout = 0.2;
  config.augment_shift = 2;
  config.augment_erase = 0.3;
  const auto a = run(config);
  const auto b = run(config);
  config.seed = 1;
  const auto c = run(config);
  for (size_t e = 0; e < a.curves.size(); ++e) {
    CHECK(a.curves[e].train_loss == b.curves[e].train_loss);
    CHECK(a.curves[e].val_loss == b.curves[e].val_loss);
    CHECK(a.curves[e].test_acc == b.curves[e].test_acc);
  }
  CHECK(a.confusion_test == b.confusion_test);
  CHECK(a.curves[0].train_loss != c.curves[0].train_loss);
}

TEST_CASE("a diverging run stops with the epoch and step", "[train][slow]") {
  auto config = small("mlp");
  config.normalize = "none";  // raw 0..255 inputs
  config.lr = 50;
  config.epochs = 2;
  try {
    run(config);
    FAIL("expected DivergedError");
  } catch (const ablate::DivergedError& error) {
    CHECK(error.epoch() == 1);
    CHECK(error.step() >= 1);
    CHECK(std::string(error.what()).rfind("diverged at epoch 1, step ", 0) == 0);
  }
}

TEST_CASE("L2 penalty shrinks the weights", "[train][slow]") {
  auto config = small("linear");
  config.epochs = 1;
  const auto plain_model = [&] {
    torch::nn::Sequential model;
    ablate::TrainContext context;
    context.trained_model = &model;
    ablate::train(config, real_data(), context);
    double norm = 0;
    for (const auto& p : model->parameters())
      if (p.dim() > 1) norm += p.square().sum().item<double>();
    return norm;
  };
  const double without = plain_model();
  config.l2 = 0.01;
  const double with = plain_model();
  CHECK(with < 0.8 * without);
}

TEST_CASE("bf16 autocast trains every model family on the CPU to a sane accuracy", "[train][precision][slow]") {
  auto config = small("mlp");
  config.precision = "bf16";
  const auto mlp = run(config);
  CHECK(mlp.final_test_acc > 0.70);  // fp32 reaches ~0.8 here; chance is 0.10
  CHECK(mlp.curves[1].train_loss < mlp.curves[0].train_loss);
  for (const std::string family : {"cnn", "resnet"}) {  // convolutions and BatchNorm under autocast
    auto conv = small(family);
    conv.precision = "bf16";
    conv.epochs = 1;
    conv.train_limit = 2000;
    const auto result = run(conv);
    INFO(family << " test accuracy " << result.final_test_acc);
    CHECK(result.final_test_acc > 0.2);
  }
}

TEST_CASE("bf16 changes the arithmetic, tf32 and cuda_graphs leave a CPU run's bits alone", "[train][precision][slow]") {
  // The CPU has no TF32 path and no CUDA graphs: those keys must not change a CPU
  // result, while bf16 must (else autocast never took effect).
  auto config = small("mlp");
  config.epochs = 1;
  const auto fp32 = run(config);
  config.precision = "tf32";
  const auto tf32 = run(config);
  config.precision = "fp32";
  config.cuda_graphs = false;
  const auto eager = run(config);
  config.precision = "bf16";
  config.cuda_graphs = true;
  const auto bf16 = run(config);
  CHECK(tf32.curves[0].train_loss == fp32.curves[0].train_loss);
  CHECK(tf32.confusion_test == fp32.confusion_test);
  CHECK(eager.curves[0].train_loss == fp32.curves[0].train_loss);
  CHECK(eager.confusion_test == fp32.confusion_test);
  CHECK(bf16.curves[0].train_loss != fp32.curves[0].train_loss);
  CHECK(bf16.curves[0].train_loss == Approx(fp32.curves[0].train_loss).epsilon(0.05));
}

TEST_CASE("an epoch on the CPU runs with the host-sync check on", "[train][slow]") {
  // The check itself bites only on CUDA (test_cuda.cpp); here it must be harmless.
  auto config = small("mlp");
  config.epochs = 1;
  ablate::set_torch_threads(2);
  ablate::TrainContext context;
  context.forbid_host_sync = true;
  const auto checked = ablate::train(config, real_data(), context);
  CHECK(checked.curves[0].train_loss == run(config).curves[0].train_loss);
}

TEST_CASE("the clean-train-accuracy subset: seeded, sorted, distinct, at most 10,000 images", "[train]") {
  const auto a = ablate::train_eval_subset(3, 55000);
  REQUIRE(a.size() == 10000);
  CHECK(std::is_sorted(a.begin(), a.end()));
  CHECK(std::adjacent_find(a.begin(), a.end()) == a.end());  // sorted and no neighbour equal: distinct
  CHECK(a.front() >= 0);
  CHECK(a.back() < 55000);
  CHECK(ablate::train_eval_subset(3, 55000) == a);  // the same every time (every epoch, every resume)
  const auto b = ablate::train_eval_subset(4, 55000);
  CHECK(b != a);
  // Drawn from the whole split, not its start: about 10000 * 27500 / 55000 = 5000 below the middle
  // (standard deviation ~ 47), and two seeds share about 10000 * 10000 / 55000 = 1818 images (~ 37).
  const auto below_middle = std::count_if(a.begin(), a.end(), [](int64_t i) { return i < 27500; });
  CHECK(std::abs(below_middle - 5000) < 300);
  std::vector<int64_t> shared;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(shared));
  CHECK(std::abs(static_cast<int64_t>(shared.size()) - 1818) < 250);
  // No more images than the split has: then all of them, in order.
  for (int64_t n : {0, 1, 4000, 10000}) {
    const auto all = ablate::train_eval_subset(3, n);
    REQUIRE(static_cast<int64_t>(all.size()) == n);
    for (int64_t i = 0; i < n; ++i) CHECK(all[static_cast<size_t>(i)] == i);
  }
  CHECK(ablate::train_eval_subset(3, 10001).size() == 10000);
  CHECK_THROWS_AS(ablate::train_eval_subset(3, -1), std::invalid_argument);
}

TEST_CASE("train_eval_acc is the trained model's accuracy on the seeded subset, in eval mode", "[train][slow]") {
  auto config = small("mlp");
  config.hidden = {64};
  config.train_limit = 12000;  // more than the subset: a real choice of 10,000 images
  config.epochs = 1;
  config.dropout = 0.5;        // the running train accuracy sees dropout and augmentation, the clean one neither
  config.augment_shift = 2;
  config.augment_erase = 0.5;
  config.seed = 5;
  ablate::set_torch_threads(2);
  torch::nn::Sequential model;
  ablate::TrainContext context;
  context.trained_model = &model;
  const auto result = ablate::train(config, real_data(), context);
  REQUIRE(result.curves.size() == 1);
  const auto& row = result.curves[0];

  // By hand: the same splits, the subset's rows, the trained model in eval mode.
  const auto splits = ablate::make_splits(real_data(), config, torch::kCPU);
  REQUIRE(splits.train.size() == 12000);
  const auto rows = ablate::train_eval_subset(static_cast<uint64_t>(config.seed), splits.train.size());
  const auto index = torch::tensor(rows, torch::kInt64);
  torch::NoGradGuard no_grad;
  model->eval();
  const auto images = splits.train.images.index_select(0, index);
  const auto labels = splits.train.labels.index_select(0, index);
  const auto logits = model->forward(images);
  const double correct = (logits.argmax(1) == labels).sum().item<double>();
  const double loss = torch::nn::functional::cross_entropy(logits, labels).item<double>();
  CHECK(row.train_eval_acc == Approx(correct / 10000.0).margin(2e-4));  // a tie or two may round otherwise
  CHECK(row.train_eval_loss == Approx(loss).epsilon(1e-5));
  // Dropout at 0.5 and augmentation pull the running mean well below the clean accuracy.
  INFO("running " << row.train_acc << ", clean " << row.train_eval_acc);
  CHECK(row.train_eval_acc > row.train_acc + 0.02);
  CHECK(row.train_eval_acc < 1.0);
}

TEST_CASE("eval_flip averages each image's and its mirror's probabilities, and training is unchanged", "[train][slow]") {
  auto config = small("cnn");
  config.epochs = 1;
  config.augment_flip = true;  // a model that has seen mirrored images
  config.seed = 3;
  ablate::set_torch_threads(2);
  auto train_with = [&](bool eval_flip, torch::nn::Sequential& model) {
    auto c = config;
    c.eval_flip = eval_flip;
    ablate::TrainContext context;
    context.trained_model = &model;
    return ablate::train(c, real_data(), context);
  };
  torch::nn::Sequential plain_model, flip_model;
  const auto plain = train_with(false, plain_model);
  const auto flipped = train_with(true, flip_model);
  REQUIRE(plain.curves.size() == 1);
  REQUIRE(flipped.curves.size() == 1);

  // The same training, bit for bit: eval_flip touches no generator and no weight.
  CHECK(flipped.curves[0].train_loss == plain.curves[0].train_loss);
  CHECK(flipped.curves[0].train_acc == plain.curves[0].train_acc);
  const auto plain_parameters = plain_model->parameters(), flip_parameters = flip_model->parameters();
  for (size_t i = 0; i < plain_parameters.size(); ++i) CHECK(torch::equal(plain_parameters[i], flip_parameters[i]));

  // By hand: the test set's class probabilities averaged with its mirror's.
  const auto splits = ablate::make_splits(real_data(), config, torch::kCPU);
  torch::NoGradGuard no_grad;
  flip_model->eval();
  const auto& test = splits.test;
  const auto logits = flip_model->forward(test.images);
  const auto mirrored_logits = flip_model->forward(test.images.flip({3}));
  const auto probability = (torch::softmax(logits, 1) + torch::softmax(mirrored_logits, 1)) / 2;
  const auto predicted = probability.argmax(1);
  const double accuracy = (predicted == test.labels).to(torch::kFloat64).mean().item<double>();
  const double loss = -probability.gather(1, test.labels.unsqueeze(1)).log().mean().item<double>();
  CHECK(flipped.curves[0].test_acc == Approx(accuracy).margin(2e-4));  // a tie or two may round otherwise
  CHECK(flipped.curves[0].test_loss == Approx(loss).epsilon(1e-5));
  REQUIRE(flipped.test_predictions.size() == 10000);
  int64_t same = 0;
  for (int64_t i = 0; i < 10000; ++i)
    same += flipped.test_predictions[static_cast<size_t>(i)] == predicted[i].item<int64_t>();
  CHECK(same >= 9998);
  // The average is not the plain evaluation: the mirror's votes change some answers.
  INFO("plain test acc " << plain.curves[0].test_acc << ", with its mirror " << flipped.curves[0].test_acc);
  CHECK(flipped.curves[0].test_loss != plain.curves[0].test_loss);
  CHECK(flipped.test_predictions != plain.test_predictions);
}
