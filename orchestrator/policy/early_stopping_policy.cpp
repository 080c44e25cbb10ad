// The rung ladder and the ledger queries the early-stopping policies share.
#include "orchestrator/policy/early_stopping_policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/curve_fields.hpp"

namespace ablate {

EarlyStoppingPolicy::EarlyStoppingPolicy(const sweeps::EarlyStopping& settings, std::vector<PolicyPoint> points,
                                         ResultsFile& results)
    : settings_(settings), points_(std::move(points)), results_(results), metric_(nullptr) {
  for (const auto& field : kCurveFields)
    if (settings_.metric == field.name) metric_ = field.member;
  if (!metric_) throw std::invalid_argument(fmt::format("early stopping: unknown metric '{}'", settings_.metric));
  budget_ = points_.empty() ? 0 : points_.front().epochs;
  rungs_ = sweeps::rung_epochs(settings_, budget_);
}

bool EarlyStoppingPolicy::better(double a, double b) const {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return settings_.maximize ? a > b : a < b;
}

std::optional<double> EarlyStoppingPolicy::mark_at(const LedgerPoint& point, int epoch) const {
  for (const auto& mark : point.rungs)
    if (mark.epoch == epoch) return mark.value;
  return std::nullopt;
}

std::optional<double> EarlyStoppingPolicy::value_at(const LedgerPoint& point, int epoch) const {
  for (const auto& row : point.curves)
    if (row.epoch == epoch) return row.*metric_;
  return std::nullopt;
}

std::vector<std::string> EarlyStoppingPolicy::best_at_rung(std::vector<std::string> ids, int epoch, size_t k) const {
  std::stable_sort(ids.begin(), ids.end(), [&](const std::string& a, const std::string& b) {
    return better(*mark_at(ledger(a), epoch), *mark_at(ledger(b), epoch));
  });
  ids.resize(std::min(k, ids.size()));
  return ids;
}

int EarlyStoppingPolicy::next_rung(int epoch) const {
  for (int rung : rungs_)
    if (rung > epoch) return rung;
  return budget_;
}

int EarlyStoppingPolicy::paused_epoch(const LedgerPoint& point) {
  return point.rungs.empty() ? 0 : point.rungs.back().epoch;
}

Assignment EarlyStoppingPolicy::assignment_for(const LedgerPoint& point, int first_until, bool each_epoch) const {
  const int until = point.until > 0 ? point.until : first_until;
  Assignment assignment;
  assignment.id = point.planned.id;
  assignment.until = until >= budget_ ? 0 : until;
  assignment.verdict_each_epoch = each_epoch;
  return assignment;
}

Assignment EarlyStoppingPolicy::promote(const std::string& id, int until, const std::string& reason,
                                        bool each_epoch) {
  results_.promote_point(id, until, reason);
  return assignment_for(ledger(id), until, each_epoch);
}

std::string EarlyStoppingPolicy::describe() const {
  return fmt::format("early stopping: {} on {} ({} is better), eta {}, rungs at epochs {}", settings_.method,
                     settings_.metric, settings_.maximize ? "higher" : "lower", settings_.reduction_factor,
                     fmt::join(rungs_, ", "));
}

void EarlyStoppingPolicy::add_points(std::vector<PolicyPoint> points) {
  if (points.empty()) return;
  if (points_.empty()) {
    budget_ = points.front().epochs;
    rungs_ = sweeps::rung_epochs(settings_, budget_);
  }
  for (auto& p : points) points_.push_back(std::move(p));
}

void EarlyStoppingPolicy::finish() {
  for (const auto& p : points_)
    if (ledger(p.id).status == PointStatus::paused) results_.stop_point(p.id, "end of sweep");
}

}  // namespace ablate
