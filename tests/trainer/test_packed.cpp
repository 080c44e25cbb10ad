// Packed training (trainer/packed/): each member of a pack computes what it
// computes alone. First step: loss and gradients equal to 1e-6 relative. Whole
// runs: the lone curve, final test accuracy within 0.15 points. A diverging
// member fails alone; members resume from checkpoints in the lone format.
#include "tests/trainer/torch_catch.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "trainer/checkpoint.hpp"
#include "trainer/dataset.hpp"
#include "trainer/device.hpp"
#include "trainer/models.hpp"
#include "trainer/optim.hpp"
#include "trainer/packed/fused_sgd.hpp"
#include "trainer/packed/pack_data.hpp"
#include "trainer/packed/packed_evaluation.hpp"
#include "trainer/packed/packed_loss.hpp"
#include "trainer/packed/packed_model.hpp"
#include "trainer/packed/packed_optimizer.hpp"
#include "trainer/train.hpp"
#include "trainer/test_time_flip.hpp"
#include "trainer/train_eval_subset.hpp"
#include "trainer/trainer.hpp"

namespace {

const ablate::FashionMnist& real_data() {
  static const ablate::FashionMnist data = ablate::load_fashion_mnist("");
  return data;
}

// Four members of one shape that differ in everything else a pack lets differ.
std::vector<ablate::TrainConfig> mixed_members(const std::string& model) {
  ablate::TrainConfig base;
  base.model = model;
  base.train_limit = 5000;
  base.val_size = 1000;
  base.epochs = 3;
  base.batch_size = 100;
  base.batchnorm = model != "mlp";
  base.channels = {8, 16};
  base.fc_width = 32;
  base.resnet_width = 4;
  base.resnet_blocks = {1, 1};
  // Convolutional nets with BatchNorm magnify float rounding at high rates
  // (lr 0.05 with momentum 0.9 moves two lone runs on 1 and 2 threads apart by
  // points within an epoch); at these rates they do not.
  if (model != "mlp") base.lr = 0.02;
  std::vector<ablate::TrainConfig> members(4, base);
  members[0].seed = 0;
  members[1].seed = 1, members[1].lr = base.lr / 2, members[1].dropout = 0.3, members[1].label_smoothing = 0.1;
  members[2].seed = 2, members[2].weight_decay = 5e-4, members[2].augment_shift = 2, members[2].augment_flip = true,
  members[2].l2 = 1e-5, members[2].eval_flip = true;
  members[3].seed = 3, members[3].lr = base.lr * 0.6, members[3].momentum = 0.5, members[3].augment_erase = 0.5,
  members[3].dropout = 0.1, members[3].l1 = 1e-6, members[3].schedule = "constant";
  return members;
}

double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = std::max(b.norm().item<double>(), 1e-12);
  return (a - b).norm().item<double>() / scale;
}

// What train() adds up for one lone step: cross-entropy sum * 1/n + penalty.
torch::Tensor lone_loss(torch::nn::Sequential& model, const ablate::TrainConfig& config, const torch::Tensor& images,
                        const torch::Tensor& labels) {
  auto logits = model->forward(images);
  auto sum = torch::nn::functional::cross_entropy(
      logits, labels,
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum).label_smoothing(config.label_smoothing));
  auto loss = sum * (1.0 / static_cast<double>(images.size(0)));
  if (auto penalty = ablate::weight_penalty(ablate::penalised_weights(*model), config.l1, config.l2);
      penalty.defined())
    loss = loss + penalty;
  return loss;
}

}  // namespace

namespace {

// One first step of the four members of `family`, lone and packed, in `dtype`:
// losses and gradients within `tolerance` (relative, by norm); then the packed
// optimizer, given the lone gradients, updates each member as its lone
// optimizer does; BatchNorm's running statistics are each member's own.
void check_first_step(const std::string& family, const std::string& optimizer_kind, torch::Dtype dtype,
                      double tolerance) {
  INFO("family " << family << ", optimizer " << optimizer_kind << ", " << (dtype == torch::kFloat64 ? "float64" : "float32"));
  auto configs = mixed_members(family);
  for (auto& c : configs) c.optimizer = optimizer_kind;
  const int64_t n = 32;
  std::vector<torch::nn::Sequential> lones;
  std::vector<torch::Tensor> dropout_states, images, labels;
  for (const auto& config : configs) {
    ablate::seed_everything(static_cast<uint64_t>(config.seed));
    lones.push_back(ablate::build_model(config));
    lones.back()->to(dtype);
    dropout_states.push_back(at::detail::getDefaultCPUGenerator().get_state());
    images.push_back(torch::randn({n, 1, 28, 28}).to(dtype));
    labels.push_back(torch::randint(0, 10, {n}, torch::kInt64));
  }
  // The packed model copies the lone weights now, before the lone steps change them.
  std::vector<torch::Generator> generators;
  std::vector<double> dropout;
  ablate::PackedLossTerms terms;
  std::vector<double> lrs;
  for (size_t k = 0; k < configs.size(); ++k) {
    auto generator = at::detail::createCPUGenerator();
    generator.set_state(dropout_states[k]);
    generators.push_back(generator);
    dropout.push_back(configs[k].dropout);
    terms.label_smoothing.push_back(configs[k].label_smoothing);
    terms.l1.push_back(configs[k].l1);
    terms.l2.push_back(configs[k].l2);
    lrs.push_back(configs[k].lr);
  }
  ablate::PackedModel packed(lones, lones[1], dropout, generators, torch::kCPU);
  ablate::PackedOptimizer packed_optimizer(packed.parameters(), configs);
  auto packed_losses =
      ablate::packed_loss(packed.forward(torch::stack(images)), torch::stack(labels), terms, packed.penalised_weights());
  packed_optimizer.zero_grad();
  packed_losses.sum().backward();
  std::vector<torch::Tensor> packed_gradients;
  for (const auto& p : packed.parameters()) packed_gradients.push_back(p.grad().clone());

  std::vector<std::vector<torch::Tensor>> lone_gradients(packed_gradients.size());
  for (size_t k = 0; k < configs.size(); ++k) {
    INFO("member " << k);
    auto& lone = lones[k];
    lone->train();
    {
      auto global = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(global.mutex());
      global.set_state(dropout_states[k]);  // the lone run's dropout stream
    }
    auto optimizer = ablate::make_optimizer(lone->parameters(), configs[k]);
    auto loss = lone_loss(lone, configs[k], images[k], labels[k]);
    CHECK(relative_difference(packed_losses[static_cast<int64_t>(k)].detach(), loss.detach()) < tolerance);
    optimizer->zero_grad();
    loss.backward();
    const auto parameters = lone->parameters();
    REQUIRE(parameters.size() == packed_gradients.size());
    for (size_t i = 0; i < parameters.size(); ++i) {
      INFO("parameter " << i);
      CHECK(relative_difference(packed_gradients[i][static_cast<int64_t>(k)], parameters[i].grad()) < tolerance);
      lone_gradients[i].push_back(parameters[i].grad().clone());
    }
    optimizer->step();
    const auto buffers = lone->buffers();
    for (size_t i = 0; i < buffers.size(); ++i)
      if (buffers[i].is_floating_point())
        CHECK(relative_difference(packed.buffers()[i][static_cast<int64_t>(k)], buffers[i]) < tolerance);
  }
  // The update from the very same gradients (Adam divides by each gradient's
  // size, so it would magnify the last bits of gradients summed in another order).
  for (size_t i = 0; i < packed.parameters().size(); ++i)
    packed.parameters()[i].mutable_grad() = torch::stack(lone_gradients[i]);
  packed_optimizer.step(lrs);
  for (size_t k = 0; k < configs.size(); ++k) {
    const auto parameters = lones[k]->parameters();
    for (size_t i = 0; i < parameters.size(); ++i) {
      INFO("member " << k << ", parameter " << i << " after the step");
      CHECK(relative_difference(packed.parameters()[i][static_cast<int64_t>(k)].detach(), parameters[i].detach()) <
            1e-6);
    }
  }
}

}  // namespace

// In float64 the packed and lone sums differ only in the last bits, so 1e-6 is
// far above rounding and far below any real difference; in float32 a grouped
// convolution sums ~25,000 products in another order than a lone one, which
// moves gradients by a few 1e-6.
namespace {

// Three steps of a packed SGD over two stacks (one contiguous, one laid out as
// PackedModel lays out a linear weight) against torch::optim::SGD per member.
void check_sgd_steps_bit_for_bit(torch::Dtype dtype, bool nesterov) {
  std::vector<ablate::TrainConfig> configs(3);
  const std::vector<double> lrs{0.05, 0.01, 0.1};
  for (auto& c : configs) c.optimizer = "sgd", c.nesterov = nesterov;
  configs[0].momentum = 0.9, configs[0].weight_decay = 5e-4;
  configs[1].momentum = nesterov ? 0.3 : 0.0, configs[1].weight_decay = 0;  // lone nesterov needs momentum
  configs[2].momentum = 0.5, configs[2].weight_decay = 1e-3;
  torch::manual_seed(7);
  const auto options = torch::TensorOptions().dtype(dtype);
  // Odd sizes: the vectorised loops' tails too.
  std::vector<torch::Tensor> stacks{torch::randn({3, 37, 11}, options),
                                    torch::randn({3, 300, 5}, options).transpose(1, 2)};
  std::vector<std::vector<torch::Tensor>> lone_parameters(3);
  std::vector<std::unique_ptr<torch::optim::SGD>> lone_optimizers;
  for (size_t k = 0; k < 3; ++k) {
    for (const auto& stack : stacks) lone_parameters[k].push_back(stack[static_cast<int64_t>(k)].clone().requires_grad_(true));
    lone_optimizers.push_back(std::make_unique<torch::optim::SGD>(
        lone_parameters[k], torch::optim::SGDOptions(lrs[k])
                                .momentum(configs[k].momentum)
                                .weight_decay(configs[k].weight_decay)
                                .nesterov(nesterov)));
  }
  for (auto& stack : stacks) stack.requires_grad_(true);
  ablate::PackedOptimizer packed(stacks, configs);
  for (int step = 0; step < 3; ++step) {
    for (size_t i = 0; i < stacks.size(); ++i) {
      auto grad = torch::empty_like(stacks[i]).copy_(torch::randn(stacks[i].sizes(), options));
      REQUIRE(ablate::can_fuse_sgd(stacks[i], grad, torch::zeros_like(stacks[i])));
      stacks[i].mutable_grad() = grad;
      for (size_t k = 0; k < 3; ++k) lone_parameters[k][i].mutable_grad() = grad[static_cast<int64_t>(k)].clone();
    }
    packed.step(lrs);
    for (auto& lone : lone_optimizers) lone->step();
    for (size_t k = 0; k < 3; ++k)
      for (size_t i = 0; i < stacks.size(); ++i) {
        INFO("step " << step << ", member " << k << ", stack " << i);
        CHECK(torch::equal(stacks[i][static_cast<int64_t>(k)].detach(), lone_parameters[k][i].detach()));
      }
  }
}

}  // namespace

// The CPU's fused step (fused_sgd.cpp) rounds as ATen's kernels round the lone step.
TEST_CASE("the packed SGD step is each member's lone torch::optim::SGD step, bit for bit", "[packed]") {
  for (const auto dtype : {torch::kFloat32, torch::kFloat64})
    for (const bool nesterov : {false, true}) {
      INFO("dtype " << dtype << ", nesterov " << nesterov);
      check_sgd_steps_bit_for_bit(dtype, nesterov);
    }
}

TEST_CASE("a pack's data gives each member the images and labels of its lone splits, bit for bit", "[packed]") {
  // Seeds 0 and 1 differ in their splits; normalisations in their statistics.
  auto members = mixed_members("mlp");
  members[1].normalize = "unit";
  members[3].normalize = "none";
  ablate::PackData data(real_data(), members, torch::kCPU);
  std::vector<ablate::DataSplits> lone;
  for (const auto& config : members) lone.push_back(ablate::make_splits(real_data(), config, torch::kCPU));
  const auto K = static_cast<int64_t>(members.size());
  REQUIRE(data.train_size() == lone[0].train.size());

  // A training batch at positions that differ by member.
  auto positions = torch::stack({torch::arange(0, 50), torch::arange(100, 150), torch::arange(4950, 5000),
                                 torch::randperm(5000, torch::kInt64).slice(0, 0, 50)});
  const auto batch = data.train_batch(positions);
  for (int64_t k = 0; k < K; ++k) {
    INFO("member " << k);
    const auto& split = lone[static_cast<size_t>(k)];
    CHECK(data.background(static_cast<size_t>(k)) == split.background);
    CHECK(torch::equal(batch.images[k], split.train.images.index_select(0, positions[k])));
    CHECK(torch::equal(batch.labels[k], split.train.labels.index_select(0, positions[k])));
  }
  // Evaluation batches of each split, where the lone run's images are its own.
  using Split = ablate::PackData::Split;
  for (const Split which : {Split::val, Split::test, Split::train_eval}) {
    const auto val = data.eval_batch(which, 200, 700);
    for (int64_t k = 0; k < K; ++k) {
      INFO("member " << k << ", split " << static_cast<int>(which));
      const auto& split = lone[static_cast<size_t>(k)];
      ablate::TensorSplit expected = which == Split::val ? split.val : split.test;
      if (which == Split::train_eval) {
        const auto positions_in_train = ablate::train_eval_subset(static_cast<uint64_t>(members[k].seed), 5000);
        const auto rows = torch::tensor(positions_in_train, torch::kInt64);
        expected = ablate::TensorSplit{split.train.images.index_select(0, rows), split.train.labels.index_select(0, rows)};
      }
      CHECK(torch::equal(val.images[k], expected.images.slice(0, 200, 700)));
      CHECK(torch::equal(val.labels[k], expected.labels.slice(0, 200, 700)));
    }
  }
  // A pack that shrinks keeps the others' data.
  data.keep_members({1, 3});
  const auto kept = data.eval_batch(Split::val, 0, 10);
  CHECK(torch::equal(kept.images[1], lone[3].val.images.slice(0, 0, 10)));
  CHECK(data.background(0) == lone[1].background);
}

TEST_CASE("a packed evaluation is each member's lone evaluation, with eval_flip or without", "[packed]") {
  ablate::set_torch_threads(2);
  auto configs = mixed_members("cnn");  // BatchNorm: each member's running statistics, in eval mode
  configs[0].eval_flip = configs[2].eval_flip = true;
  std::vector<torch::nn::Sequential> lones;
  std::vector<torch::Generator> generators;
  std::vector<double> dropout;
  std::vector<bool> flip;
  for (const auto& config : configs) {
    ablate::seed_everything(static_cast<uint64_t>(config.seed));
    lones.push_back(ablate::build_model(config));
    generators.push_back(at::detail::createCPUGenerator());
    dropout.push_back(config.dropout);
    flip.push_back(config.eval_flip);
  }
  ablate::PackedModel packed(lones, lones[1], dropout, generators, torch::kCPU);
  const ablate::PackData data(real_data(), configs, torch::kCPU);
  const auto evaluations =
      ablate::evaluate_members(packed, data, ablate::PackData::Split::val, flip, /*keep_predictions=*/true);

  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < configs.size(); ++k) {
    INFO("member " << k << (flip[k] ? ", eval_flip" : ""));
    const auto val = ablate::make_splits(real_data(), configs[k], torch::kCPU).val;
    auto& lone = lones[k];
    lone->eval();
    const auto logits = lone->forward(val.images);
    const auto plain = torch::log_softmax(logits, 1);
    const auto averaged = ablate::flip_averaged_log_probabilities(logits, lone->forward(ablate::mirrored(val.images)));
    const auto& log_probability = flip[k] ? averaged : plain;
    const auto predicted = log_probability.argmax(1);
    const auto& e = evaluations[k];
    CHECK(e.loss == Approx(torch::nll_loss(log_probability, val.labels).item<double>()).epsilon(1e-5));
    CHECK(e.accuracy == Approx((predicted == val.labels).to(torch::kFloat64).mean().item<double>()).margin(2e-3));
    REQUIRE(e.predictions.size() == 1000);
    int64_t same = 0;
    for (int64_t i = 0; i < 1000; ++i) same += e.predictions[static_cast<size_t>(i)] == predicted[i].item<int64_t>();
    CHECK(same >= 998);  // a near-tie may round the other way in a grouped convolution
    // The mirror's probabilities count: averaging them moves the loss.
    CHECK(std::abs(torch::nll_loss(averaged, val.labels).item<double>() -
                   torch::nll_loss(plain, val.labels).item<double>()) > 1e-4);
  }
}

TEST_CASE("a packed step computes each member's lone loss, gradients and update", "[packed]") {
  ablate::set_torch_threads(2);
  for (const std::string family : {"mlp", "cnn", "resnet"}) {
    check_first_step(family, "sgd", torch::kFloat64, 1e-6);
    check_first_step(family, "sgd", torch::kFloat32, 3e-5);
  }
  check_first_step("mlp", "adam", torch::kFloat64, 1e-6);
  check_first_step("cnn", "adamw", torch::kFloat64, 1e-6);
}

namespace {

struct PackRun {
  std::vector<ablate::PackMemberOutcome> outcomes;
  std::vector<std::vector<ablate::EpochMetrics>> rows;  // as reported, per member
};

PackRun run_pack(const std::vector<ablate::TrainConfig>& configs, const std::vector<std::string>& checkpoints = {},
                 int interrupt_after_epoch = 0) {
  ablate::DeviceRequest request;
  request.kind = "cpu";
  request.threads = 1;
  PackRun run;
  run.outcomes.resize(configs.size());
  run.rows.resize(configs.size());
  std::vector<ablate::PackMember> members;
  for (size_t k = 0; k < configs.size(); ++k) {
    ablate::PackMember m;
    m.config = configs[k];
    m.on_epoch = [&run, k, interrupt_after_epoch](const ablate::EpochMetrics& row) {
      run.rows[k].push_back(row);
      if (interrupt_after_epoch > 0 && row.epoch == interrupt_after_epoch) throw std::runtime_error("stop here");
      return ablate::EpochVerdict::go_on;
    };
    if (!checkpoints.empty()) m.checkpoint.path = checkpoints[k];
    members.push_back(m);
  }
  ablate::train_pack(members, real_data(), request,
                     [&run](size_t k, ablate::PackMemberOutcome outcome) { run.outcomes[k] = std::move(outcome); });
  return run;
}

ablate::TrainResult run_alone(const ablate::TrainConfig& config) {
  ablate::DeviceRequest request;
  request.kind = "cpu";
  request.threads = 1;
  return ablate::train_config(config, real_data(), request);
}

// Epochs on the way may wander by rounding (a BatchNorm net at its peak rate
// does so between two lone runs on 1 and 2 threads too); the end may not.
void check_same_curve(const ablate::TrainResult& packed, const ablate::TrainResult& lone,
                      double final_tolerance = 0.0015) {
  REQUIRE(packed.curves.size() == lone.curves.size());
  for (size_t e = 0; e < lone.curves.size(); ++e) {
    INFO("epoch " << e + 1);
    CHECK(std::abs(packed.curves[e].train_loss - lone.curves[e].train_loss) < 0.03 * lone.curves[e].train_loss);
    CHECK(std::abs(packed.curves[e].val_acc - lone.curves[e].val_acc) <= 0.02);
    CHECK(std::abs(packed.curves[e].train_eval_acc - lone.curves[e].train_eval_acc) <= 0.02);
    CHECK(packed.curves[e].lr == Approx(lone.curves[e].lr));
  }
  CHECK(std::abs(packed.final_test_acc - lone.final_test_acc) <= final_tolerance);
  CHECK(packed.parameter_count == lone.parameter_count);
  CHECK(packed.epochs_trained == lone.epochs_trained);
}

// Every member's confusion matrix and test predictions are its own and agree.
void check_member_outputs(const ablate::TrainResult& r) {
  REQUIRE(r.test_predictions.size() == 10000);
  std::vector<int64_t> rebuilt(100, 0);
  for (size_t i = 0; i < 10000; ++i) ++rebuilt[real_data().test.labels[i] * 10 + r.test_predictions[i]];
  CHECK(rebuilt == r.confusion_test);
  int64_t val_total = 0;
  for (auto count : r.confusion_val) val_total += count;
  CHECK(val_total == 1000);
  REQUIRE(r.per_class_acc.size() == 10);
}

// Float32 sums in another order (a grouped convolution, a batched matmul)
// move a curve by rounding noise only; the configurations are ones whose
// training does not magnify it (lone runs of them on other thread counts agree as closely).
void check_pack_follows_lone_curves(const std::string& family, double final_tolerance) {
  const auto configs = mixed_members(family);
  const PackRun packed = run_pack(configs);
  for (size_t k = 0; k < configs.size(); ++k) {
    INFO("family " << family << ", member " << k);
    REQUIRE_FALSE(packed.outcomes[k].failed);
    const auto& result = packed.outcomes[k].result;
    const auto lone = run_alone(configs[k]);
    check_same_curve(result, lone, final_tolerance);
    check_member_outputs(result);
    if (std::getenv("ABLATE_PACKED_NOISE")) {  // the noise floor: the lone run on another thread count
      ablate::set_torch_threads(2);
      ablate::TrainContext context;
      const auto other = ablate::train(configs[k], real_data(), context);
      std::printf("%s member %zu: |packed - lone| %.4f, |lone 2 threads - lone 1 thread| %.4f (final test acc)\n",
                  family.c_str(), k, std::abs(result.final_test_acc - lone.final_test_acc),
                  std::abs(other.final_test_acc - lone.final_test_acc));
    }
    CHECK(packed.rows[k].size() == result.curves.size());
  }
  // The members differ: each has its own predictions.
  CHECK(packed.outcomes[0].result.test_predictions != packed.outcomes[1].result.test_predictions);
}

}  // namespace

TEST_CASE("each member of a packed MLP follows its lone curve", "[packed][slow]") {
  check_pack_follows_lone_curves("mlp", 0.0015);  // 0.15 points
}

TEST_CASE("each member of a packed CNN with BatchNorm follows its lone curve", "[packed][slow]") {
  check_pack_follows_lone_curves("cnn", 0.0015);
}

// Seen (2026-11-30): ResNet members end 0.10, 0.19, 0.01 and 0.00 points from
// their lone runs, where the same lone runs on 1 and 2 threads end 0.08, 0.14,
// 0.04 and 0.02 apart: the 0.15 holds for the MLP and the CNN, and for
// the ResNet only as closely as two lone runs agree with each other.
TEST_CASE("each member of a packed ResNet follows its lone curve", "[packed][slow]") {
  check_pack_follows_lone_curves("resnet", 0.005);
}

TEST_CASE("a diverging member fails alone, the others' curves are unchanged", "[packed][slow]") {
  auto configs = mixed_members("mlp");
  configs.resize(3);
  configs[1].lr = 50;
  configs[1].normalize = "none";  // raw 0..255 inputs with lr 50: the loss overflows at once
  const PackRun packed = run_pack(configs);
  CHECK(packed.outcomes[1].failed);
  CHECK(packed.outcomes[1].error.find("diverged") != std::string::npos);
  for (size_t k : {size_t{0}, size_t{2}}) {
    INFO("member " << k);
    REQUIRE_FALSE(packed.outcomes[k].failed);
    check_same_curve(packed.outcomes[k].result, run_alone(configs[k]));
  }
}

TEST_CASE("an interrupted pack resumes each member from its checkpoint, in the lone format", "[packed][slow]") {
  auto configs = mixed_members("cnn");
  configs.resize(2);
  // mkdtemp and unlink, not std::filesystem: libtorch.so carries its own copy of
  // it, and remove_all resolved there crashes (see orchestrator/checkpoint_files.cpp).
  char directory_template[] = "/tmp/ablate_packed_XXXXXX";
  const std::string directory = ::mkdtemp(directory_template);
  const std::vector<std::string> paths{directory + "/a.pt", directory + "/b.pt"};
  auto exists = [](const std::string& path) { return ::access(path.c_str(), F_OK) == 0; };

  const PackRun uninterrupted = run_pack(configs);
  // Stopped by an exception from member 0's callback after epoch 2 (as Interrupted does).
  CHECK_THROWS(run_pack(configs, paths, /*interrupt_after_epoch=*/2));
  CHECK(exists(paths[0]));
  CHECK(exists(paths[1]));
  const PackRun resumed = run_pack(configs, paths);
  for (size_t k = 0; k < configs.size(); ++k) {
    INFO("member " << k);
    REQUIRE_FALSE(resumed.outcomes[k].failed);
    const auto& r = resumed.outcomes[k].result;
    const auto& u = uninterrupted.outcomes[k].result;
    // The replayed rows come first, then the epochs trained after the checkpoint.
    REQUIRE(r.curves.size() == 3);
    CHECK(resumed.rows[k].size() == 3);
    for (size_t e = 0; e < 3; ++e) CHECK(r.curves[e].val_acc == u.curves[e].val_acc);
    CHECK(r.final_test_acc == u.final_test_acc);
    CHECK(r.test_predictions == u.test_predictions);
  }

  // A pack killed after its last epoch was reported (its members' ends not yet
  // recorded) ends from the checkpoints: every row replayed with the time of
  // the attempt that trained it, nothing trained again.
  const PackRun ended_again = run_pack(configs, paths);
  for (size_t k = 0; k < configs.size(); ++k) {
    INFO("member " << k);
    REQUIRE_FALSE(ended_again.outcomes[k].failed);
    const auto& r = ended_again.outcomes[k].result;
    REQUIRE(ended_again.rows[k].size() == 3);
    for (size_t e = 0; e < 3; ++e) CHECK(ended_again.rows[k][e].epoch_seconds == resumed.rows[k][e].epoch_seconds);
    CHECK(r.epochs_trained == 3);
    CHECK(r.final_test_acc == resumed.outcomes[k].result.final_test_acc);
    CHECK(r.test_predictions == resumed.outcomes[k].result.test_predictions);
  }

  // A member's checkpoint is a lone point's: train_config goes on from it.
  for (const auto& path : paths) ::unlink(path.c_str());
  CHECK_THROWS(run_pack(configs, paths, /*interrupt_after_epoch=*/2));
  ablate::DeviceRequest request;
  request.kind = "cpu";
  request.threads = 2;
  std::vector<std::string> warnings;
  ablate::CheckpointRequest checkpoint{paths[0], [&](const std::string& why) { warnings.push_back(why); }};
  int first_reported = 0;
  const auto alone = ablate::train_config(configs[0], real_data(), request,
                                          [&](const ablate::EpochMetrics& row) {
                                            if (first_reported == 0) first_reported = row.epoch;
                                            return ablate::EpochVerdict::go_on;
                                          },
                                          checkpoint);
  CHECK(warnings.empty());
  CHECK(first_reported == 1);  // the replayed rows
  CHECK(alone.curves[1].val_acc == uninterrupted.outcomes[0].result.curves[1].val_acc);
  CHECK(std::abs(alone.final_test_acc - uninterrupted.outcomes[0].result.final_test_acc) <= 0.0015);
  for (const auto& path : paths) ::unlink(path.c_str());
  ::rmdir(directory.c_str());
}
