// The pack's training loop: train()'s steps, each for every member at once.
#include "trainer/packed/train_packed.hpp"

#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "trainer/augment.hpp"
#include "trainer/checkpoint.hpp"
#include "trainer/device.hpp"
#include "trainer/models.hpp"
#include "trainer/optim.hpp"
#include "trainer/packed/pack_data.hpp"
#include "trainer/packed/packed_evaluation.hpp"
#include "trainer/packed/packed_loss.hpp"
#include "trainer/packed/packed_model.hpp"
#include "trainer/packed/packed_optimizer.hpp"
#include "trainer/precision.hpp"
#include "trainer/train.hpp"

namespace ablate {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Everything one member has of its own: its data, its generators, its lone
// model and optimizer (the form its checkpoints take) and its result so far.
struct Member {
  size_t index = 0;  // in the caller's members (for on_end)
  const PackMember* request = nullptr;
  TrainConfig config;
  AugmentOptions augment;
  torch::nn::Sequential lone;
  std::unique_ptr<torch::optim::Optimizer> lone_optimizer;
  // Shuffling, augmentation, then the stand-ins for Torch's global generators
  // (dropout): the lone run's checkpoint order (train.cpp).
  std::vector<torch::Generator> generators;
  CheckpointKey checkpoint_key;
  std::string checkpoint_path;
  TrainResult result;
  int epoch = 0;     // last finished epoch
  int64_t step = 0;  // optimizer steps taken
  double earlier_seconds = 0;
  bool ended = false;
  bool end_at_start = false;  // its checkpoint's replayed rows ended the run
};

void check_pack_keys(const std::vector<PackMember>& members) {
  const std::string first = pack_key(members.front().config);
  for (size_t i = 1; i < members.size(); ++i)
    if (pack_key(members[i].config) != first)
      throw ConfigError("", fmt::format("pack member {} has other shape keys than member 0 ({} vs {}): only points "
                                        "with equal pack keys train together",
                                        i, pack_key(members[i].config), first));
}

TrainingState state_of(Member& m) { return TrainingState{*m.lone, *m.lone_optimizer, m.generators}; }

void end_member(Member& m, const MemberEvaluation& val, const MemberEvaluation& test, const PackMemberEnd& on_end,
                Clock::time_point run_start) {
  TrainResult& r = m.result;
  r.epochs_trained = r.curves.empty() ? 0 : r.curves.back().epoch;
  r.test_predictions = test.predictions;
  r.confusion_test = test.confusion;
  r.confusion_val = val.confusion;
  r.per_class_acc = per_class_accuracy(test.confusion);
  r.final_test_acc = test.accuracy;
  r.train_seconds = m.earlier_seconds + seconds_since(run_start);
  m.ended = true;
  PackMemberOutcome outcome;
  outcome.result = std::move(r);
  on_end(m.index, std::move(outcome));
}

void fail_member(Member& m, const std::string& error, const PackMemberEnd& on_end) {
  m.ended = true;
  PackMemberOutcome outcome;
  outcome.failed = true;
  outcome.error = error;
  on_end(m.index, std::move(outcome));
}

}  // namespace

void train_packed(const std::vector<PackMember>& requests, const FashionMnist& data, const torch::Device& device,
                  const PackMemberEnd& on_end) {
  if (requests.empty()) return;
  check_pack_keys(requests);
  const auto run_start = Clock::now();
  const TrainConfig& shape = requests.front().config;  // the shape keys every member shares
  apply_float32_precision(shape.precision, device);

  // Each member as its lone run starts: seed, splits (here its rows in the
  // pack's one copy of the data), model (whose initialisation draws from the
  // seeded global generator), then the generators. Dropout draws from the
  // global generator after the model is built, so each member keeps a copy of
  // that state as its own.
  std::vector<TrainConfig> configs;
  for (const auto& r : requests) configs.push_back(r.config);
  PackData data_of_members(data, configs, device);
  std::vector<Member> members(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    Member& m = members[i];
    m.index = i;
    m.request = &requests[i];
    m.config = requests[i].config;
    const auto seed = static_cast<uint64_t>(m.config.seed);
    seed_everything(seed);
    m.lone = build_model(m.config);
    auto dropout_cpu = at::detail::getDefaultCPUGenerator().clone();
    m.lone->to(device);
    m.lone_optimizer = make_optimizer(m.lone->parameters(), m.config);
    m.augment = augment_options(m.config, data_of_members.background(i));
    m.generators = {make_generator(device, seed), make_generator(device, seed * 1000003u + 17u), dropout_cpu};
    if (device.is_cuda()) m.generators.push_back(make_generator(device, seed));  // the lone run's CUDA global one
    m.checkpoint_key = CheckpointKey{canonical_text(config_to_json(m.config)), m.config.epochs, 1, 0};
    m.checkpoint_path = requests[i].checkpoint.path;
    m.result.parameter_count = count_parameters(*m.lone);
    m.result.device = describe_device(device);
  }
  const int64_t train_size = data_of_members.train_size();
  const int64_t batch_size = shape.batch_size;
  const int64_t steps_per_epoch = (train_size + batch_size - 1) / batch_size;

  // The structure: a member's model with dropout layers when any member drops out.
  size_t template_member = 0;
  for (size_t i = 0; i < members.size(); ++i)
    if (members[i].config.dropout > members[template_member].config.dropout) template_member = i;
  std::vector<torch::nn::Sequential> lones;
  std::vector<double> dropout;
  std::vector<torch::Generator> dropout_generators;
  for (auto& m : members) {
    lones.push_back(m.lone);
    dropout.push_back(m.config.dropout);
    dropout_generators.push_back(m.generators.back());  // CPU: the global CPU stand-in; CUDA: the CUDA one
  }
  auto model = std::make_unique<PackedModel>(lones, members[template_member].lone, dropout, dropout_generators,
                                             device);
  auto optimizer = std::make_unique<PackedOptimizer>(model->parameters(), configs);

  // Resume: each member from its own checkpoint, in the lone run's format.
  for (size_t k = 0; k < members.size(); ++k) {
    Member& m = members[k];
    std::string why_unusable;
    TrainingState state = state_of(m);
    auto progress = load_checkpoint(m.checkpoint_path, m.checkpoint_key, state, &why_unusable);
    if (!progress) {
      if (!why_unusable.empty() && m.request->checkpoint.on_warning) m.request->checkpoint.on_warning(why_unusable);
      continue;
    }
    model->copy_member_from(static_cast<int64_t>(k), *m.lone);
    optimizer->copy_member_from(static_cast<int64_t>(k), *m.lone_optimizer, m.lone->parameters());
    m.epoch = progress->epoch;
    m.step = progress->step;
    m.earlier_seconds = progress->seconds;
    m.result.curves = progress->curves;
    m.result.best_epoch = progress->best_epoch;
    m.result.best_val_acc = progress->best_val_acc;
    m.result.test_acc_at_best_val = progress->test_acc_at_best_val;
    // The replayed rows are judged like fresh ones (as in train()).
    EpochVerdict verdict = EpochVerdict::go_on;
    if (m.request->on_epoch)
      for (const auto& row : m.result.curves) verdict = m.request->on_epoch(row);
    m.end_at_start = verdict != EpochVerdict::go_on || m.epoch >= m.config.epochs;  // as in train()
  }

  // Members still in the pack, in the packed model's order.
  std::vector<Member*> active;
  for (auto& m : members) active.push_back(&m);
  auto evaluate_active = [&](PackData::Split split, bool keep_predictions) {
    std::vector<bool> flip;
    for (const Member* m : active) flip.push_back(m->config.eval_flip);
    return evaluate_members(*model, data_of_members, split, flip, keep_predictions);
  };
  using Split = PackData::Split;
  // Drops the members that ended from the pack: every stack keeps the others.
  auto shrink = [&] {
    std::vector<int64_t> kept;
    std::vector<Member*> still;
    for (size_t k = 0; k < active.size(); ++k)
      if (!active[k]->ended) kept.push_back(static_cast<int64_t>(k)), still.push_back(active[k]);
    if (still.size() == active.size()) return;
    active = std::move(still);
    if (active.empty()) return;
    model->keep_members(kept);
    optimizer->keep_members(kept, model->parameters());
    data_of_members.keep_members(kept);
  };

  if (std::any_of(members.begin(), members.end(), [](const Member& m) { return m.end_at_start; })) {
    const auto val = evaluate_active(Split::val, false);
    const auto test = evaluate_active(Split::test, true);
    for (size_t k = 0; k < active.size(); ++k)
      if (active[k]->end_at_start) end_member(*active[k], val[k], test[k], on_end, run_start);
    shrink();
  }

  auto scalar_options = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  auto index_options = torch::TensorOptions().dtype(torch::kInt64).device(device);
  while (!active.empty()) {
    const auto epoch_start = Clock::now();
    const auto packed = static_cast<int64_t>(active.size());
    model->train(true);
    std::vector<torch::Tensor> member_orders;
    std::vector<double> epoch_lrs;
    PackedLossTerms loss_terms;
    for (auto* m : active) {
      member_orders.push_back(torch::randperm(train_size, m->generators[0], index_options));
      epoch_lrs.push_back(learning_rate_at(m->config, m->step, steps_per_epoch));
      loss_terms.label_smoothing.push_back(m->config.label_smoothing);
      loss_terms.l1.push_back(m->config.l1);
      loss_terms.l2.push_back(m->config.l2);
    }
    const auto orders = torch::stack(member_orders);  // [K, train_size]: positions in each member's split
    const auto weights = model->penalised_weights();
    auto loss_sum = torch::zeros({packed}, scalar_options);
    auto correct = torch::zeros({packed}, scalar_options);
    auto seen_nonfinite = torch::zeros({packed}, torch::TensorOptions().dtype(torch::kBool).device(device));
    auto clean_steps = torch::zeros({packed}, scalar_options);

    for (int64_t epoch_step = 0; epoch_step < steps_per_epoch; ++epoch_step) {
      // Batch: each member's own, gathered by its own order and augmented by its own generator.
      const int64_t first = epoch_step * batch_size;
      const int64_t n = std::min(batch_size, train_size - first);
      const PackBatch batch = data_of_members.train_batch(orders.slice(1, first, first + n));
      for (size_t k = 0; k < active.size(); ++k) {
        Member& m = *active[k];
        if (!m.augment.any()) continue;
        auto own = batch.images.select(0, static_cast<int64_t>(k));
        own.copy_(augment_batch(own, m.augment, m.generators[1]));
      }
      const auto& labels = batch.labels;  // [K, n]

      // Forward, each member's loss (its label smoothing, its L1/L2), backward.
      torch::Tensor logits;
      {
        AutocastScope autocast(shape.precision, device);
        logits = model->forward(batch.images);  // [K, n, 10]
      }
      torch::Tensor member_loss;  // each member's cross-entropy sum over its batch [K]
      auto loss = packed_loss(logits, labels, loss_terms, weights, &member_loss);
      optimizer->zero_grad();
      loss.sum().backward();  // members are independent: each gets its own gradient
      std::vector<double> lrs;
      for (auto* m : active) lrs.push_back(learning_rate_at(m->config, m->step, steps_per_epoch));
      optimizer->step(lrs);
      for (auto* m : active) ++m->step;

      // Bookkeeping, on the device.
      auto detached = member_loss.to(torch::kFloat64);
      loss_sum += detached;
      correct += (logits.detach().argmax(2) == labels).sum(1).to(torch::kFloat64);
      seen_nonfinite |= ~torch::isfinite(detached);
      clean_steps += (~seen_nonfinite).to(torch::kFloat64);
    }

    auto host = torch::stack({loss_sum, correct, clean_steps}).to(torch::kCPU);  // waits: the epoch's time is real
    const double epoch_seconds = seconds_since(epoch_start);
    auto cell = host.accessor<double, 2>();
    // A member that diverged fails alone; the others go on.
    for (size_t k = 0; k < active.size(); ++k) {
      Member& m = *active[k];
      const auto clean = static_cast<int64_t>(cell[2][static_cast<int64_t>(k)]);
      if (clean < steps_per_epoch) fail_member(m, DivergedError(m.epoch + 1, clean + 1).what(), on_end);
    }

    // Predictions every epoch (early stopping may end a run at any epoch).
    const auto val = evaluate_active(Split::val, false);
    const auto test = evaluate_active(Split::test, true);
    const auto train_clean = evaluate_active(Split::train_eval, false);  // eval mode, no augmentation
    for (size_t k = 0; k < active.size(); ++k) {
      Member& m = *active[k];
      if (m.ended) continue;
      const auto column = static_cast<int64_t>(k);
      m.epoch += 1;
      EpochMetrics row;
      row.epoch = m.epoch;
      row.train_loss = cell[0][column] / static_cast<double>(train_size);
      row.train_acc = cell[1][column] / static_cast<double>(train_size);
      row.val_loss = val[k].loss, row.val_acc = val[k].accuracy;
      row.test_loss = test[k].loss, row.test_acc = test[k].accuracy;
      row.lr = epoch_lrs[k];
      row.epoch_seconds = epoch_seconds;
      row.images_per_second = static_cast<double>(train_size) / epoch_seconds;
      row.train_eval_loss = train_clean[k].loss, row.train_eval_acc = train_clean[k].accuracy;
      row.pack_members = static_cast<double>(packed);  // the epoch's time was theirs together
      TrainResult& r = m.result;
      r.curves.push_back(row);
      if (data_of_members.size(Split::val) > 0 ? val[k].accuracy > r.best_val_acc || r.best_epoch == 0 : true) {
        r.best_epoch = m.epoch;
        r.best_val_acc = val[k].accuracy;
        r.test_acc_at_best_val = test[k].accuracy;
      }
      // Saved before the row is reported, as train() does (the last epoch too), in the lone run's format.
      if (!m.checkpoint_path.empty()) {
        model->copy_member_to(column, *m.lone);
        optimizer->copy_member_to(column, *m.lone_optimizer, m.lone->parameters());
        const TrainingProgress progress{m.epoch, m.step, m.earlier_seconds + seconds_since(run_start), r.curves,
                                        r.best_epoch, r.best_val_acc, r.test_acc_at_best_val};
        try {
          TrainingState state = state_of(m);
          save_checkpoint(m.checkpoint_path, m.checkpoint_key, state, progress);
        } catch (const std::runtime_error& e) {
          if (m.request->checkpoint.on_warning)
            m.request->checkpoint.on_warning(std::string(e.what()) + "; training goes on without checkpoints");
          m.checkpoint_path.clear();
        }
      }
    }
    // Reported once every member's epoch is saved: a stop requested from one
    // member's callback (Interrupted) leaves every member's finished epoch in
    // its checkpoint, so the pack resumes whole, as it was.
    for (size_t k = 0; k < active.size(); ++k) {
      Member& m = *active[k];
      if (m.ended) continue;
      const EpochMetrics& row = m.result.curves.back();
      const EpochVerdict verdict = m.request->on_epoch ? m.request->on_epoch(row) : EpochVerdict::go_on;
      if (m.epoch == m.config.epochs || verdict != EpochVerdict::go_on)
        end_member(m, val[k], test[k], on_end, run_start);
    }
    shrink();
  }
}

}  // namespace ablate
