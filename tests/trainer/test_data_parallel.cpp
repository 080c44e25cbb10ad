// Data-parallel training over MPI ranks gives the weights one rank would (run under mpirun).
#include <mpi.h>

#include "tests/trainer/torch_catch.hpp"

#include "trainer/device.hpp"
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

std::vector<torch::Tensor> trained_weights(const ablate::TrainConfig& config, ablate::GradientReducer* reducer,
                                           ablate::TrainResult* result = nullptr) {
  torch::nn::Sequential model;
  ablate::TrainContext context;
  context.reducer = reducer;
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
