// SearchPlan: a [search] sweep's budget and space, in plain values. Its points are
// not known when the spec is read; sweeps/search/search.hpp suggests them one
// configuration at a time.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sweeps/random_search.hpp"
#include "sweeps/spec_error.hpp"

namespace ablate::sweeps {

// The search methods users write in `method = "..."`.
inline const std::vector<std::string> kSearchMethods = {"random", "tpe"};

// Random draws before TPE uses its model, unless [search] says otherwise (Optuna's
// default too: ten points is about the least a density estimate can start from).
inline constexpr int kDefaultStartupTrials = 10;

// The [search] table as written.
struct SearchSettings {
  SourcePos pos;                               // the [search] table
  SourcePos trials_pos;                        // `trials = N`
  std::string method;                          // random | tpe
  int trials = 0;                              // configurations, each run over every seed of the sweep
  int startup_trials = kDefaultStartupTrials;  // random draws before the model (tpe); never above trials
  uint64_t seed = 0;
};

struct SearchedKey {
  std::string key;
  Distribution dist;  // from [random]
};

// What a search needs to suggest configurations and turn them into points.
struct SearchPlan {
  SearchSettings settings;
  std::vector<SearchedKey> keys;  // [random] order
  nlohmann::json fixed;           // what every trial shares: [base], then --set (a partial config, no seed)
  std::string source_name;        // the spec, for messages
};

// How many configurations a space of int_uniform and choice keys can make
// (saturating at UINT64_MAX); nullopt when a key is continuous.
std::optional<uint64_t> discrete_space_size(const std::vector<SearchedKey>& keys);

}  // namespace ablate::sweeps
