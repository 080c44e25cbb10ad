// The public face of sweeps/: a spec file in, validated canonical sweep points out.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sweeps/early_stopping.hpp"
#include "sweeps/search/search_plan.hpp"
#include "sweeps/spec_error.hpp"

namespace ablate::sweeps {

// Sweeps larger than this are refused before expansion: such a file is almost
// always a grid written by mistake, and expanding it would exhaust memory.
inline constexpr long long kMaxSweepPoints = 100000;

struct SweepPoint {
  std::string id;           // config_id(config): the point's name everywhere
  nlohmann::json config;    // canonical and complete, seed included
  std::string config_text;  // canonical_text(config): what is hashed, stored and trained
  int seed = 0;
  std::string case_name;  // "" when the spec has no [[cases]]
  nlohmann::json varied;  // this point's values of Sweep::varied_keys
  int trial = -1;           // the search trial it belongs to; -1: planned when the spec was read
  std::string suggested_by;  // "random" or "tpe" for a [search] sweep's points; "" when planned
  double cost = 0;           // estimate_point_cost(config), once per point (the queue, the policy and `ablate plan`)
};

struct Sweep {
  std::string name;
  std::string description;
  std::string source_path;
  std::string spec_text;  // the file as written, kept with the results
  std::vector<int> seeds;
  std::vector<SweepPoint> points;        // file order: case, then grid (last axis fastest), sample, seed
  std::vector<std::string> varied_keys;  // keys that differ between points (seed excluded), spec order
  int collapsed_duplicates = 0;          // points dropped because an earlier point had the same ID
  // [early_stopping]: every point then has the same `epochs` (the maximum budget).
  std::optional<EarlyStopping> early_stopping;
  // [search]: points is then empty and the search suggests them while the sweep
  // runs (sweeps/search/search.hpp); varied_keys are the searched keys.
  std::optional<SearchPlan> search;
};

// Reads and expands a spec file. `overrides` ("key=value", as `ablate run --set`)
// apply to every point after the file's own values and are appended to
// spec_text as comments, so the results file records them and a resume with
// other overrides is caught as a different sweep. Throws SpecError
// (file:line:column: message).
Sweep load_sweep(const std::string& path, const std::vector<std::string>& overrides = {});

// The spec text load_sweep would record (the file's text and the override
// comments), read and parsed but not expanded: what a rank needs that only
// checks it runs the same sweep as the rank that expands it (the expansion of
// the same text by the same build is the same). Throws SpecError like load_sweep.
std::string load_spec_text(const std::string& path, const std::vector<std::string>& overrides = {});

// The same, for text already in memory; source_name labels messages and gives the
// default sweep name (its file stem).
Sweep parse_sweep(std::string_view text, const std::string& source_name,
                  const std::vector<std::string>& overrides = {});

// Rough training cost of one point in FLOPs: forward FLOPs per image times
// epochs x (3 x training images + evaluated images); see cost.cpp.
double estimate_point_cost(const nlohmann::json& canonical_config);

// estimate_point_cost for many points: a model's size depends on its shape keys
// only (core/config.hpp), so it is worked out once per distinct set of their
// values (~12 us a point otherwise, a third of expanding a grid sweep).
class PointCostEstimator {
 public:
  double operator()(const nlohmann::json& canonical_config);

 private:
  struct Known {
    std::vector<nlohmann::json> shape_values;  // in config_keys() order
    double forward_macs = 0;
  };
  std::vector<Known> known_;  // few: a sweep varies few shapes
};

// A model's size per image, roughly (for --pack auto and `ablate plan --pack`):
// multiply-accumulates of a forward pass, parameters, and the values a forward
// pass keeps for the backward pass, from the family's layer plan (core/families/);
// `convolution_macs`: the part of forward_macs in convolutions.
struct ModelSize {
  double forward_macs = 0, parameters = 0, activations = 0;
  double convolution_macs = 0;
};
ModelSize estimate_model_size(const nlohmann::json& canonical_config);

// The table `ablate plan` prints: one row per point, then totals and a cost estimate.
std::string format_plan(const Sweep& sweep);

}  // namespace ablate::sweeps
