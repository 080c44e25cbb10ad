// The packed optimizer: torch::optim's SGD / Adam / AdamW updates, per member.
#include "trainer/packed/packed_optimizer.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "trainer/packed/fused_sgd.hpp"

namespace ablate {
namespace {

// torch::optim's Adam and AdamW defaults, which make_optimizer keeps.
constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEpsilon = 1e-8;

bool any_nonzero(const std::vector<double>& values) {
  for (double v : values)
    if (v != 0) return true;
  return false;
}

}  // namespace

PackedOptimizer::PackedOptimizer(std::vector<torch::Tensor> parameters, const std::vector<TrainConfig>& configs)
    : parameters_(std::move(parameters)) {
  if (configs.empty()) throw std::invalid_argument("a packed optimizer needs at least one member");
  kind_ = configs.front().optimizer;
  nesterov_ = configs.front().nesterov;
  for (const auto& config : configs) {
    if (config.optimizer != kind_ || config.nesterov != nesterov_)
      throw ConfigError("optimizer", "pack members must share the optimizer and nesterov (shape keys)");
    momentum_.push_back(kind_ == "sgd" ? config.momentum : 0.0);
    weight_decay_.push_back(config.weight_decay);
    steps_.push_back(0);
  }
  if (kind_ != "sgd" && kind_ != "adam" && kind_ != "adamw")
    throw ConfigError("optimizer", fmt::format("unknown optimizer '{}'", kind_));
  // Zero state is the lone optimizer's first step exactly: a momentum buffer
  // 0 * m + d is d (its clone), and Adam's moments start at zero.
  for (const auto& p : parameters_) {
    first_moment_.push_back(torch::zeros_like(p));
    if (kind_ != "sgd") second_moment_.push_back(torch::zeros_like(p));
  }
}

torch::Tensor PackedOptimizer::per_member(const torch::Tensor& values, const torch::Tensor& like) {
  std::vector<int64_t> shape(static_cast<size_t>(like.dim()), 1);
  shape[0] = values.size(0);
  return values.view(shape);
}

void PackedOptimizer::zero_grad() {
  for (auto& p : parameters_) p.mutable_grad() = torch::Tensor();  // as torch::optim's zero_grad(set_to_none)
}

void PackedOptimizer::step(const std::vector<double>& lrs) {
  torch::NoGradGuard no_grad;
  if (parameters_.empty()) return;
  const size_t members = lrs.size();
  const bool decay = any_nonzero(weight_decay_);
  // This step's per-member numbers, a row each, made into one tensor on the
  // parameters' device and type when the tensor form needs them (one copy per
  // step, not one per parameter and number).
  enum Row { kDecay, kMomentum, kNegativeLr, kBiasCorrection2Root, kNegativeStepSize, kDecoupledDecay, kRows };
  std::vector<double> table(kRows * members);
  auto cell = [&](Row row, size_t k) -> double& { return table[row * members + k]; };
  for (size_t k = 0; k < members; ++k) {
    cell(kDecay, k) = weight_decay_[k];
    cell(kMomentum, k) = momentum_[k];
    cell(kNegativeLr, k) = -lrs[k];
    if (kind_ == "sgd") continue;
    ++steps_[k];
    const double bias_correction1 = 1 - std::pow(kBeta1, static_cast<double>(steps_[k]));
    const double bias_correction2 = 1 - std::pow(kBeta2, static_cast<double>(steps_[k]));
    cell(kBiasCorrection2Root, k) = std::sqrt(bias_correction2);
    cell(kNegativeStepSize, k) = -lrs[k] / bias_correction1;
    cell(kDecoupledDecay, k) = 1 - lrs[k] * weight_decay_[k];
  }
  torch::Tensor rows;  // made at its first use: the fused CPU SGD step needs none
  auto column = [&](Row row, const torch::Tensor& like) {
    if (!rows.defined())
      rows = torch::tensor(table, torch::kFloat64)
                 .view({kRows, static_cast<int64_t>(members)})
                 .to(parameters_.front().options());
    return per_member(rows[row], like);
  };
  std::vector<SgdMemberNumbers> sgd_numbers;
  if (kind_ == "sgd")
    for (size_t k = 0; k < members; ++k) sgd_numbers.push_back({lrs[k], momentum_[k], weight_decay_[k]});

  for (size_t i = 0; i < parameters_.size(); ++i) {
    auto& p = parameters_[i];
    if (!p.grad().defined()) continue;
    torch::Tensor grad = p.grad();
    if (kind_ == "sgd" && can_fuse_sgd(p, grad, first_moment_[i])) {
      fused_sgd_step(p, grad, first_moment_[i], sgd_numbers, nesterov_, any_nonzero(momentum_));
      continue;
    }
    if (kind_ == "sgd") {
      // One pass per line: a pack's state outgrows the caches, so each pass is a trip to memory.
      if (decay) grad = torch::addcmul(grad, column(kDecay, p), p);
      auto& buffer = first_moment_[i];
      if (any_nonzero(momentum_)) {
        const auto momentum = column(kMomentum, p);
        at::addcmul_out(buffer, grad, buffer, momentum);  // buffer = momentum * buffer + grad
        grad = nesterov_ ? grad + momentum * buffer : buffer;
      }
      p.addcmul_(grad, column(kNegativeLr, p));
      continue;
    }
    if (kind_ == "adamw") {
      if (decay) p.mul_(column(kDecoupledDecay, p));
    } else if (decay) {
      grad = torch::addcmul(grad, column(kDecay, p), p);
    }
    auto& exp_avg = first_moment_[i];
    auto& exp_avg_sq = second_moment_[i];
    exp_avg.mul_(kBeta1).add_(grad, 1 - kBeta1);
    exp_avg_sq.mul_(kBeta2).addcmul_(grad, grad, 1 - kBeta2);
    auto denominator = (exp_avg_sq.sqrt() / column(kBiasCorrection2Root, p)).add_(kEpsilon);
    p.addcmul_(exp_avg / denominator, column(kNegativeStepSize, p));
  }
}

void PackedOptimizer::copy_member_to(int64_t k, torch::optim::Optimizer& lone,
                                     const std::vector<torch::Tensor>& lone_parameters) const {
  torch::NoGradGuard no_grad;
  auto& state = lone.state();
  state.clear();
  const auto member = static_cast<size_t>(k);
  for (size_t i = 0; i < lone_parameters.size(); ++i) {
    void* key = lone_parameters[i].unsafeGetTensorImpl();
    if (kind_ == "sgd") {
      if (momentum_[member] == 0) continue;  // the lone SGD keeps no buffer then
      auto s = std::make_unique<torch::optim::SGDParamState>();
      s->momentum_buffer(first_moment_[i][k].clone());
      state[key] = std::move(s);
    } else if (kind_ == "adam") {
      auto s = std::make_unique<torch::optim::AdamParamState>();
      s->step(steps_[member]).exp_avg(first_moment_[i][k].clone()).exp_avg_sq(second_moment_[i][k].clone());
      state[key] = std::move(s);
    } else {
      auto s = std::make_unique<torch::optim::AdamWParamState>();
      s->step(steps_[member]).exp_avg(first_moment_[i][k].clone()).exp_avg_sq(second_moment_[i][k].clone());
      state[key] = std::move(s);
    }
  }
}

void PackedOptimizer::copy_member_from(int64_t k, torch::optim::Optimizer& lone,
                                       const std::vector<torch::Tensor>& lone_parameters) {
  torch::NoGradGuard no_grad;
  const auto& state = lone.state();
  const auto member = static_cast<size_t>(k);
  for (size_t i = 0; i < lone_parameters.size(); ++i) {
    const auto found = state.find(lone_parameters[i].unsafeGetTensorImpl());
    first_moment_[i][k].zero_();
    if (kind_ != "sgd") second_moment_[i][k].zero_();
    if (found == state.end()) continue;
    if (kind_ == "sgd") {
      const auto& s = static_cast<const torch::optim::SGDParamState&>(*found->second);
      if (s.momentum_buffer().defined()) first_moment_[i][k].copy_(s.momentum_buffer());
    } else if (kind_ == "adam") {
      const auto& s = static_cast<const torch::optim::AdamParamState&>(*found->second);
      first_moment_[i][k].copy_(s.exp_avg());
      second_moment_[i][k].copy_(s.exp_avg_sq());
      steps_[member] = s.step();
    } else {
      const auto& s = static_cast<const torch::optim::AdamWParamState&>(*found->second);
      first_moment_[i][k].copy_(s.exp_avg());
      second_moment_[i][k].copy_(s.exp_avg_sq());
      steps_[member] = s.step();
    }
  }
}

void PackedOptimizer::keep_members(const std::vector<int64_t>& kept, std::vector<torch::Tensor> parameters) {
  torch::NoGradGuard no_grad;
  parameters_ = std::move(parameters);
  const auto index = torch::tensor(kept, torch::kInt64).to(parameters_.front().device());
  // Each state stack keeps its parameter's memory order (elementwise passes over like-laid-out tensors).
  auto select_like_parameter = [&](std::vector<torch::Tensor>& stacks) {
    for (size_t i = 0; i < stacks.size(); ++i)
      stacks[i] = torch::empty_like(parameters_[i]).copy_(stacks[i].index_select(0, index));
  };
  select_like_parameter(first_moment_);
  select_like_parameter(second_moment_);
  auto select = [&](auto& values) {
    std::remove_reference_t<decltype(values)> selected;
    for (int64_t k : kept) selected.push_back(values[static_cast<size_t>(k)]);
    values = std::move(selected);
  };
  select(momentum_);
  select(weight_decay_);
  select(steps_);
}

}  // namespace ablate
