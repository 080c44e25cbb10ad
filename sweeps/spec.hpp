// SweepSpec: a spec file read and checked value by value, still unexpanded, with
// the source position of every value so later errors can point back into the file.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sweeps/early_stopping.hpp"
#include "sweeps/random_search.hpp"
#include "sweeps/search/search_plan.hpp"
#include "sweeps/spec_error.hpp"

namespace ablate::sweeps {

// One training key set somewhere in the spec; pos is where its value is written.
struct SpecValue {
  std::string key;
  nlohmann::json value;
  SourcePos pos;
};

struct CaseSpec {
  std::string name;
  SourcePos pos;                     // the `name = ...` value
  std::vector<SpecValue> overrides;  // file order
};

struct GridAxis {
  std::string key;
  SourcePos pos;                  // the axis array
  std::vector<SpecValue> values;  // one per grid value, each with its own position
};

struct RandomKey {
  std::string key;
  SourcePos pos;  // the distribution table
  Distribution dist;
};

struct RandomSpec {
  SourcePos pos;  // the [random] table
  int samples = 0;         // 0 in a [search] sweep: its trials count instead
  SourcePos samples_pos;   // line 0 when not written
  SourcePos seed_pos;      // line 0 when not written
  uint64_t seed = 0;
  std::vector<RandomKey> keys;  // file order
};

struct SweepSpec {
  std::string source_name;  // file path or a caller-chosen name, used in messages
  std::string text;         // the spec as written
  std::string name;
  std::string description;
  std::vector<int> seeds;
  SourcePos seeds_pos;  // `seeds` or `repeats`; line 0 when defaulted
  std::vector<SpecValue> base;
  std::vector<CaseSpec> cases;  // empty: one unnamed case
  SourcePos grid_pos;
  std::vector<GridAxis> grid;  // file order; the last axis varies fastest
  std::optional<RandomSpec> random;
  std::optional<EarlyStopping> early_stopping;
  std::optional<SearchSettings> search;  // searches the [random] distributions
  // `--set key=value` from the command line: applied last, to every point, so a
  // whole study can be rerun cheaper (fewer images, another device budget)
  // without copying its file. Positions are empty: they come from no file.
  std::vector<SpecValue> command_line;
};

// Parses and checks the TOML text; every problem throws SpecError with a position.
// Cross-key problems that only show in a merged point are left to expansion.
SweepSpec parse_spec(std::string_view text, const std::string& source_name);

}  // namespace ablate::sweeps
