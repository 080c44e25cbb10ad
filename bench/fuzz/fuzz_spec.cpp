// libFuzzer target for sweep specs: parse_spec on arbitrary text, then expansion into points,
// their canonical configs, texts and IDs, and the plan table. Every input must either give
// points that keep the invariants below or be refused with a SpecError that names the input.
// A crash, a sanitizer report, any other exception or a broken invariant is a finding.
// Built and run by bench/fuzz.sh, which reads the three lines below. toml++ is compiled in
// header-only mode here, so the TOML parser itself is instrumented and fuzzed too; its debug
// assertions are compiled out, as in Debian's libtomlplusplus (NDEBUG, where GCC makes them
// no-ops): several fire on malformed input that the library then refuses with a parse_error
// ("[&", "lr = 1979-05-27Tx"), which is all ablate ever sees.
// fuzz-sources: sweeps/spec_parser.cpp sweeps/toml_guard.cpp sweeps/expand.cpp sweeps/random_search.cpp sweeps/load.cpp sweeps/cost.cpp sweeps/plan_format.cpp sweeps/search/search.cpp sweeps/search/static_search.cpp sweeps/search/plan_values.cpp sweeps/search/tpe.cpp core/config.cpp
// fuzz-libs: -lfmt
// fuzz-flags: -DTOML_ASSERT(expr)=static_cast<void>(0)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "sweeps/expand.hpp"
#include "sweeps/search/search.hpp"
#include "sweeps/spec.hpp"
#include "sweeps/sweep.hpp"
#include "core/config.hpp"

namespace {

using ablate::sweeps::SpecError;
using nlohmann::json;

constexpr const char* kInputName = "fuzz.toml";
// Sweeps up to the real limit (100000 points) are legal, but expanding one costs about a
// second: the fuzzer expands only sweeps this small and checks that larger ones stay legal
// or are refused, which the size guard decides from the counts alone.
constexpr uint64_t kFuzzExpandPoints = 512;
// format_plan is quadratic-ish in the varied keys; the table is checked on small sweeps.
constexpr size_t kFuzzPlanPoints = 64;

[[noreturn]] void violated(const char* invariant, const std::string& detail = "") {
  std::fprintf(stderr, "fuzz_spec: invariant violated: %s%s%s\n", invariant, detail.empty() ? "" : ": ",
               detail.c_str());
  std::abort();
}

void check_spec_error(const SpecError& error, std::string_view text) {
  if (error.file() != kInputName) violated("SpecError::file() is the input's name", error.what());
  const std::string what = error.what();
  if (what.rfind(std::string(kInputName) + ":", 0) != 0) violated("a SpecError message starts with the name", what);
  if (error.message().empty()) violated("a SpecError has a message");
  // Messages travel in JSON (to rank 0, into the results file): they must be valid UTF-8.
  try {
    (void)json(what).dump();
  } catch (const json::exception&) {
    violated("a SpecError message is valid UTF-8", what);
  }
  if (error.line() < 0 || error.column() < 0) violated("positions are not negative", what);
  // A position points into the text (its last line may lack a newline; line 1 of an empty text).
  const long long lines = 1 + static_cast<long long>(std::count(text.begin(), text.end(), '\n'));
  if (error.line() > lines) violated("the line is inside the input", what);
}

// Points the spec describes, saturating at UINT64_MAX: what the size guard must compare.
uint64_t described_points(const ablate::sweeps::SweepSpec& spec) {
  auto times = [](uint64_t a, uint64_t b) {
    uint64_t product = 0;
    return __builtin_mul_overflow(a, b, &product) ? UINT64_MAX : product;
  };
  uint64_t total = spec.cases.empty() ? 1 : spec.cases.size();
  for (const auto& axis : spec.grid) total = times(total, axis.values.size());
  if (spec.search)
    total = times(total, static_cast<uint64_t>(spec.search->trials));
  else if (spec.random)
    total = times(total, static_cast<uint64_t>(spec.random->samples));
  return times(total, spec.seeds.size());
}

bool is_point_id(const std::string& id) {
  if (id.size() != 16) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

void check_points(const ablate::sweeps::SweepSpec& spec, const ablate::sweeps::Sweep& sweep,
                  const std::vector<ablate::sweeps::SweepPoint>& points, std::set<std::string>& ids) {
  const std::set<int> seeds(spec.seeds.begin(), spec.seeds.end());
  for (const auto& point : points) {
    if (!is_point_id(point.id)) violated("an ID is 16 lowercase hex digits", point.id);
    if (!ids.insert(point.id).second) violated("IDs are unique", point.id);
    if (!seeds.count(point.seed) || point.config.at("seed") != point.seed) violated("the point's seed is a spec seed");
    if (point.config.size() != ablate::config_keys().size()) violated("a config has every key", point.config_text);
    if (point.config_text != ablate::canonical_text(point.config)) violated("config_text is the canonical text");
    if (point.id != ablate::config_id(point.config)) violated("the ID is the hash of the config", point.config_text);
    // What the results file stores and the trainer reads back must give the same config and ID.
    const json reread = json::parse(point.config_text);
    if (reread != point.config) violated("the canonical text parses back to the config", point.config_text);
    const json again = ablate::canonicalize_config(reread);
    if (ablate::canonical_text(again) != point.config_text) violated("canonicalisation is idempotent", point.config_text);
    if (ablate::config_id(again) != point.id) violated("the ID survives a round trip", point.config_text);
    for (const auto& key : sweep.varied_keys)
      if (point.varied.at(key) != point.config.at(key)) violated("varied holds the point's values", key);
    const double cost = ablate::sweeps::estimate_point_cost(point.config);
    if (!(cost > 0) || !std::isfinite(cost)) violated("a point's cost is positive and finite", point.config_text);
  }
}

// A [search] sweep has no points until its search suggests them: check the first
// few suggestions (every other one observed, some as failures) as planned points are.
constexpr int kFuzzSearchTrials = 12;
void check_search(const ablate::sweeps::SweepSpec& spec, const ablate::sweeps::Sweep& sweep) {
  if (!sweep.points.empty()) violated("a [search] sweep plans no points");
  auto search = ablate::sweeps::make_search(sweep);
  std::set<std::string> ids;
  for (int t = 0; t < kFuzzSearchTrials; ++t) {
    const auto suggestion = search->suggest();
    if (!suggestion) break;
    const auto points = search->points_for(*suggestion);
    if (points.size() != spec.seeds.size()) violated("a suggestion has one point per seed");
    check_points(spec, sweep, points, ids);  // IDs stay unique: no configuration is suggested twice
    if (t % 2 == 0)
      search->observe(suggestion->trial, t % 4 == 0 ? std::optional<double>(0.1 * (t % 7)) : std::nullopt);
  }
  if (ablate::sweeps::format_plan(sweep).empty()) violated("the plan is not empty");
}

void check_sweep(const ablate::sweeps::SweepSpec& spec, const ablate::sweeps::Sweep& sweep, uint64_t described) {
  if (sweep.seeds != spec.seeds) violated("the sweep keeps the spec's seeds");
  if (sweep.search) return check_search(spec, sweep);
  if (sweep.points.empty()) violated("a sweep that expands has points");
  if (sweep.points.size() + static_cast<uint64_t>(sweep.collapsed_duplicates) != described)
    violated("points + collapsed duplicates == cases x grid x samples x seeds");
  std::set<std::string> ids;
  check_points(spec, sweep, sweep.points, ids);
  if (sweep.points.size() <= kFuzzPlanPoints && ablate::sweeps::format_plan(sweep).empty())
    violated("the plan is not empty");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  ablate::sweeps::SweepSpec spec;
  try {
    spec = ablate::sweeps::parse_spec(text, kInputName);
  } catch (const SpecError& error) {
    check_spec_error(error, text);
    return 0;
  } catch (const std::exception& error) {
    violated("parse_spec throws only SpecError", error.what());
  }
  if (spec.seeds.empty()) violated("a parsed spec has at least one seed");

  const uint64_t described = described_points(spec);
  const bool too_large = described > static_cast<uint64_t>(ablate::sweeps::kMaxSweepPoints);
  if (!too_large && described > kFuzzExpandPoints) return 0;  // legal, but too slow to expand here
  try {
    const ablate::sweeps::Sweep sweep = ablate::sweeps::expand_spec(spec);
    if (too_large) violated("a sweep over the size limit is refused");
    check_sweep(spec, sweep, described);
  } catch (const SpecError& error) {
    check_spec_error(error, text);
  } catch (const std::exception& error) {
    violated("expand_spec throws only SpecError", error.what());
  }
  return 0;
}
