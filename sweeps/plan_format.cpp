// format_plan: the table `ablate plan` prints before anything trains.
#include <fmt/format.h>

#include <map>
#include <set>

#include "sweeps/search/plan_values.hpp"
#include "sweeps/sweep.hpp"
#include "core/config.hpp"

namespace ablate::sweeps {
namespace {

using nlohmann::json;

// An assumption, stated in the output: roughly what LibTorch sustains on a few
// CPU cores for these small models. GPUs are one to two orders of magnitude faster.
constexpr double kAssumedFlopsPerSecond = 20e9;

// Wider than this, the varied column lists only where a point departs from the
// sweep's most common values: a row of 15 unchanged settings hides the one that matters.
constexpr size_t kFullVariedWidth = 100;

std::string shown(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

std::string count_of(size_t n, const std::string& noun) { return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s"); }

std::string duration_text(double seconds) {
  if (seconds < 120) return fmt::format("{:.0f} s", seconds);
  if (seconds < 120 * 60) return fmt::format("{:.0f} min", seconds / 60);
  if (seconds < 48 * 3600) return fmt::format("{:.1f} h", seconds / 3600);
  return fmt::format("{:.1f} days", seconds / 86400);
}

std::string gflop_text(double flops) {
  const double gflop = flops / 1e9;
  return gflop < 10 ? fmt::format("{:.2f}", gflop) : fmt::format("{:.0f}", gflop);
}

// key=value for each varied key, skipping those equal to `common` (when given).
std::string varied_text(const Sweep& sweep, const SweepPoint& point, const json* common) {
  std::vector<std::string> parts;
  for (const auto& key : sweep.varied_keys) {
    const json& value = point.varied.at(key);
    if (common && common->at(key) == value) continue;
    parts.push_back(key + "=" + shown(value));
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

// The most common value of each varied key (the earliest one on ties).
json most_common_values(const Sweep& sweep) {
  json common = json::object();
  for (const auto& key : sweep.varied_keys) {
    std::map<std::string, int> counts;
    int best = 0;
    for (const auto& point : sweep.points) {
      const json& value = point.varied.at(key);
      if (++counts[value.dump()] > best) best = counts[value.dump()], common[key] = value;
    }
  }
  return common;
}

std::string range_text(const Distribution& dist) {
  if (dist.kind == Distribution::Kind::kChoice) {
    std::vector<std::string> shown_values;
    for (const auto& v : dist.values) shown_values.push_back(shown(v));
    return fmt::format("{{{}}}", fmt::join(shown_values, ", "));
  }
  if (dist.kind == Distribution::Kind::kIntUniform)
    return fmt::format("[{}, {}]", static_cast<int64_t>(dist.low), static_cast<int64_t>(dist.high));
  return fmt::format("[{}, {}]", json(dist.low).dump(), json(dist.high).dump());
}

// The points of a [search] sweep are suggested while it runs, so its plan is the
// budget, the space and the values every trial shares.
std::string format_search_plan(const Sweep& sweep) {
  const SearchPlan& plan = *sweep.search;
  const SearchSettings& settings = plan.settings;
  std::string out = fmt::format("Sweep '{}' ({})\n", sweep.name, sweep.source_path);
  if (!sweep.description.empty()) out += sweep.description + "\n";
  const size_t points = static_cast<size_t>(settings.trials) * sweep.seeds.size();
  out += fmt::format("\nSearch: {} (seed {}), {} x {} = at most {}.\n", settings.method, settings.seed,
                     count_of(settings.trials, "trial"), count_of(sweep.seeds.size(), "seed"),
                     count_of(points, "point"));
  if (settings.method == "random") {
    out += "Every trial is a random draw from the distributions below.\n";
  } else if (settings.startup_trials >= settings.trials) {
    out += fmt::format("All {} are random draws (startup_trials = trials): TPE never uses its model.\n",
                       count_of(settings.trials, "trial"));
  } else {
    out += fmt::format(
        "Startup: the first {} random draws; then TPE suggests each trial from those observed so far (a trial is "
        "observed when all its seeds have finished).\n",
        settings.startup_trials == 1 ? std::string("trial is a")
                                     : fmt::format("{} trials are", settings.startup_trials));
  }
  out += "The points are not known in advance: `ablate status` lists them as they are suggested.\n\n";

  size_t key_width = 3;
  for (const auto& k : plan.keys) key_width = std::max(key_width, k.key.size());
  out += fmt::format("{:<{}}  {:<12}  {}\n", "key", key_width, "distribution", "range");
  for (const auto& k : plan.keys)
    out += fmt::format("{:<{}}  {:<12}  {}\n", k.key, key_width,
                       distribution_names().at(static_cast<size_t>(k.dist.kind)), range_text(k.dist));
  std::vector<std::string> fixed;
  for (const auto& [key, value] : plan.fixed.items()) fixed.push_back(key + "=" + shown(value));
  if (!fixed.empty()) out += fmt::format("Every trial sets: {}\n", fmt::join(fixed, " "));

  // The cost of a trial depends on the searched values only when a searched key
  // changes the model or the epochs: the mean over the first random draws.
  // A draw that makes an invalid config (a cross-key problem of two drawn values)
  // is refused when suggested; here it just does not count.
  double flops_per_trial = 0;
  int valid_draws = 0;
  for (int t = 0; t < std::min(settings.trials, 64); ++t) {
    json partial = plan.fixed;
    const json draw = random_values(plan, t, 0);
    for (const auto& [key, value] : draw.items()) partial[key] = value;
    try {
      flops_per_trial += estimate_point_cost(canonicalize_config(partial));
      ++valid_draws;
    } catch (const ConfigError&) {
    }
  }
  if (valid_draws > 0) flops_per_trial /= valid_draws;
  const double total_flops = flops_per_trial * static_cast<double>(points);
  out += fmt::format(
      "\nEstimated compute for all {}: {} GFLOP, about {} at an assumed {:.0f} GFLOP/s (a few CPU cores; a GPU "
      "is much faster; early stopping ends many sooner). Rough: matrix products only, training plus per-epoch "
      "evaluation.\n",
      count_of(points, "point"), gflop_text(total_flops), duration_text(total_flops / kAssumedFlopsPerSecond),
      kAssumedFlopsPerSecond / 1e9);
  return out;
}

}  // namespace

std::string format_plan(const Sweep& sweep) {
  if (sweep.search) return format_search_plan(sweep);
  std::set<std::string> configurations;  // distinct configs, seed aside
  double total_flops = 0;
  bool has_cases = false;
  size_t case_width = 4, full_width = 0;
  for (const auto& point : sweep.points) {
    json unseeded = point.config;
    unseeded["seed"] = 0;
    configurations.insert(config_id(unseeded));
    total_flops += point.cost;
    has_cases = has_cases || !point.case_name.empty();
    case_width = std::max(case_width, point.case_name.size());
    full_width = std::max(full_width, varied_text(sweep, point, nullptr).size());
  }
  const bool compact = full_width > kFullVariedWidth;
  const json common = compact ? most_common_values(sweep) : json::object();
  std::vector<std::string> varied_column;
  size_t varied_width = 6;
  for (const auto& point : sweep.points) {
    varied_column.push_back(varied_text(sweep, point, compact ? &common : nullptr));
    varied_width = std::max(varied_width, varied_column.back().size());
  }

  std::string out = fmt::format("Sweep '{}' ({})\n", sweep.name, sweep.source_path);
  if (!sweep.description.empty()) out += sweep.description + "\n";
  if (compact) {
    std::vector<std::string> parts;
    for (const auto& key : sweep.varied_keys) parts.push_back(key + "=" + shown(common.at(key)));
    out += fmt::format("Most points use {}; 'varied' shows where a point differs.\n", fmt::join(parts, " "));
  }
  out += "\n";
  auto row = [&](const std::string& id, const std::string& case_name, const std::string& varied,
                 const std::string& seed) {
    std::string line = fmt::format("{:<16}  ", id);
    if (has_cases) line += fmt::format("{:<{}}  ", case_name, case_width);
    if (!sweep.varied_keys.empty()) line += fmt::format("{:<{}}  ", varied, varied_width);
    line += fmt::format("{:>4}", seed);
    out += line + "\n";
  };
  row("ID", "case", "varied", "seed");
  for (size_t i = 0; i < sweep.points.size(); ++i) {
    const auto& point = sweep.points[i];
    row(point.id, point.case_name, varied_column[i], std::to_string(point.seed));
  }

  out += fmt::format("\n{}: {} x {}", count_of(sweep.points.size(), "point"),
                     count_of(configurations.size(), "configuration"), count_of(sweep.seeds.size(), "seed"));
  if (sweep.collapsed_duplicates > 0)
    out += fmt::format(" ({} collapsed: same config and seed as an earlier point)",
                       count_of(sweep.collapsed_duplicates, "duplicate point"));
  out += fmt::format(
      ".\nEstimated compute: {} GFLOP, about {} at an assumed {:.0f} GFLOP/s (a few CPU cores; a GPU is much "
      "faster). Rough: matrix products only, training plus per-epoch evaluation.\n",
      gflop_text(total_flops), duration_text(total_flops / kAssumedFlopsPerSecond), kAssumedFlopsPerSecond / 1e9);
  if (sweep.early_stopping && !sweep.points.empty()) {
    const EarlyStopping& early = *sweep.early_stopping;
    const int epochs = sweep.points.front().config.at("epochs").get<int>();
    const long long full = static_cast<long long>(sweep.points.size()) * epochs;
    out += fmt::format("Early stopping: {} on {}, rungs at epochs {}. The estimate above is the most it can cost "
                       "({} epochs, every point to the end)",
                       early.method, early.metric, fmt::join(rung_epochs(early, epochs), ", "), full);
    if (early.method == "asha" || early.method == "successive_halving") {
      const long long halving = halving_epochs(early, epochs, static_cast<long long>(sweep.points.size()));
      out += fmt::format("; keeping the top 1/{} of each rung trains about {} epochs ({:.1f}x less)",
                         early.reduction_factor, halving, static_cast<double>(full) / static_cast<double>(halving));
    }
    out += ".\n";
  }
  return out;
}

}  // namespace ablate::sweeps
