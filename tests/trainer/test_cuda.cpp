// Tests of the trainer on a GPU ([cuda]): the step matches the CPU's, augmentation's
// tensor path equals the CPU pass, checkpoints resume, an epoch never waits for the
// device, CUDA graphs and precisions train, NCCL communicators of one and two ranks.
// Without a usable GPU every test prints "SKIPPED: <why>" and passes (ctest reads
// that line as a skip). Run by gpu-bundle/gpu-check.sh; the [nccl2] test needs
// `mpirun -np 2`.
#include <mpi.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <unistd.h>

#include "tests/trainer/torch_catch.hpp"

#include "trainer/augment.hpp"
#include "trainer/dataset.hpp"
#include "trainer/device.hpp"
#include "trainer/models.hpp"
#include "trainer/nccl_reducer.hpp"
#include "trainer/optim.hpp"
#include "trainer/precision.hpp"
#include "trainer/step_graph.hpp"
#include "trainer/train.hpp"

namespace {

const torch::Device kGpu(torch::kCUDA, 0);

// True (after saying why) when this machine cannot run the test.
bool skipped_without_gpu() {
  if (ablate::cuda_available()) return false;
  std::cout << "SKIPPED: no usable CUDA device ("
            << (ablate::cuda_compiled_in() ? "CUDA is compiled in" : "this build has no CUDA") << ")\n";
  return true;
}

const ablate::FashionMnist& real_data() {
  static const ablate::FashionMnist data = ablate::load_fashion_mnist("");
  return data;
}

ablate::TrainConfig small_mlp() {
  ablate::TrainConfig config;
  config.hidden = {128, 64};
  config.train_limit = 2000;  // 15 full batches of 128 and a last one of 80
  config.val_size = 500;
  config.epochs = 3;
  config.batch_size = 128;
  config.dropout = 0.2;
  config.augment_shift = 2;
  config.augment_flip = true;
  config.augment_erase = 0.5;
  config.seed = 3;
  return config;
}

struct Run {
  ablate::TrainResult result;
  std::vector<torch::Tensor> weights;  // parameters and buffers, on the CPU
  bool stopped = false;
};

struct StopAfterEpoch {};

Run train_on(const torch::Device& device, const ablate::TrainConfig& config, ablate::GradientReducer* reducer = nullptr,
             const std::string& checkpoint = "", int stop_after = 0, bool forbid_host_sync = false) {
  Run run;
  torch::nn::Sequential model;
  ablate::TrainContext context;
  context.device = device;
  context.reducer = reducer;
  context.trained_model = &model;
  context.checkpoint_path = checkpoint;
  context.forbid_host_sync = forbid_host_sync;
  try {
    run.result = ablate::train(config, real_data(), context, [&](const ablate::EpochMetrics& row) {
      if (row.epoch == stop_after) throw StopAfterEpoch{};
      return ablate::EpochVerdict::go_on;
    });
    for (const auto& p : model->parameters()) run.weights.push_back(p.detach().to(torch::kCPU));
    for (const auto& b : model->buffers()) run.weights.push_back(b.detach().to(torch::kCPU));
  } catch (const StopAfterEpoch&) {
    run.stopped = true;
  }
  return run;
}

double max_relative_difference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    auto x = a[i].to(torch::kCPU, torch::kFloat64), y = b[i].to(torch::kCPU, torch::kFloat64);
    const double scale = std::max(x.abs().max().item<double>(), 1e-12);
    worst = std::max(worst, (x - y).abs().max().item<double>() / scale);
  }
  return worst;
}

void require_close_curves(const ablate::TrainResult& a, const ablate::TrainResult& b, double tolerance) {
  REQUIRE(a.curves.size() == b.curves.size());
  for (size_t i = 0; i < a.curves.size(); ++i) {
    INFO("epoch " << a.curves[i].epoch);
    CHECK(a.curves[i].train_loss == Approx(b.curves[i].train_loss).epsilon(tolerance));
    CHECK(a.curves[i].val_loss == Approx(b.curves[i].val_loss).epsilon(tolerance));
    CHECK(a.curves[i].test_loss == Approx(b.curves[i].test_loss).epsilon(tolerance));
    CHECK(a.curves[i].lr == b.curves[i].lr);
  }
}

// MPI only for the NCCL tests, started on first use; main() finalizes it.
void ensure_mpi() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return;
  int provided = 0;
  REQUIRE(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) == MPI_SUCCESS);
}

}  // namespace

TEST_CASE("twenty SGD steps on the GPU give the CPU's weights to 1e-3 relative", "[cuda]") {
  if (skipped_without_gpu()) return;
  ablate::set_torch_threads(2);
  ablate::apply_float32_precision("fp32", kGpu);  // IEEE float32: TF32 keeps 10 mantissa bits
  ablate::TrainConfig config;
  config.model = "cnn";
  config.channels = {8, 16};
  config.fc_width = 32;
  config.batchnorm = true;
  const auto splits = ablate::make_splits(real_data(), config, torch::kCPU);
  std::vector<torch::Tensor> trained[2];
  for (int on_gpu = 0; on_gpu < 2; ++on_gpu) {
    const torch::Device device = on_gpu ? kGpu : torch::Device(torch::kCPU);
    ablate::seed_everything(11);
    auto model = ablate::build_model(config);  // the same initial weights on both
    model->to(device);
    auto optimizer = ablate::make_optimizer(model->parameters(), config);
    for (int64_t step = 0; step < 20; ++step) {
      auto images = splits.train.images.slice(0, step * 64, (step + 1) * 64).to(device);
      auto labels = splits.train.labels.slice(0, step * 64, (step + 1) * 64).to(device);
      auto loss = torch::nn::functional::cross_entropy(model->forward(images), labels);
      optimizer->zero_grad();
      loss.backward();
      optimizer->step();
    }
    for (const auto& p : model->parameters()) trained[on_gpu].push_back(p.detach().to(torch::kCPU));
    for (const auto& b : model->buffers()) trained[on_gpu].push_back(b.detach().to(torch::kCPU, torch::kFloat64));
  }
  CHECK(max_relative_difference(trained[0], trained[1]) <= 1e-3);  // cuDNN and oneDNN sum in different orders
}

TEST_CASE("a training on the GPU reaches the CPU's accuracy", "[cuda]") {
  if (skipped_without_gpu()) return;
  // Shuffling draws from each device's own generator, so the runs see the
  // images in different orders: equal accuracy, not equal bits.
  auto config = small_mlp();
  config.train_limit = 8000;
  const auto cpu = train_on(torch::kCPU, config);
  const auto gpu = train_on(kGpu, config);
  CHECK(gpu.result.final_test_acc > 0.75);
  CHECK(std::abs(gpu.result.final_test_acc - cpu.result.final_test_acc) < 0.03);
  CHECK(gpu.result.device.rfind("cuda:0", 0) == 0);
}

TEST_CASE("augmentation's tensor path on the GPU equals the CPU pass", "[cuda]") {
  if (skipped_without_gpu()) return;
  const auto splits = ablate::make_splits(real_data(), ablate::TrainConfig{}, torch::kCPU);
  auto images = splits.train.images.slice(0, 0, 512);
  ablate::AugmentOptions options;
  options.shift = 3;
  options.flip = true;
  options.erase = 0.5;
  options.fill = splits.background;
  auto generator = ablate::make_generator(torch::kCPU, 5);
  auto uniforms = torch::rand({ablate::kAugmentUniforms, images.size(0)}, generator, torch::kFloat64);
  const auto cpu_plan = ablate::plan_from_uniforms(uniforms, 28, 28, options);  // the per-image loop
  const auto gpu_plan = ablate::plan_from_uniforms(uniforms.to(kGpu), 28, 28, options);  // tensor ops
  CHECK(torch::equal(gpu_plan.to(torch::kCPU), cpu_plan));
  const auto cpu_out = ablate::apply_augmentation(images, cpu_plan, options.fill);  // one pass over the output
  const auto gpu_out = ablate::apply_augmentation(images.to(kGpu), cpu_plan.to(kGpu), options.fill);  // gather
  CHECK(torch::equal(gpu_out.to(torch::kCPU), cpu_out));
  // And augment_batch draws on the device it is given.
  auto gpu_generator = ablate::make_generator(kGpu, 5);
  const auto drawn = ablate::augment_batch(images.to(kGpu), options, gpu_generator);
  CHECK(drawn.device() == kGpu);
  CHECK(drawn.sizes() == images.sizes());
}

TEST_CASE("a run on the GPU resumed from its checkpoint ends like an uninterrupted one", "[cuda]") {
  if (skipped_without_gpu()) return;
  char dir[] = "/tmp/ablate_cuda_ckpt_XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string checkpoint = std::string(dir) + "/point.pt";
  const auto config = small_mlp();
  const auto whole = train_on(kGpu, config);
  REQUIRE(train_on(kGpu, config, nullptr, checkpoint, /*stop_after=*/1).stopped);
  const auto resumed = train_on(kGpu, config, nullptr, checkpoint);
  ::unlink(checkpoint.c_str());
  ::unlink((checkpoint + ".tmp").c_str());
  ::rmdir(dir);
  REQUIRE_FALSE(resumed.stopped);
  // The same kernels on the same data in the same order: equal up to the GPU's
  // run-to-run rounding (atomics in a few backward kernels).
  require_close_curves(resumed.result, whole.result, 1e-5);
  CHECK(max_relative_difference(resumed.weights, whole.weights) <= 1e-5);
}

TEST_CASE("the splits live on the GPU and an epoch never waits for it", "[cuda]") {
  if (skipped_without_gpu()) return;
  const auto splits = ablate::make_splits(real_data(), small_mlp(), kGpu);
  for (const auto* split : {&splits.train, &splits.val, &splits.test}) {
    CHECK(split->images.device() == kGpu);
    CHECK(split->labels.device() == kGpu);
  }
  // Any host synchronisation inside an epoch's steps throws (Torch's sync debug
  // mode as an error): gather by index, augmentation, dropout, the step and the
  // running sums all stay on the device.
  for (const std::string model : {"mlp", "cnn"}) {
    auto config = small_mlp();
    config.model = model;
    config.channels = {8, 16};
    config.epochs = 2;
    config.cuda_graphs = false;
    INFO(model);
    CHECK_NOTHROW(train_on(kGpu, config, nullptr, "", 0, /*forbid_host_sync=*/true));
  }
}

TEST_CASE("a captured step graph computes the eager step's gradients", "[cuda]") {
  if (skipped_without_gpu()) return;
  ablate::TrainConfig config;
  ablate::seed_everything(1);
  auto model = ablate::build_model(config);
  model->to(kGpu);
  auto parameters = model->parameters();
  auto optimizer = ablate::make_optimizer(parameters, config);
  auto body = [&](const torch::Tensor& images, const torch::Tensor& labels, int64_t) {
    ablate::StepOutputs out;
    out.logits = model->forward(images);
    out.loss_sum = torch::nn::functional::cross_entropy(
        out.logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    optimizer->zero_grad();
    out.loss_sum.backward();
    return out;
  };
  std::vector<std::string> warnings;
  ablate::StepGraph graph(body, parameters, kGpu, 64, /*enabled=*/true,
                          [&](const std::string& w) { warnings.push_back(w); });
  const auto splits = ablate::make_splits(real_data(), config, kGpu);
  for (int64_t step = 0; step < ablate::StepGraph::kWarmupSteps + 3; ++step) {
    auto images = splits.train.images.slice(0, step * 64, (step + 1) * 64);
    auto labels = splits.train.labels.slice(0, step * 64, (step + 1) * 64);
    const auto replayed = graph.run(images, labels, 64);
    const double replayed_loss = replayed.loss_sum.item<double>();
    std::vector<torch::Tensor> replayed_grads;
    for (const auto& p : parameters) replayed_grads.push_back(p.grad().clone());
    const auto eager = body(images, labels, 64);  // no optimizer step: the same weights
    INFO("step " << step);
    CHECK(replayed_loss == Approx(eager.loss_sum.item<double>()).epsilon(1e-6));
    std::vector<torch::Tensor> eager_grads;
    for (const auto& p : parameters) eager_grads.push_back(p.grad().clone());
    CHECK(max_relative_difference(replayed_grads, eager_grads) <= 1e-5);
  }
  CHECK(warnings.empty());
  CHECK(graph.captured());
  // A smaller batch runs eagerly, and the next full batch replays again.
  graph.run(splits.train.images.slice(0, 0, 10), splits.train.labels.slice(0, 0, 10), 10);
  const auto again = graph.run(splits.train.images.slice(0, 0, 64), splits.train.labels.slice(0, 0, 64), 64);
  const double again_loss = again.loss_sum.item<double>();
  CHECK(again_loss == Approx(body(splits.train.images.slice(0, 0, 64), splits.train.labels.slice(0, 0, 64), 64)
                                 .loss_sum.item<double>())
                          .epsilon(1e-6));
}

TEST_CASE("CUDA graphs train a point like the eager step", "[cuda]") {
  if (skipped_without_gpu()) return;
  auto config = small_mlp();
  SECTION("MLP with dropout and augmentation") {}
  SECTION("CNN with BatchNorm") {
    config.model = "cnn";
    config.channels = {8, 16};
    config.batchnorm = true;
  }
  config.cuda_graphs = false;
  const auto eager = train_on(kGpu, config);
  config.cuda_graphs = true;
  const auto graphed = train_on(kGpu, config);
  // Dropout draws the same Philox numbers in a replay; the kernels are the
  // same; only the library's choice of algorithm inside a capture may differ.
  require_close_curves(graphed.result, eager.result, 1e-4);
  CHECK(max_relative_difference(graphed.weights, eager.weights) <= 1e-4);
}

TEST_CASE("tf32 and bf16 train on the GPU to the fp32 accuracy", "[cuda]") {
  if (skipped_without_gpu()) return;
  auto config = small_mlp();
  config.train_limit = 8000;
  const auto fp32 = train_on(kGpu, config);
  for (const std::string precision : {"tf32", "bf16"}) {
    config.precision = precision;
    const auto run = train_on(kGpu, config);
    INFO(precision);
    CHECK(run.result.final_test_acc > 0.75);
    CHECK(std::abs(run.result.final_test_acc - fp32.result.final_test_acc) < 0.03);
  }
}

TEST_CASE("a one-rank NCCL communicator trains a point like no communicator", "[cuda][nccl]") {
  if (skipped_without_gpu()) return;
#ifndef ABLATE_NCCL
  std::cout << "SKIPPED: this build has no NCCL\n";
#else
  ensure_mpi();
  auto config = small_mlp();
  config.epochs = 2;
  const auto alone = train_on(kGpu, config);
  ablate::NcclReducer reducer(MPI_COMM_SELF, kGpu);
  REQUIRE(reducer.size() == 1);
  // Broadcast and sums over one rank change nothing.
  const auto with_nccl = train_on(kGpu, config, &reducer);
  require_close_curves(with_nccl.result, alone.result, 1e-6);
  CHECK(with_nccl.result.final_test_acc == alone.result.final_test_acc);
#endif
}

TEST_CASE("two ranks sharing one GPU through NCCL give one rank's weights to 1e-5 relative", "[cuda][nccl2]") {
  if (skipped_without_gpu()) return;
#ifndef ABLATE_NCCL
  std::cout << "SKIPPED: this build has no NCCL\n";
#else
  const int version = ablate::NcclReducer::runtime_version();
  if (version < 23000) {
    std::cout << "SKIPPED: NCCL " << version / 10000 << "." << version / 100 % 100 << "." << version % 100
              << " cannot put two ranks on one GPU (needs 2.30 or later with NCCL_MULTI_RANK_GPU_ENABLE=1)\n";
    return;
  }
  ensure_mpi();
  int world = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  if (world != 2) {
    std::cout << "SKIPPED: needs exactly two ranks (mpirun -np 2), has " << world << "\n";
    return;
  }
  ::setenv("NCCL_MULTI_RANK_GPU_ENABLE", "1", /*overwrite=*/0);
  auto config = small_mlp();
  config.dropout = 0;  // the replicas' dropout streams differ from one rank's
  config.augment_shift = 0, config.augment_flip = false, config.augment_erase = 0;
  config.train_limit = 50 * 64;
  config.batch_size = 64;
  config.epochs = 1;
  const auto reference = train_on(kGpu, config);
  ablate::NcclReducer reducer(MPI_COMM_WORLD, kGpu);
  const auto parallel = train_on(kGpu, config, &reducer);
  CHECK(max_relative_difference(reference.weights, parallel.weights) <= 1e-5);
#endif
}

int main(int argc, char** argv) {
  const int failures = Catch::Session().run(argc, argv);
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  int total = failures;
  if (initialized && !finalized) {
    // A failure on any rank fails the job.
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Finalize();
  }
  return total == 0 ? 0 : 1;
}
