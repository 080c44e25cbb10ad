// A [search] sweep's trials: suggest, journal, plan, observe.
#include "orchestrator/policy/search_policy.hpp"

#include <fmt/format.h>

#include <cmath>

#include "orchestrator/planned_points.hpp"

namespace ablate {
namespace {

std::string value_text(const nlohmann::json& value) {
  if (value.is_number_float()) return fmt::format("{:.4g}", value.get<double>());
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// "trial 3 lr=0.0012 dropout=0.1 seed=0": what a person recognises.
std::string trial_label(const sweeps::SweepPoint& point) {
  std::string label = fmt::format("trial {}", point.trial);
  for (const auto& [key, value] : point.varied.items()) label += fmt::format(" {}={}", key, value_text(value));
  return label + fmt::format(" seed={}", point.seed);
}

}  // namespace

SearchPolicy::SearchPolicy(const sweeps::Sweep& sweep, std::unique_ptr<SchedulingPolicy> inner, ResultsFile& results)
    : search_(sweeps::make_search(sweep)),
      inner_(std::move(inner)),
      results_(results),
      seeds_(static_cast<int>(sweep.seeds.size())) {
  // 1. The search as the journal left it, in journal order.
  for (const auto& record : results_.search_records()) search_->replay(sweeps::search_record_from_json(record));
  // 2. Every suggested trial's points, planned again where a kill came between
  //    the suggestion and its plan, and handed to the inner policy in trial order.
  for (const auto& record : search_->history())
    if (record.kind == sweeps::SearchRecord::Kind::kSuggested)
      plan_trial(sweeps::Suggestion{record.trial, record.suggested_by, record.values});
    else
      observed_.at(static_cast<size_t>(record.trial)) = true;
  // 3. Trials that finished while their observation was not yet journaled.
  for (int trial = 0; trial < static_cast<int>(trial_ids_.size()); ++trial) observe_if_settled(trial);
}

void SearchPolicy::plan_trial(const sweeps::Suggestion& suggestion) {
  const std::vector<sweeps::SweepPoint> points = search_->points_for(suggestion);
  std::vector<PolicyPoint> for_policy;
  std::vector<std::string> ids;
  for (const auto& p : points) {
    const int epochs = p.config.value("epochs", 0);
    for_policy.push_back({p.id, epochs, p.config_text});
    points_[p.id] = {p.config_text, trial_label(p), epochs};
    trial_of_[p.id] = suggestion.trial;
    ids.push_back(p.id);
  }
  results_.plan(planned_points(points));  // points the ledger has already are left as they are
  if (trial_ids_.size() <= static_cast<size_t>(suggestion.trial)) {
    trial_ids_.resize(static_cast<size_t>(suggestion.trial) + 1);
    observed_.resize(trial_ids_.size(), false);
  }
  trial_ids_[static_cast<size_t>(suggestion.trial)] = std::move(ids);
  inner_->add_points(std::move(for_policy));
}

void SearchPolicy::observe_if_settled(int trial) {
  if (observed_.at(static_cast<size_t>(trial))) return;
  double sum = 0;
  bool failed = false;
  for (const auto& id : trial_ids_[static_cast<size_t>(trial)]) {
    const LedgerPoint& point = results_.point(id);
    if (point.status == PointStatus::failed) {
      failed = true;
    } else if (is_finished(point.status) || point.status == PointStatus::paused) {
      if (point.result) sum += point.result->best_val_acc;
    } else {
      return;  // a seed still to train
    }
  }
  std::optional<double> objective;
  if (!failed) objective = sum / static_cast<double>(trial_ids_[static_cast<size_t>(trial)].size());
  search_->observe(trial, objective);
  results_.record_search(sweeps::to_json(search_->history().back()));
  observed_[static_cast<size_t>(trial)] = true;
}

Assignment SearchPolicy::with_point(Assignment assignment) const {
  if (const auto it = points_.find(assignment.id); it != points_.end()) {
    assignment.config_text = it->second.config_text;
    assignment.label = it->second.label;
    assignment.epochs = it->second.epochs;
  }
  return assignment;
}

std::optional<Assignment> SearchPolicy::next(bool others_busy, const PointFilter& fits) {
  // 1. A point planned so far. Not yet the inner policy's "rather than idle"
  //    choices (others_busy): a new trial comes before those.
  if (auto assignment = inner_->next(/*others_busy=*/false, fits)) return with_point(*assignment);
  // 2. A new trial: journaled before its points are planned, so a resume knows
  //    the suggestion even if the kill comes in between. Filling a pack, one
  //    trial at most: one whose points do not fit waits for the next pack
  //    rather than the search suggesting on until something fits.
  while (const auto suggestion = search_->suggest()) {
    results_.record_search(sweeps::to_json(search_->history().back()));
    plan_trial(*suggestion);
    if (auto assignment = inner_->next(others_busy, fits)) return with_point(*assignment);
    if (fits) return std::nullopt;
  }
  // 3. Every trial is suggested: what the inner policy does rather than idle.
  if (auto assignment = inner_->next(others_busy, fits)) return with_point(*assignment);
  return std::nullopt;
}

void SearchPolicy::on_outcome(const std::string& id) {
  inner_->on_outcome(id);
  if (const auto it = trial_of_.find(id); it != trial_of_.end()) observe_if_settled(it->second);
}

void SearchPolicy::finish() {
  inner_->finish();
  for (int trial = 0; trial < static_cast<int>(trial_ids_.size()); ++trial) observe_if_settled(trial);
}

std::string SearchPolicy::describe() const {
  std::string line = fmt::format("search: {} trials x {} seeds, suggested so far {}, observed {}", search_->trials(),
                                 seeds_, search_->suggested(), search_->observed());
  if (const std::string inner = inner_->describe(); !inner.empty()) line += "\n" + inner;
  return line;
}

}  // namespace ablate
