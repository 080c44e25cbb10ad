// Data-parallel training over MPI ranks gives the weights one rank would (run under mpirun);
// gradients all-reduced from backward hooks equal those reduced after backward; a group
// interrupted after an epoch resumes from its checkpoints and ends as an uninterrupted run.
#include <mpi.h>
#include <unistd.h>

#include <cstring>

#include "tests/trainer/torch_catch.hpp"

#include "trainer/device.hpp"
#include "trainer/gradient_sync.hpp"
#include "trainer/mpi_reducer.hpp"
#include "trainer/train.hpp"

namespace {

const ablate::FashionMnist& real_data() {
  static const ablate::FashionMnist data = ablate::load_fashion_mnist("");
  return data;
}

ablate::TrainConfig fifty_steps() {
  ablate::TrainConfig config;
  config.model = "mlp";
  config.hidden = {128, 64};
  config.batch_size = 64;
  config.train_limit = 50 * 64;  // one epoch = 50 optimizer steps
  config.val_size = 500;
  config.epochs = 1;
  config.lr = 0.02;
  return config;
}

std::vector<torch::Tensor> trained_weights(
    const ablate::TrainConfig& config, ablate::GradientReducer* reducer, ablate::TrainResult* result = nullptr,
    ablate::GradientSyncMode mode = ablate::GradientSyncMode::overlapped) {
  torch::nn::Sequential model;
  ablate::TrainContext context;
  context.reducer = reducer;
  context.gradient_sync = mode;
  context.trained_model = &model;
  auto r = ablate::train(config, real_data(), context);
  if (result) *result = r;
  std::vector<torch::Tensor> weights;
  for (const auto& p : model->parameters()) weights.push_back(p.detach().clone());
  return weights;
}

double max_relative_difference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double scale = std::max(a[i].abs().max().item<double>(), 1e-12);
    worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>() / scale);
  }
  return worst;
}

}  // namespace

TEST_CASE("K ranks over 50 steps give the single-rank weights to 1e-5 relative", "[mpi][data_parallel]") {
  ablate::set_torch_threads(1);
  const auto config = fifty_steps();
  ablate::TrainResult single_result, parallel_result;
  const auto reference = trained_weights(config, nullptr, &single_result);  // every rank computes K = 1 itself
  ablate::MpiReducer reducer(MPI_COMM_WORLD);
  const auto parallel = trained_weights(config, &reducer, &parallel_result);
  INFO("ranks " << reducer.size());
  CHECK(max_relative_difference(reference, parallel) <= 1e-5);
  // Metrics are reduced over the group: every rank reports the whole data set.
  CHECK(parallel_result.curves[0].test_acc == Approx(single_result.curves[0].test_acc).margin(2e-4));
  int64_t total = 0;
  for (auto n : parallel_result.confusion_test) total += n;
  CHECK(total == 10000);
  // Each rank predicts its shard of the test set; the leader sees all of them,
  // in test-set order, and they agree with one rank's up to near-ties.
  REQUIRE(parallel_result.test_predictions.size() == 10000);
  int differing = 0;
  for (size_t i = 0; i < 10000; ++i)
    differing += parallel_result.test_predictions[i] != single_result.test_predictions[i];
  CHECK(differing <= 3);
}

TEST_CASE("with dropout and augmentation a fixed K is deterministic", "[mpi][data_parallel]") {
  ablate::set_torch_threads(1);
  auto config = fifty_steps();
  config.dropout = 0.2;
  config.augment_shift = 2;
  config.augment_flip = true;
  ablate::MpiReducer reducer(MPI_COMM_WORLD);
  const auto first = trained_weights(config, &reducer);
  const auto second = trained_weights(config, &reducer);
  CHECK(max_relative_difference(first, second) == 0.0);
  // Replicas stay identical across ranks: compare with rank 0's copy.
  auto copy = first;
  for (auto& t : copy) t = t.clone();
  reducer.broadcast(copy);
  CHECK(max_relative_difference(first, copy) == 0.0);
}

TEST_CASE("all-reducing each rank's index gives n(n-1)/2", "[mpi][data_parallel]") {
  ablate::MpiReducer reducer(MPI_COMM_WORLD, /*bucket_bytes=*/16);  // tiny buckets: many messages
  const int n = reducer.size();
  std::vector<torch::Tensor> tensors{torch::full({3}, double(reducer.rank())), torch::full({5}, double(reducer.rank())),
                                     torch::full({2, 2}, float(reducer.rank()))};
  reducer.allreduce_sum(tensors);
  CHECK(tensors[0].eq(n * (n - 1) / 2.0).all().item<bool>());
  CHECK(tensors[1].eq(n * (n - 1) / 2.0).all().item<bool>());
  CHECK(tensors[2].eq(float(n * (n - 1) / 2.0)).all().item<bool>());
  std::vector<torch::Tensor> mean{torch::full({4}, double(reducer.rank()))};
  reducer.allreduce_mean(mean);
  CHECK(mean[0].eq((n - 1) / 2.0).all().item<bool>());
}

TEST_CASE("gradients all-reduced from backward hooks equal those reduced after backward, bit for bit",
          "[mpi][data_parallel]") {
  // Both modes share the bucket plan and the collective (MPI_Iallreduce of the
  // same buffers in the same order), so the sums are the same bits for any K;
  // only when each all-reduce starts differs.
  ablate::set_torch_threads(1);
  auto config = fifty_steps();
  config.dropout = 0.1;  // also: the modes draw the same random numbers
  const size_t bucket_bytes = GENERATE(size_t{25} << 20, size_t{4096});  // one bucket per layer or many
  INFO("bucket bytes " << bucket_bytes);
  ablate::MpiReducer reducer(MPI_COMM_WORLD, bucket_bytes);
  const auto hooked = trained_weights(config, &reducer, nullptr, ablate::GradientSyncMode::overlapped);
  const auto after = trained_weights(config, &reducer, nullptr, ablate::GradientSyncMode::after_backward);
  REQUIRE(hooked.size() == after.size());
  for (size_t i = 0; i < hooked.size(); ++i) CHECK(torch::equal(hooked[i], after[i]));
}

TEST_CASE("K ranks with many small buckets give the single-rank weights to 1e-5 relative", "[mpi][data_parallel]") {
  ablate::set_torch_threads(1);
  const auto config = fifty_steps();
  const auto reference = trained_weights(config, nullptr);
  ablate::MpiReducer reducer(MPI_COMM_WORLD, /*bucket_bytes=*/4096);  // ~60 buckets for the 128-64 MLP
  CHECK(max_relative_difference(reference, trained_weights(config, &reducer)) <= 1e-5);
}

namespace {

// Parameters of distinct sizes, so buckets launched in different orders on
// different ranks would pair mismatched messages (and fail) instead of passing.
std::vector<torch::Tensor> distinct_parameters() {
  std::vector<torch::Tensor> parameters;
  for (int64_t n : {3, 5, 7, 11}) parameters.push_back(torch::ones({n}, torch::kFloat64).requires_grad_());
  return parameters;
}

// d/dp of (p * x).sum() is x: rank r's gradient for parameter i is (r + 1) * (i + 1).
torch::Tensor term(const torch::Tensor& p, int rank, size_t i) {
  return (p * (static_cast<double>(rank + 1) * static_cast<double>(i + 1))).sum();
}

}  // namespace

TEST_CASE("buckets go out in one order on every rank even when gradients arrive in different orders",
          "[mpi][data_parallel]") {
  ablate::MpiReducer reducer(MPI_COMM_WORLD, /*bucket_bytes=*/1);  // one parameter per bucket
  const int n = reducer.size(), rank = reducer.rank();
  auto parameters = distinct_parameters();
  ablate::GradientSync sync(parameters, reducer, ablate::GradientSyncMode::overlapped);
  REQUIRE(sync.bucket_count() == parameters.size());
  // Records when each gradient arrives (hooks run in registration order: after GradientSync's).
  std::vector<size_t> arrival;
  for (size_t i = 0; i < parameters.size(); ++i) parameters[i].register_hook([&arrival, i](const torch::Tensor&) {
    arrival.push_back(i);
  });

  for (int step = 0; step < 3; ++step) {
    for (auto& p : parameters) p.mutable_grad() = torch::Tensor();
    arrival.clear();
    // Autograd runs the node made last first: even ranks make the terms in
    // registration order (gradients arrive last parameter first, the bucket
    // order), odd ranks in reverse (bucket 0 fills last, holding back the others).
    torch::Tensor loss = torch::zeros({}, torch::kFloat64);
    for (size_t k = 0; k < parameters.size(); ++k) {
      const size_t i = rank % 2 == 0 ? k : parameters.size() - 1 - k;
      loss = loss + term(parameters[i], rank, i);
    }
    sync.begin_step();
    loss.backward();
    // Every bucket went out inside backward (on CPU, hooks run on this, MPI's main, thread).
    CHECK(sync.launched_during_backward() == sync.bucket_count());
    sync.finish_step();
    const std::vector<size_t> bucket_order{3, 2, 1, 0};
    if (rank % 2 == 0) CHECK(arrival == bucket_order);
    else CHECK(arrival != bucket_order);
    // mean over r of (r + 1) * (i + 1) = (n + 1) / 2 * (i + 1)
    for (size_t i = 0; i < parameters.size(); ++i) {
      INFO("step " << step << " parameter " << i);
      CHECK(torch::allclose(parameters[i].grad(), torch::full_like(parameters[i], (n + 1) / 2.0 * (i + 1)), 0, 0));
    }
  }
}

TEST_CASE("a parameter without a gradient on some rank does not hang the step: it counts as zeros",
          "[mpi][data_parallel]") {
  ablate::MpiReducer reducer(MPI_COMM_WORLD, /*bucket_bytes=*/1);
  const int n = reducer.size(), rank = reducer.rank();
  auto mode = GENERATE(ablate::GradientSyncMode::overlapped, ablate::GradientSyncMode::after_backward);
  auto parameters = distinct_parameters();
  ablate::GradientSync sync(parameters, reducer, mode);
  // Parameter 1 is used by rank 0 alone, parameter 3 by no rank.
  torch::Tensor loss = term(parameters[0], rank, 0) + term(parameters[2], rank, 2);
  if (rank == 0) loss = loss + term(parameters[1], rank, 1);
  sync.begin_step();
  loss.backward();
  sync.finish_step();
  CHECK(torch::equal(parameters[0].grad(), torch::full_like(parameters[0], (n + 1) / 2.0 * 1)));
  CHECK(torch::equal(parameters[1].grad(), torch::full_like(parameters[1], 1.0 * 2 / n)));  // rank 0's alone
  CHECK(torch::equal(parameters[2].grad(), torch::full_like(parameters[2], (n + 1) / 2.0 * 3)));
  CHECK(torch::equal(parameters[3].grad(), torch::zeros_like(parameters[3])));
}

TEST_CASE("the group's smallest integer", "[mpi][data_parallel]") {
  ablate::MpiReducer reducer(MPI_COMM_WORLD);
  CHECK(reducer.min_over_group(10 - reducer.rank()) == 10 - (reducer.size() - 1));
  CHECK(reducer.min_over_group(-7) == -7);
}

namespace {

// A directory every rank sees (rank 0 makes it, the name is broadcast), holding
// point.pt.rank<r>. POSIX calls: libtorch.so's std::filesystem::remove_all crashes.
struct SharedScratch {
  std::string dir;
  SharedScratch() {
    char name[] = "/tmp/ablate_group_ckpt_XXXXXX";
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) REQUIRE(::mkdtemp(name) != nullptr);
    MPI_Bcast(name, sizeof name, MPI_CHAR, 0, MPI_COMM_WORLD);
    dir = name;
  }
  ~SharedScratch() {
    MPI_Barrier(MPI_COMM_WORLD);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == 0) {
      for (int r = 0; r < size; ++r)
        for (const char* suffix : {"", ".tmp"}) ::unlink((rank_file(r) + suffix).c_str());
      ::rmdir(dir.c_str());
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  std::string point() const { return dir + "/point.pt"; }
  std::string rank_file(int r) const { return point() + ".rank" + std::to_string(r); }
};

struct StopAfterEpoch {};

struct GroupRun {
  ablate::TrainResult result;
  std::vector<ablate::EpochMetrics> reported;
  std::vector<torch::Tensor> state;  // parameters and buffers
  std::vector<std::string> warnings;
  bool stopped = false;
};

GroupRun train_group(const ablate::TrainConfig& config, ablate::GradientReducer& reducer, const std::string& checkpoint,
                     int stop_after = 0) {
  ablate::set_torch_threads(1);
  GroupRun run;
  torch::nn::Sequential model;
  ablate::TrainContext context;
  context.reducer = &reducer;
  context.trained_model = &model;
  context.checkpoint_path = checkpoint;
  context.on_warning = [&run](const std::string& w) { run.warnings.push_back(w); };
  try {
    // Every rank stops after the same epoch, as a group told to stop does.
    run.result = ablate::train(config, real_data(), context, [&](const ablate::EpochMetrics& row) {
      run.reported.push_back(row);
      if (row.epoch == stop_after) throw StopAfterEpoch{};
      return ablate::EpochVerdict::go_on;
    });
    for (const auto& p : model->parameters()) run.state.push_back(p.detach().clone());
    for (const auto& b : model->buffers()) run.state.push_back(b.detach().clone());
  } catch (const StopAfterEpoch&) {
    run.stopped = true;
  }
  return run;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void require_same_results(const GroupRun& a, const GroupRun& b) {
  REQUIRE(a.result.curves.size() == b.result.curves.size());
  for (size_t i = 0; i < a.result.curves.size(); ++i) {
    const auto &x = a.result.curves[i], &y = b.result.curves[i];
    INFO("epoch " << x.epoch);
    CHECK(x.epoch == y.epoch);
    CHECK(same_bits(x.train_loss, y.train_loss));
    CHECK(same_bits(x.train_acc, y.train_acc));
    CHECK(same_bits(x.val_loss, y.val_loss));
    CHECK(same_bits(x.val_acc, y.val_acc));
    CHECK(same_bits(x.test_loss, y.test_loss));
    CHECK(same_bits(x.test_acc, y.test_acc));
    CHECK(same_bits(x.lr, y.lr));
  }
  CHECK(a.result.confusion_test == b.result.confusion_test);
  CHECK(a.result.test_predictions == b.result.test_predictions);
  REQUIRE(a.state.size() == b.state.size());
  for (size_t i = 0; i < a.state.size(); ++i) CHECK(torch::equal(a.state[i], b.state[i]));
}

ablate::TrainConfig three_epochs_with_everything_random() {
  ablate::TrainConfig config;
  config.hidden = {64, 32};
  config.train_limit = 2000;
  config.val_size = 500;
  config.epochs = 3;
  config.batch_size = 100;
  config.dropout = 0.2;  // per-rank global generator states
  config.augment_shift = 2;  // per-rank augmentation generators
  config.augment_flip = true;
  config.batchnorm = true;  // running statistics: buffers synchronised each epoch
  config.seed = 11;
  return config;
}

}  // namespace

TEST_CASE("a group interrupted after an epoch resumes from its checkpoints and ends like an uninterrupted run",
          "[mpi][data_parallel][checkpoint]") {
  SharedScratch scratch;
  const auto config = three_epochs_with_everything_random();
  ablate::MpiReducer reducer(MPI_COMM_WORLD);
  const GroupRun whole = train_group(config, reducer, "");
  REQUIRE_FALSE(whole.stopped);

  const GroupRun first = train_group(config, reducer, scratch.point(), /*stop_after=*/1);
  REQUIRE(first.stopped);
  // Each rank keeps its own file: its augmentation and dropout draws are its own.
  CHECK(::access(scratch.rank_file(reducer.rank()).c_str(), F_OK) == 0);
  CHECK(::access(scratch.point().c_str(), F_OK) != 0);
  MPI_Barrier(MPI_COMM_WORLD);

  const GroupRun second = train_group(config, reducer, scratch.point());
  REQUIRE_FALSE(second.stopped);
  CHECK(second.warnings.empty());
  REQUIRE(second.reported.size() == 3);  // epoch 1 replayed from the checkpoint, 2 and 3 trained
  CHECK(same_bits(second.reported[0].epoch_seconds, first.reported[0].epoch_seconds));
  require_same_results(second, whole);
}

TEST_CASE("when the group's checkpoints disagree every rank starts afresh", "[mpi][data_parallel][checkpoint]") {
  SharedScratch scratch;
  const auto config = three_epochs_with_everything_random();
  ablate::MpiReducer reducer(MPI_COMM_WORLD);
  const GroupRun whole = train_group(config, reducer, "");
  REQUIRE(train_group(config, reducer, scratch.point(), /*stop_after=*/2).stopped);
  // The last rank's file holds an older epoch (as if killed before writing epoch 2):
  // it alone may not resume at 3, so none does.
  const bool last = reducer.rank() == reducer.size() - 1;
  if (last) REQUIRE(::unlink(scratch.rank_file(reducer.rank()).c_str()) == 0);
  MPI_Barrier(MPI_COMM_WORLD);
  if (last) REQUIRE(train_group(config, reducer, scratch.point(), /*stop_after=*/1).stopped);
  else REQUIRE(train_group(config, reducer, "", /*stop_after=*/1).stopped);  // keeps its epoch-2 file
  MPI_Barrier(MPI_COMM_WORLD);

  const GroupRun run = train_group(config, reducer, scratch.point());
  if (last) {
    CHECK(run.warnings.size() == 1);  // its own checkpoint (epoch 1) goes unused
  } else {
    REQUIRE(run.warnings.size() == 1);
    CHECK_THAT(run.warnings[0], Catch::Contains("epochs 1 to 2") && Catch::Contains("starts afresh"));
  }
  REQUIRE(run.reported.size() == 3);
  CHECK(run.reported[0].epoch == 1);
  require_same_results(run, whole);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  Catch::Session session;
  if (rank != 0) session.configData().outputFilename = "%debug";  // one report, from rank 0
  int failures = session.run(argc, argv);
  // A failure on any rank fails the job.
  int total = 0;
  MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  MPI_Finalize();
  return total == 0 ? 0 : 1;
}
