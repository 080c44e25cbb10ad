// The Search bookkeeping every method shares, the journal form of its history,
// the points of a suggestion, and the choice of method.
#include "sweeps/search/search.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "core/config.hpp"
#include "sweeps/expand.hpp"
#include "sweeps/search/plan_values.hpp"
#include "sweeps/search/static_search.hpp"
#include "sweeps/search/tpe.hpp"

namespace ablate::sweeps {

using nlohmann::json;

std::optional<Suggestion> Search::suggest() {
  const int trial = suggested();
  if (trial >= trials_) return std::nullopt;
  json values;
  // A repeat of an earlier trial, or values that make an invalid config together
  // (a cross-key problem expansion could not rule out), are proposed again.
  std::unordered_set<std::string> invalid_values;
  std::optional<SpecError> invalid;
  const auto taken = [&](const std::string& text) {
    return values_seen_.contains(text) || invalid_values.contains(text);
  };
  for (int attempt = 0;; ++attempt) {
    const bool proposing = attempt < kMaxAttempts;
    values = proposing ? propose(trial, attempt) : unused_configuration(taken);
    const std::string text = values.dump();
    if (!taken(text)) {
      try {
        points_for(Suggestion{trial, method(), values});
        break;
      } catch (const SpecError& e) {
        invalid = e;
        invalid_values.insert(text);
      }
    } else if (!proposing) {
      if (invalid) throw *invalid;
      throw SearchError(fmt::format("trial {}: no unused configuration is left ({} suggested)", trial, trial));
    }
  }
  SearchRecord record{SearchRecord::Kind::kSuggested, trial, method(), values, std::nullopt};
  replay(record);
  return Suggestion{trial, method(), std::move(values)};
}

void Search::check_observable(int trial) const {
  if (trial < 0 || trial >= suggested())
    throw SearchError(
        fmt::format("trial {} cannot be observed: only trials 0 to {} have been suggested", trial, suggested() - 1));
  if (trials_seen_[trial].observed) throw SearchError(fmt::format("trial {} is observed twice", trial));
}

void Search::observe(int trial, std::optional<double> objective) {
  if (objective && !std::isfinite(*objective)) objective.reset();
  replay(SearchRecord{SearchRecord::Kind::kObserved, trial, "", json(), objective});
}

void Search::replay(const SearchRecord& record) {
  if (record.kind == SearchRecord::Kind::kSuggested) {
    if (record.trial != suggested())
      throw SearchError(
          fmt::format("the history suggests trial {} where trial {} comes next: the journal is out of "
                      "order or from another sweep",
                      record.trial, suggested()));
    if (record.trial >= trials_)
      throw SearchError(
          fmt::format("the history suggests trial {}, but this search has only {} trials", record.trial, trials_));
    if (record.suggested_by != method())
      throw SearchError(fmt::format("trial {} was suggested by {}, but this sweep searches with {}", record.trial,
                                    record.suggested_by, method()));
    if (!record.values.is_object())
      throw SearchError(fmt::format("trial {}: the suggested values must be a JSON object", record.trial));
    trials_seen_.push_back(Trial{record.values, false, std::nullopt});
    values_seen_.insert(record.values.dump());
  } else {
    check_observable(record.trial);
    Trial& trial = trials_seen_[record.trial];
    trial.observed = true;
    if (record.objective && std::isfinite(*record.objective)) trial.objective = record.objective;
    ++observed_;
  }
  history_.push_back(record);
}

json Search::unused_configuration(const std::function<bool(const std::string&)>&) const {
  throw SearchError(fmt::format("trial {}: {} proposals in a row repeated earlier trials", suggested(), kMaxAttempts));
}

json to_json(const SearchRecord& record) {
  if (record.kind == SearchRecord::Kind::kSuggested)
    return {{"search", "suggested"},
            {"trial", record.trial},
            {"suggested_by", record.suggested_by},
            {"values", record.values}};
  return {{"search", "observed"},
          {"trial", record.trial},
          {"objective", record.objective ? json(*record.objective) : json(nullptr)}};
}

SearchRecord search_record_from_json(const json& in) {
  auto field = [&](const char* name) -> const json& {
    if (!in.is_object() || !in.contains(name))
      throw SearchError(fmt::format("a search record needs '{}': {}", name, in.dump()));
    return in.at(name);
  };
  SearchRecord record;
  const json& kind = field("search");
  const json& trial = field("trial");
  if (!trial.is_number_integer() || trial.get<int64_t>() < 0 || trial.get<int64_t>() > std::numeric_limits<int>::max())
    throw SearchError(fmt::format("a search record's trial must be an integer >= 0: {}", in.dump()));
  record.trial = trial.get<int>();
  if (kind == "suggested") {
    record.kind = SearchRecord::Kind::kSuggested;
    const json& by = field("suggested_by");
    if (!by.is_string()) throw SearchError(fmt::format("suggested_by must be a string: {}", in.dump()));
    record.suggested_by = by.get<std::string>();
    record.values = field("values");
    if (!record.values.is_object()) throw SearchError(fmt::format("values must be an object: {}", in.dump()));
  } else if (kind == "observed") {
    record.kind = SearchRecord::Kind::kObserved;
    const json& objective = field("objective");
    if (objective.is_number()) {
      record.objective = objective.get<double>();
    } else if (!objective.is_null()) {
      throw SearchError(fmt::format("objective must be a number or null (failed): {}", in.dump()));
    }
  } else {
    throw SearchError(fmt::format("a search record is \"suggested\" or \"observed\": {}", in.dump()));
  }
  return record;
}

std::vector<SweepPoint> search_points(const SearchPlan& plan, const std::vector<int>& seeds,
                                      const Suggestion& suggestion) {
  json partial = plan.fixed;
  for (const auto& [key, value] : suggestion.values.items()) partial[key] = value;
  json canonical;
  try {
    canonical = canonicalize_config(partial);
  } catch (const ConfigError& e) {
    throw SpecError(plan.source_name, plan.settings.pos,
                    fmt::format("{} (in search trial {}: {})", e.what(), suggestion.trial, suggestion.values.dump()));
  }
  std::vector<SweepPoint> points = seeded_points(std::move(canonical), seeds);
  for (auto& point : points) {
    point.trial = suggestion.trial;
    point.suggested_by = suggestion.suggested_by;
    point.varied = json::object();
    for (const auto& k : plan.keys) point.varied[k.key] = point.config.at(k.key);
  }
  return points;
}

std::optional<uint64_t> discrete_space_size(const std::vector<SearchedKey>& keys) {
  uint64_t size = 1;
  for (const auto& k : keys) {
    uint64_t count;
    if (k.dist.kind == Distribution::Kind::kChoice)
      count = k.dist.values.size();
    else if (k.dist.kind == Distribution::Kind::kIntUniform)
      count = static_cast<uint64_t>(static_cast<int64_t>(k.dist.high) - static_cast<int64_t>(k.dist.low)) + 1;
    else
      return std::nullopt;
    if (__builtin_mul_overflow(size, count, &size)) size = std::numeric_limits<uint64_t>::max();
  }
  return size;
}

std::unique_ptr<Search> make_search(const Sweep& sweep) {
  if (!sweep.search) return make_static_search(sweep);
  if (sweep.search->settings.method == "tpe") return make_tpe_search(*sweep.search, sweep.seeds);
  return make_random_search(*sweep.search, sweep.seeds);
}

}  // namespace ablate::sweeps
