// Synchronous successive halving, one bracket or Hyperband's several.
#include "orchestrator/policy/successive_halving_policy.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace ablate {
namespace {

// FNV-1a: the same value in every process and build (std::hash is neither).
uint64_t stable_hash(const std::string& text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

}  // namespace

int hyperband_bracket(const std::string& config_text, int s_max, int eta) {
  nlohmann::json config = nlohmann::json::parse(config_text);
  config.erase("seed");  // every seed of a configuration lands in one bracket
  std::vector<double> weights;
  double total = 0;
  for (int s = 0; s <= s_max; ++s) {
    weights.push_back(std::ceil((s_max + 1.0) / (s + 1.0) * std::pow(eta, s)));
    total += weights.back();
  }
  const double u = static_cast<double>(stable_hash(config.dump()) >> 11) * 0x1.0p-53 * total;
  double cumulative = 0;
  for (int s = 0; s <= s_max; ++s) {
    cumulative += weights[static_cast<size_t>(s)];
    if (u < cumulative) return s;
  }
  return s_max;
}

SuccessiveHalvingPolicy::SuccessiveHalvingPolicy(const sweeps::EarlyStopping& settings,
                                                 std::vector<PolicyPoint> points, ResultsFile& results,
                                                 bool hyperband)
    : EarlyStoppingPolicy(settings, std::move(points), results) {
  const int s_max = static_cast<int>(rungs_.size()) - 1;
  if (!hyperband) {
    brackets_.push_back({0, {}});
    for (const auto& p : points_) brackets_.front().ids.push_back(p.id);
    return;
  }
  brackets_.resize(static_cast<size_t>(s_max) + 1);
  for (int s = s_max; s >= 0; --s) brackets_[static_cast<size_t>(s_max - s)].first_rung = static_cast<size_t>(s_max - s);
  for (const auto& p : points_) {
    const int s = hyperband_bracket(p.config_text, s_max, settings_.reduction_factor);
    brackets_[static_cast<size_t>(s_max - s)].ids.push_back(p.id);
  }
}

std::optional<Assignment> SuccessiveHalvingPolicy::next(bool, const PointFilter& fits) {
  for (const auto& bracket : brackets_)
    if (auto assignment = next_in(bracket, fits)) return assignment;
  return std::nullopt;
}

// Walks the bracket's rungs: decides every rung that is complete and not yet
// decided, and returns work for the first rung still filling (a point `fits`
// lets in; the decisions do not depend on it).
std::optional<Assignment> SuccessiveHalvingPolicy::next_in(const Bracket& bracket, const PointFilter& fits) {
  std::vector<std::string> alive = bracket.ids;
  for (size_t r = bracket.first_rung; r < rungs_.size(); ++r) {
    const int rung = rungs_[r];
    const bool top_rung = r + 1 == rungs_.size();
    // A point that failed on its way to this rung leaves the bracket.
    std::erase_if(alive, [&](const std::string& id) { return ledger(id).status == PointStatus::failed; });
    std::vector<std::string> reached;
    for (const auto& id : alive) {
      const LedgerPoint& point = ledger(id);
      if (top_rung ? point.status == PointStatus::done : mark_at(point, rung).has_value()) {
        reached.push_back(id);
      } else if (point.status == PointStatus::pending && admits(fits, id)) {
        return assignment_for(point, rung);  // still to reach this rung
      }
    }
    if (top_rung || reached.size() < alive.size()) return std::nullopt;  // the rung is filling (or the bracket done)
    const size_t keep = std::max<size_t>(1, reached.size() / static_cast<size_t>(settings_.reduction_factor));
    alive = best_at_rung(reached, rung, keep);
    std::optional<Assignment> first;
    for (const auto& id : reached) {
      const LedgerPoint& point = ledger(id);
      if (point.status != PointStatus::paused || paused_epoch(point) != rung) continue;  // decided before
      if (std::find(alive.begin(), alive.end(), id) == alive.end())
        results_.stop_point(id, "rung");
      else if (auto promoted = promote(id, next_rung(rung), "top"); !first && admits(fits, id))
        first = promoted;
    }
    if (first) return first;
  }
  return std::nullopt;
}

}  // namespace ablate
