// allreduce_bench: what data-parallel training pays for communication on this
// machine, measured with the trainer's own MpiReducer (bucketed MPI_Allreduce).
//
// 1. Bandwidth against message size: one float32 tensor of 4 KiB ... 64 MiB,
//    averaged over the ranks; per size the mean time of a call and the bus
//    bandwidth (algorithm bandwidth x 2(n-1)/n, as nccl-tests report it).
// 2. Step split: a training step of the study's MLP (2x256) and CNN (32-64-fc128)
//    on this rank's shard of a 128-image batch (128 / ranks images), with the
//    trainer's GradientSync in both modes: `after_backward` (forward + backward,
//    then every bucket's all-reduce) and `overlapped` (all-reduces launched from
//    backward hooks as buckets fill). compute_ms is forward + backward (with the
//    hooks' copies and launches), comm_ms what finish_step still waits for (the
//    communication not hidden behind backward), step_ms the two together.
// Run with mpirun -np 1 (K = 1: no communication) and -np 2. Rank 0 prints:
//   bench=allreduce ranks=2 bytes=4194304 us_per_call=... busbw_GBps=...
//   bench=step_split model=mlp mode=overlapped ranks=2 images_per_rank=64 compute_ms=... comm_ms=... step_ms=...
//   comm_fraction=... buckets=...
#include <mpi.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "core/config.hpp"
#include "trainer/device.hpp"
#include "trainer/gradient_sync.hpp"
#include "trainer/models.hpp"
#include "trainer/mpi_reducer.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Mean seconds per all-reduce of `bytes` of float32, after warm-up calls.
double time_allreduce(ablate::MpiReducer& reducer, int64_t bytes, int repeats) {
  std::vector<torch::Tensor> tensors{torch::ones({bytes / 4}, torch::kFloat32)};
  for (int i = 0; i < 3; ++i) reducer.allreduce_mean(tensors);
  MPI_Barrier(MPI_COMM_WORLD);
  const auto start = Clock::now();
  for (int i = 0; i < repeats; ++i) reducer.allreduce_mean(tensors);
  double seconds = seconds_since(start) / repeats;
  MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);  // the slowest rank's
  return seconds;
}

struct Split {
  double compute = 0, comm = 0;  // seconds per step
  size_t buckets = 0;
};

Split time_steps(const ablate::TrainConfig& config, ablate::MpiReducer& reducer, ablate::GradientSyncMode mode,
                 int steps) {
  torch::manual_seed(0);
  auto model = ablate::build_model(config);
  const int64_t images = 128 / reducer.size();
  auto batch = torch::randn({images, 1, 28, 28});
  auto labels = torch::randint(0, 10, {images}, torch::kInt64);
  const auto parameters = model->parameters();
  ablate::GradientSync sync(parameters, reducer, mode);
  Split total;
  total.buckets = sync.bucket_count();
  for (int step = -3; step < steps; ++step) {  // three warm-up steps
    MPI_Barrier(MPI_COMM_WORLD);  // every rank starts the step together
    const auto start = Clock::now();
    for (auto& p : parameters) p.mutable_grad() = torch::Tensor();
    auto loss = torch::nn::functional::cross_entropy(model->forward(batch), labels);
    sync.begin_step();
    loss.backward();
    const double compute = seconds_since(start);
    const auto comm_start = Clock::now();
    sync.finish_step();
    const double comm = seconds_since(comm_start);
    if (step >= 0) total.compute += compute, total.comm += comm;
  }
  total.compute /= steps, total.comm /= steps;
  MPI_Allreduce(MPI_IN_PLACE, &total.compute, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &total.comm, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  CLI::App app{"all-reduce bandwidth and the compute/communication split of a step"};
  int threads = 1, steps = 30, repeats = 20;
  int64_t max_bytes = 64LL << 20;
  app.add_option("--threads", threads, "LibTorch threads per rank")->capture_default_str();
  app.add_option("--steps", steps, "timed training steps per model")->capture_default_str();
  app.add_option("--repeats", repeats, "timed all-reduce calls per size")->capture_default_str();
  app.add_option("--max-bytes", max_bytes, "largest message")->capture_default_str();
  size_t bucket_bytes = 25u << 20;
  app.add_option("--bucket-bytes", bucket_bytes, "largest gradient bucket (the step split)")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    MPI_Finalize();
    return code;
  }
  ablate::set_torch_threads(threads);
  ablate::MpiReducer reducer(MPI_COMM_WORLD, bucket_bytes);
  const int ranks = reducer.size();
  const bool print = reducer.rank() == 0;

  if (ranks > 1)
    for (int64_t bytes = 4096; bytes <= max_bytes; bytes *= 4) {
      const double seconds = time_allreduce(reducer, bytes, repeats);
      const double busbw = static_cast<double>(bytes) / seconds * 2.0 * (ranks - 1) / ranks / 1e9;
      if (print)
        std::printf("bench=allreduce ranks=%d bytes=%lld us_per_call=%.1f busbw_GBps=%.3f\n", ranks,
                    static_cast<long long>(bytes), seconds * 1e6, busbw);
    }

  ablate::TrainConfig mlp;
  mlp.hidden = {256, 256};
  ablate::TrainConfig cnn;
  cnn.model = "cnn";
  cnn.channels = {32, 64};
  cnn.fc_width = 128;
  using Mode = ablate::GradientSyncMode;
  for (const auto& [name, config] : {std::pair{"mlp", mlp}, std::pair{"cnn", cnn}})
    for (const auto& [mode_name, mode] : {std::pair{"after_backward", Mode::after_backward},
                                          std::pair{"overlapped", Mode::overlapped}}) {
      const Split split = time_steps(config, reducer, mode, steps);
      if (print)
        std::printf("bench=step_split model=%s mode=%s ranks=%d images_per_rank=%d threads=%d compute_ms=%.3f "
                    "comm_ms=%.3f step_ms=%.3f comm_fraction=%.3f buckets=%zu\n",
                    name, mode_name, ranks, 128 / ranks, threads, split.compute * 1e3, split.comm * 1e3,
                    (split.compute + split.comm) * 1e3, split.comm / (split.compute + split.comm), split.buckets);
    }
  MPI_Finalize();
  return 0;
}
