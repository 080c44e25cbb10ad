// Expands cases x grid x random samples x seeds into canonical sweep points.
#include "sweeps/expand.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_set>

#include "core/config.hpp"

namespace ablate::sweeps {
namespace {

using nlohmann::json;

uint64_t saturating_multiply(uint64_t a, uint64_t b) {
  uint64_t product;
  if (__builtin_mul_overflow(a, b, &product)) return std::numeric_limits<uint64_t>::max();
  return product;
}

// Counts points from the spec's sizes alone, so a runaway grid is refused before
// anything is allocated.
void check_size(const SweepSpec& spec) {
  uint64_t total = std::max<size_t>(1, spec.cases.size());
  std::vector<std::string> factors;
  if (!spec.cases.empty())
    factors.push_back(fmt::format("{} case{}", spec.cases.size(), spec.cases.size() == 1 ? "" : "s"));
  const GridAxis* longest = nullptr;
  std::vector<std::string> axis_sizes;
  for (const auto& axis : spec.grid) {
    total = saturating_multiply(total, axis.values.size());
    axis_sizes.push_back(fmt::format("{} {}", axis.values.size(), axis.key));
    if (!longest || axis.values.size() > longest->values.size()) longest = &axis;
  }
  if (!axis_sizes.empty()) factors.push_back(fmt::format("grid {}", fmt::join(axis_sizes, " x ")));
  if (spec.search) {
    total = saturating_multiply(total, static_cast<uint64_t>(spec.search->trials));
    factors.push_back(fmt::format("{} search trial{}", spec.search->trials, spec.search->trials == 1 ? "" : "s"));
  } else if (spec.random) {
    total = saturating_multiply(total, static_cast<uint64_t>(spec.random->samples));
    factors.push_back(fmt::format("{} random sample{}", spec.random->samples, spec.random->samples == 1 ? "" : "s"));
  }
  total = saturating_multiply(total, spec.seeds.size());
  factors.push_back(fmt::format("{} seed{}", spec.seeds.size(), spec.seeds.size() == 1 ? "" : "s"));
  if (total <= static_cast<uint64_t>(kMaxSweepPoints)) return;

  const std::string count =
      total == std::numeric_limits<uint64_t>::max() ? std::string("more than 10^19") : fmt::format("{}", total);
  const SourcePos at = longest        ? longest->pos
                       : spec.search  ? spec.search->trials_pos
                       : spec.random  ? spec.random->pos
                                      : spec.seeds_pos;
  throw SpecError(spec.source_name, at,
                  fmt::format("this sweep would have {} points ({}), more than the limit of {}: shorten the "
                              "longest grid axes, replace the grid by [random] with fewer samples, use fewer "
                              "seeds, or split the study into several files",
                              count, fmt::join(factors, " x "), kMaxSweepPoints));
}

// The values one point takes from each layer, merged in order, with where each
// came from when `traced` (for messages only: a point is merged again, traced,
// when its values are refused).
struct MergedPoint {
  json partial = json::object();
  bool traced = true;
  std::map<std::string, SourcePos> origin;
  std::vector<std::string> context;  // what distinguishes this point, for messages

  void apply(const std::vector<SpecValue>& values) {
    for (const auto& v : values) apply(v);
  }
  void apply(const SpecValue& v) {
    partial[v.key] = v.value;
    if (traced) origin[v.key] = v.pos;
  }
  template <typename Text>
  void add_context(const Text& text) {
    if (traced) context.push_back(text());
  }
};

json canonical_or_throw(const SweepSpec& spec, const MergedPoint& point, SourcePos fallback) {
  try {
    return canonicalize_config(point.partial);
  } catch (const ConfigError& e) {
    auto it = point.origin.find(e.key());
    const SourcePos at = it != point.origin.end() ? it->second : fallback;
    std::string where =
        point.context.empty() ? "" : fmt::format(" (in the point with {})", fmt::join(point.context, ", "));
    for (const auto& value : spec.command_line)
      if (value.key == e.key()) where += fmt::format(" (set on the command line: --set {}=...)", value.key);
    throw SpecError(spec.source_name, at, std::string(e.what()) + where);
  }
}

// Keys that differ between points, in the order the spec introduces them.
std::vector<std::string> find_varied_keys(const SweepSpec& spec, const std::vector<SweepPoint>& points) {
  std::vector<std::string> candidates;
  auto add = [&](const std::string& key) {
    if (std::find(candidates.begin(), candidates.end(), key) == candidates.end()) candidates.push_back(key);
  };
  for (const auto& c : spec.cases)
    for (const auto& v : c.overrides) add(v.key);
  for (const auto& axis : spec.grid) add(axis.key);
  if (spec.random)
    for (const auto& k : spec.random->keys) add(k.key);

  std::vector<std::string> varied;
  for (const auto& key : candidates) {
    if (key == "seed") continue;
    for (const auto& point : points)
      if (point.config.at(key) != points.front().config.at(key)) {
        varied.push_back(key);
        break;
      }
  }
  return varied;
}

// A [search] sweep: no points yet, but its fixed values, and every searched key at
// its bounds and choices, checked now, so a bad combination is refused before the
// sweep starts rather than in the middle of it.
Sweep expand_search(const SweepSpec& spec) {
  const RandomSpec& random = *spec.random;  // the parser requires it
  SearchPlan plan;
  plan.settings = *spec.search;
  plan.source_name = spec.source_name;
  for (const auto& k : random.keys) plan.keys.push_back({k.key, k.dist});
  for (const auto& value : spec.command_line)
    for (const auto& k : random.keys)
      if (k.key == value.key)
        throw SpecError("--set " + value.key + "=" + value.value.dump(), {},
                        fmt::format("{} is searched ([random], line {} of {}): a search cannot fix it; remove "
                                    "--set {}, or move its distribution to [base] in a copy of the spec",
                                    value.key, k.pos.line, spec.source_name, value.key));
  MergedPoint fixed;
  fixed.apply(spec.base);
  fixed.apply(spec.command_line);
  plan.fixed = fixed.partial;
  for (const auto& k : random.keys) plan.fixed.erase(k.key);  // [random] overrides [base]

  // Trial 0's random draw, then each key moved to its low and high (or each choice).
  std::vector<SpecValue> draw;
  for (const auto& k : random.keys) draw.push_back({k.key, draw_value(k.dist, plan.settings.seed, 0, k.key), k.pos});
  auto check = [&](const std::vector<SpecValue>& values, const std::string& context) {
    MergedPoint merged = fixed;
    merged.apply(values);
    merged.context.push_back(context);
    canonical_or_throw(spec, merged, random.pos);
  };
  check(draw, "the first random draw");
  for (size_t i = 0; i < random.keys.size(); ++i) {
    const RandomKey& k = random.keys[i];
    std::vector<json> extremes = k.dist.values;
    if (k.dist.kind == Distribution::Kind::kIntUniform)
      extremes = {static_cast<int64_t>(k.dist.low), static_cast<int64_t>(k.dist.high)};
    else if (k.dist.kind != Distribution::Kind::kChoice)
      extremes = {k.dist.low, k.dist.high};
    for (const json& value : extremes) {
      std::vector<SpecValue> values = draw;
      values[i].value = value;
      check(values, fmt::format("{} = {} from [random]", k.key, value.dump()));
    }
  }

  Sweep sweep;
  sweep.name = spec.name;
  sweep.description = spec.description;
  sweep.source_path = spec.source_name;
  sweep.spec_text = spec.text;
  sweep.seeds = spec.seeds;
  for (const auto& k : random.keys) sweep.varied_keys.push_back(k.key);
  sweep.early_stopping = spec.early_stopping;
  sweep.search = std::move(plan);
  return sweep;
}

}  // namespace

// Early stopping compares points at the same epochs of one budget: every point
// trains the same `epochs`, and the first rung comes before the last epoch.
void check_early_stopping(const EarlyStopping& early, const std::vector<SweepPoint>& points,
                          const std::string& source) {
  if (points.empty()) return;
  const int epochs = points.front().config.at("epochs").get<int>();
  for (const auto& p : points)
    if (p.config.at("epochs").get<int>() != epochs)
      throw SpecError(source, early.pos,
                      fmt::format("[early_stopping] needs one budget: every point must train the same epochs, but "
                                  "some train {} and some {}; set epochs once in [base] (it is the maximum budget)",
                                  epochs, p.config.at("epochs").get<int>()));
  if (early.min_epochs >= epochs)
    throw SpecError(source, early.pos,
                    fmt::format("[early_stopping] min_epochs = {} leaves nothing to stop: the points train {} "
                                "epochs; use a min_epochs below that (the first rung)",
                                early.min_epochs, epochs));
}

std::vector<SweepPoint> seeded_points(json canonical, const std::vector<int>& seeds, PointCostEstimator* costs) {
  const double cost = costs ? (*costs)(canonical) : estimate_point_cost(canonical);  // the seed changes nothing of it
  std::vector<SweepPoint> points;
  points.reserve(seeds.size());
  for (size_t i = 0; i < seeds.size(); ++i) {
    const int seed = seeds[i];
    SweepPoint point;
    if (i + 1 < seeds.size()) point.config = canonical;
    else point.config = std::move(canonical);  // the last seed takes it: a copy is some 40 allocations
    point.config["seed"] = seed;  // seeds were range-checked when parsed
    point.id = config_id(point.config);
    point.config_text = canonical_text(point.config);
    point.seed = seed;
    point.cost = cost;
    points.push_back(std::move(point));
  }
  return points;
}

Sweep expand_spec(const SweepSpec& spec) {
  check_size(spec);
  if (spec.search) return expand_search(spec);

  std::vector<std::vector<SpecValue>> samples(1);
  if (spec.random) {
    samples.assign(spec.random->samples, {});
    for (int s = 0; s < spec.random->samples; ++s)
      for (const auto& k : spec.random->keys)
        samples[s].push_back({k.key, draw_value(k.dist, spec.random->seed, s, k.key), k.pos});
  }
  std::vector<CaseSpec> cases = spec.cases;
  if (cases.empty()) cases.push_back(CaseSpec{});

  Sweep sweep;
  sweep.name = spec.name;
  sweep.description = spec.description;
  sweep.source_path = spec.source_name;
  sweep.spec_text = spec.text;
  sweep.seeds = spec.seeds;
  std::unordered_set<std::string> seen_ids;
  PointCostEstimator costs;

  for (const auto& c : cases) {
    std::vector<size_t> odometer(spec.grid.size(), 0);
    for (bool more_grid = true; more_grid;) {
      for (size_t s = 0; s < samples.size(); ++s) {
        auto merge = [&](bool traced) {
          MergedPoint merged;
          merged.traced = traced;
          merged.apply(spec.base);
          merged.apply(c.overrides);
          if (!c.name.empty()) merged.add_context([&] { return fmt::format("case '{}'", c.name); });
          for (size_t a = 0; a < spec.grid.size(); ++a) {
            const SpecValue& value = spec.grid[a].values[odometer[a]];
            merged.apply(value);
            merged.add_context([&] { return fmt::format("{} = {}", value.key, value.value.dump()); });
          }
          merged.apply(samples[s]);
          if (spec.random) merged.add_context([&] { return fmt::format("random sample {}", s); });
          merged.apply(spec.command_line);
          return merged;
        };
        json canonical;
        try {
          canonical = canonicalize_config(merge(/*traced=*/false).partial);
        } catch (const ConfigError&) {
          // Where a cross-key error points when the key it names was left at its
          // default: the case, else the first grid value, else [random], else [base].
          const SourcePos fallback = !c.name.empty()      ? c.pos
                                     : !spec.grid.empty() ? spec.grid[0].values[odometer[0]].pos
                                     : spec.random        ? spec.random->pos
                                     : !spec.base.empty() ? spec.base.front().pos
                                                          : SourcePos{1, 1};
          canonical = canonical_or_throw(spec, merge(/*traced=*/true), fallback);  // throws it again, placed
        }

        for (SweepPoint& point : seeded_points(std::move(canonical), spec.seeds, &costs)) {
          if (!seen_ids.insert(point.id).second) {
            ++sweep.collapsed_duplicates;
            continue;
          }
          point.case_name = c.name;
          sweep.points.push_back(std::move(point));
        }
      }
      // Advance the grid odometer, last axis fastest.
      more_grid = false;
      for (size_t a = spec.grid.size(); a-- > 0;) {
        if (++odometer[a] < spec.grid[a].values.size()) {
          more_grid = true;
          break;
        }
        odometer[a] = 0;
      }
    }
  }

  if (spec.early_stopping) check_early_stopping(*spec.early_stopping, sweep.points, spec.source_name);
  sweep.early_stopping = spec.early_stopping;
  sweep.varied_keys = find_varied_keys(spec, sweep.points);
  for (auto& point : sweep.points) {
    point.varied = json::object();
    for (const auto& key : sweep.varied_keys) point.varied[key] = point.config.at(key);
  }
  return sweep;
}

}  // namespace ablate::sweeps
