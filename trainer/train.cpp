// The training loop: batch -> augment -> forward -> loss -> backward -> sync -> step.
#include "trainer/train.hpp"

#include <chrono>

#include "trainer/augment.hpp"
#include "trainer/checkpoint.hpp"
#include "trainer/dataset.hpp"
#include "trainer/device.hpp"
#include "trainer/eval_batch.hpp"
#include "trainer/gradient_sync.hpp"
#include "trainer/models.hpp"
#include "trainer/optim.hpp"
#include "trainer/precision.hpp"
#include "trainer/step_graph.hpp"
#include "trainer/test_time_flip.hpp"
#include "trainer/train_eval_subset.hpp"

namespace ablate {
namespace {

using Clock = std::chrono::steady_clock;

bool has_convolutions(torch::nn::Sequential& model) {
  for (const auto& module : model->modules(/*include_self=*/false))
    if (module->as<torch::nn::Conv2d>()) return true;
  return false;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// This rank's contiguous share [begin, end) of n items split over `size` ranks.
std::pair<int64_t, int64_t> shard_of(int64_t n, int rank, int size) {
  const int64_t base = n / size, extra = n % size;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

std::vector<torch::Tensor> float_buffers(const torch::nn::Module& model) {
  std::vector<torch::Tensor> buffers;
  for (const auto& b : model.buffers())
    if (b.is_floating_point()) buffers.push_back(b);
  return buffers;
}

std::vector<torch::Tensor> parameters_and_buffers(const torch::nn::Module& model) {
  auto tensors = model.parameters();
  for (const auto& b : model.buffers()) tensors.push_back(b);
  return tensors;
}

struct Evaluation {
  double loss = 0, accuracy = 0;
  std::vector<int64_t> confusion;  // 10x10, row = true class
  std::vector<int8_t> predictions;  // per image, in split order; only when asked for
};

// Loss, accuracy and confusion matrix of `split`, each rank taking its shard and
// the counts summed over the group; one device-to-host copy at the end. With
// `keep_predictions`, also every image's predicted class: each rank writes its
// shard into a zeroed vector and the sum over ranks assembles the whole. With
// `flip` (eval_flip), each image's and its mirror's probabilities are averaged.
Evaluation evaluate(torch::nn::Sequential& model, const TensorSplit& split, GradientReducer& reducer, bool flip,
                    bool keep_predictions = false) {
  torch::NoGradGuard no_grad;
  model->eval();
  const auto [begin, end] = shard_of(split.size(), reducer.rank(), reducer.size());
  auto options = torch::TensorOptions().dtype(torch::kFloat64).device(split.images.device());
  auto loss_sum = torch::zeros({1}, options);
  auto confusion = torch::zeros({kNumClasses * kNumClasses}, options);
  auto predictions = keep_predictions ? torch::zeros({split.size()}, options) : torch::zeros({0}, options);
  const int64_t eval_batch =
      eval_batch_images(/*members=*/1, split.images.device().is_cpu() && has_convolutions(model));
  for (int64_t first = begin; first < end; first += eval_batch) {
    const int64_t last = std::min(first + eval_batch, end);
    auto images = split.images.slice(0, first, last);
    auto labels = split.labels.slice(0, first, last);
    auto logits = model->forward(images);
    torch::Tensor predicted;
    if (flip) {
      const auto log_probability = flip_averaged_log_probabilities(logits, model->forward(mirrored(images)));
      loss_sum += torch::nn::functional::nll_loss(
                      log_probability, labels, torch::nn::functional::NLLLossFuncOptions().reduction(torch::kSum))
                      .to(torch::kFloat64);
      predicted = log_probability.argmax(1);
    } else {
      loss_sum += torch::nn::functional::cross_entropy(
                      logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                      .to(torch::kFloat64);
      predicted = logits.argmax(1);
    }
    confusion += torch::bincount(labels * kNumClasses + predicted, /*weights=*/{}, kNumClasses * kNumClasses)
                     .to(torch::kFloat64);
    if (keep_predictions) predictions.slice(0, first, last).copy_(predicted);
  }
  std::vector<torch::Tensor> counters{torch::cat({loss_sum, confusion, predictions})};
  reducer.allreduce_sum(counters);
  auto host = counters[0].to(torch::kCPU);
  const double* values = host.data_ptr<double>();

  Evaluation result;
  double correct = 0, total = 0;
  for (int cell = 0; cell < kNumClasses * kNumClasses; ++cell) {
    const auto count = static_cast<int64_t>(values[1 + cell]);
    result.confusion.push_back(count);
    total += count;
    if (cell / kNumClasses == cell % kNumClasses) correct += count;
  }
  if (keep_predictions) {
    const double* predicted = values + 1 + kNumClasses * kNumClasses;
    result.predictions.reserve(static_cast<size_t>(split.size()));
    for (int64_t i = 0; i < split.size(); ++i) result.predictions.push_back(static_cast<int8_t>(predicted[i]));
  }
  result.loss = total > 0 ? values[0] / total : 0;
  result.accuracy = total > 0 ? correct / total : 0;
  return result;
}

// The rows of `split` at `positions` (sorted), as one tensor pair on its device.
TensorSplit select_rows(const TensorSplit& split, const std::vector<int64_t>& positions) {
  if (static_cast<int64_t>(positions.size()) == split.size()) return split;  // all of it, in order
  auto index = torch::tensor(positions, torch::kInt64).to(split.images.device());
  return TensorSplit{split.images.index_select(0, index).contiguous(), split.labels.index_select(0, index)};
}

// The end-of-run fields of a result, from the evaluation of its last epoch.
void record_final_evaluation(TrainResult& result, const Evaluation& val, const Evaluation& test) {
  result.epochs_trained = result.curves.empty() ? 0 : result.curves.back().epoch;
  result.test_predictions = test.predictions;
  result.confusion_test = test.confusion;
  result.confusion_val = val.confusion;
  result.per_class_acc = per_class_accuracy(test.confusion);
  result.final_test_acc = test.accuracy;
}

}  // namespace

TrainResult train(const TrainConfig& config, const FashionMnist& data, const TrainContext& context,
                  const EpochCallback& on_epoch) {
  const auto run_start = Clock::now();
  SingleRankReducer single_rank;
  GradientReducer& reducer = context.reducer ? *context.reducer : single_rank;
  const torch::Device device = context.device;

  // One seed fixes everything: initialisation and dropout (Torch's global
  // generators), the split, shuffling (identical on every rank) and
  // augmentation (its own stream per rank).
  seed_everything(static_cast<uint64_t>(config.seed));
  const DataSplits splits = make_splits(data, config, device);
  torch::nn::Sequential model = build_model(config);
  model->to(device);
  use_fastest_memory_format(*model, device);  // NHWC convolutions on the CPU (models.hpp)
  apply_float32_precision(config.precision, device);  // TF32 or IEEE float32 on CUDA (precision.hpp)
  auto replica_state = parameters_and_buffers(*model);
  reducer.broadcast(replica_state);  // every replica starts from the first rank's weights

  const auto parameters = model->parameters();
  const auto weights = penalised_weights(*model);
  auto optimizer = make_optimizer(parameters, config);
  // Averages the gradients over the group during backward (gradient_sync.hpp).
  GradientSync gradient_sync(parameters, reducer, context.gradient_sync);
  auto shuffle_generator = make_generator(device, static_cast<uint64_t>(config.seed));
  auto augment_generator = make_generator(device, static_cast<uint64_t>(config.seed) * 1000003u + 17u + reducer.rank());
  const AugmentOptions augment = augment_options(config, splits.background);
  const auto cross_entropy_options = torch::nn::functional::CrossEntropyFuncOptions()
                                         .reduction(torch::kSum)
                                         .label_smoothing(config.label_smoothing);

  const int64_t train_size = splits.train.size();
  const int64_t batch_size = config.batch_size;
  // The clean train accuracy's images: the same seeded subset every epoch.
  const TensorSplit train_eval =
      select_rows(splits.train, train_eval_subset(static_cast<uint64_t>(config.seed), train_size));
  auto evaluate_split = [&](const TensorSplit& split, bool keep_predictions = false) {
    return evaluate(model, split, reducer, config.eval_flip, keep_predictions);
  };

  // One step's forward, loss and backward. The loss is scaled so that the mean
  // over replicas of their gradients is the gradient of the global batch's mean
  // loss; during backward, hooks launch each bucket's all-reduce as it fills.
  auto forward_backward = [&](const torch::Tensor& images, const torch::Tensor& labels, int64_t global_n) {
    StepOutputs out;
    {
      AutocastScope autocast(config.precision, device);  // bf16: the forward pass only
      out.logits = model->forward(images);
    }
    out.loss_sum = torch::nn::functional::cross_entropy(out.logits.to(torch::kFloat32), labels,
                                                        cross_entropy_options);
    auto loss = out.loss_sum * (static_cast<double>(reducer.size()) / static_cast<double>(global_n));
    if (auto penalty = weight_penalty(weights, config.l1, config.l2); penalty.defined()) loss = loss + penalty;
    optimizer->zero_grad();
    gradient_sync.begin_step();
    loss.backward();
    return out;
  };
  // Runs it, or replays it as a CUDA graph on full batches where it applies (step_graph.hpp).
  StepGraph step_graph(forward_backward, parameters, device, batch_size,
                       cuda_graphs_apply(config.cuda_graphs, device, reducer.size()), context.on_warning);
  const int64_t steps_per_epoch = (train_size + batch_size - 1) / batch_size;
  auto scalar_options = torch::TensorOptions().dtype(torch::kFloat64).device(device);

  TrainResult result;
  result.parameter_count = count_parameters(*model);
  result.device = describe_device(device);
  int64_t step = 0;
  int first_epoch = 1;
  double earlier_seconds = 0;  // spent by the attempts before a resume

  // Resume: the checkpoint replaces weights, optimizer state and every generator
  // state, so the epochs that follow are the ones an uninterrupted run trains.
  std::vector<torch::Generator> generators{shuffle_generator, augment_generator};
  for (const auto& global : global_generators(device)) generators.push_back(global);
  TrainingState state{*model, *optimizer, generators};
  const CheckpointKey checkpoint_key{canonical_text(config_to_json(config)), config.epochs, reducer.size(),
                                     reducer.rank()};
  std::string checkpoint_path = context.checkpoint_path;
  if (!checkpoint_path.empty() && reducer.size() > 1) checkpoint_path += ".rank" + std::to_string(reducer.rank());
  // Collective in a group: every rank resumes from the same epoch, or none does.
  std::string why_unusable;
  if (auto progress = load_group_checkpoint(checkpoint_path, checkpoint_key, state, reducer, &why_unusable)) {
    first_epoch = progress->epoch + 1;
    step = progress->step;
    earlier_seconds = progress->seconds;
    result.curves = progress->curves;
    result.best_epoch = progress->best_epoch;
    result.best_val_acc = progress->best_val_acc;
    result.test_acc_at_best_val = progress->test_acc_at_best_val;
    // The replayed rows are judged like fresh ones: a point whose budget ends at
    // the checkpoint's epoch (rank 0 restarted before it heard the pause) ends
    // here, without training an epoch past its budget. So does a point whose
    // checkpoint holds its last epoch (killed before its end reached rank 0).
    EpochVerdict verdict = EpochVerdict::go_on;
    if (on_epoch)
      for (const auto& row : result.curves) verdict = on_epoch(row);
    if (verdict != EpochVerdict::go_on || progress->epoch >= config.epochs) {  // ends with the checkpoint's model
      record_final_evaluation(result, evaluate_split(splits.val),
                              evaluate_split(splits.test, /*keep_predictions=*/true));
      first_epoch = config.epochs + 1;
    }
  } else if (!why_unusable.empty() && context.on_warning) {
    context.on_warning(why_unusable);
  }

  for (int epoch = first_epoch; epoch <= config.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    model->train();
    const double epoch_lr = learning_rate_at(config, step, steps_per_epoch);
    auto order = torch::randperm(train_size, shuffle_generator, torch::TensorOptions().dtype(torch::kInt64).device(device));
    // Running sums stay on the device: no host round trip inside the epoch.
    auto loss_sum = torch::zeros({}, scalar_options);
    auto correct = torch::zeros({}, scalar_options);
    auto seen_nonfinite = torch::zeros({}, torch::TensorOptions().dtype(torch::kBool).device(device));
    auto clean_steps = torch::zeros({}, scalar_options);

    HostSyncCheck inside_epoch(device, context.forbid_host_sync);  // until end(): nothing waits for the device
    for (int64_t epoch_step = 0; epoch_step < steps_per_epoch; ++epoch_step, ++step) {
      // Batch: this rank's shard of the global batch, gathered by index.
      const int64_t first = epoch_step * batch_size;
      const int64_t global_n = std::min(batch_size, train_size - first);
      const auto [begin, end] = shard_of(global_n, reducer.rank(), reducer.size());
      auto index = order.slice(0, first + begin, first + end);
      auto images = splits.train.images.index_select(0, index);
      auto labels = splits.train.labels.index_select(0, index);
      if (augment.any()) images = augment_batch(images, augment, augment_generator);

      // Forward, loss and backward (forward_backward above, maybe as a CUDA
      // graph); finish_step leaves the group's mean gradient in .grad. Step.
      const StepOutputs out = step_graph.run(images, labels, global_n);
      gradient_sync.finish_step();
      set_learning_rate(*optimizer, learning_rate_at(config, step, steps_per_epoch));
      optimizer->step();

      // Bookkeeping, on the device.
      auto detached = out.loss_sum.detach();
      loss_sum += detached;
      correct += (out.logits.detach().argmax(1) == labels).sum();
      seen_nonfinite |= ~torch::isfinite(detached);
      clean_steps += (~seen_nonfinite).to(torch::kFloat64);
    }
    inside_epoch.end();

    // Every epoch: agree on BatchNorm statistics, then measure.
    auto statistics = float_buffers(*model);
    if (reducer.size() > 1 && !statistics.empty()) reducer.allreduce_mean(statistics);
    std::vector<torch::Tensor> train_counters{torch::stack({loss_sum, correct, clean_steps})};
    reducer.allreduce_sum(train_counters);
    auto train_host = train_counters[0].to(torch::kCPU);  // waits for the device: the epoch's time is real
    const double epoch_seconds = seconds_since(epoch_start);
    const double* train_values = train_host.data_ptr<double>();
    const int64_t clean = static_cast<int64_t>(train_values[2]) / reducer.size();
    if (clean < steps_per_epoch) throw DivergedError(epoch, clean + 1);

    // Predictions every epoch (10,000 bytes): early stopping may end the run at any epoch.
    const Evaluation val = evaluate_split(splits.val);
    const Evaluation test = evaluate_split(splits.test, /*keep_predictions=*/true);
    const Evaluation train_clean = evaluate_split(train_eval);  // eval mode, no augmentation
    const bool last_epoch = epoch == config.epochs;

    EpochMetrics row;
    row.epoch = epoch;
    row.train_loss = train_values[0] / static_cast<double>(train_size);
    row.train_acc = train_values[1] / static_cast<double>(train_size);
    row.val_loss = val.loss, row.val_acc = val.accuracy;
    row.test_loss = test.loss, row.test_acc = test.accuracy;
    row.lr = epoch_lr;
    row.epoch_seconds = epoch_seconds;
    row.images_per_second = static_cast<double>(train_size) / epoch_seconds;
    row.train_eval_loss = train_clean.loss, row.train_eval_acc = train_clean.accuracy;
    result.curves.push_back(row);
    if (splits.val.size() > 0 ? val.accuracy > result.best_val_acc || result.best_epoch == 0 : true) {
      result.best_epoch = epoch;
      result.best_val_acc = val.accuracy;
      result.test_acc_at_best_val = test.accuracy;
    }
    // Saved before the row is reported: a stop requested from on_epoch
    // (Interrupted) keeps this epoch, and so does a pause (a promotion resumes from it).
    // The last epoch too: a kill after its row reached the ledger but before the
    // point's end did resumes at the end instead of training that epoch again.
    if (!checkpoint_path.empty()) {
      const TrainingProgress progress{epoch,         step,
                                      earlier_seconds + seconds_since(run_start),
                                      result.curves, result.best_epoch,
                                      result.best_val_acc, result.test_acc_at_best_val};
      try {
        save_checkpoint(checkpoint_path, checkpoint_key, state, progress);
      } catch (const std::runtime_error& e) {  // a full disk costs resumability, not the point
        if (context.on_warning) context.on_warning(std::string(e.what()) + "; training goes on without checkpoints");
        checkpoint_path.clear();
      }
    }
    const EpochVerdict verdict = on_epoch ? on_epoch(row) : EpochVerdict::go_on;
    if (last_epoch || verdict != EpochVerdict::go_on) {  // the end of this run: early or not
      record_final_evaluation(result, val, test);
      break;
    }
  }

  result.train_seconds = earlier_seconds + seconds_since(run_start);
  if (context.trained_model) *context.trained_model = model;
  return result;
}

}  // namespace ablate
