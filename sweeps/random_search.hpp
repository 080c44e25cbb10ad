// Random search: distributions of a [random] table and their deterministic,
// platform-independent draws (own PRNG and own bits->double mapping, because
// std:: distributions give different numbers on different standard libraries).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ablate::sweeps {

struct Distribution {
  enum class Kind { kUniform, kLogUniform, kIntUniform, kChoice };
  Kind kind = Kind::kUniform;
  double low = 0;  // uniform, log_uniform: [low, high]; int_uniform: inclusive integer bounds
  double high = 0;
  std::vector<nlohmann::json> values;  // choice
};

// The names users write in `dist = "..."`, in the order of Distribution::Kind.
const std::vector<std::string>& distribution_names();

// SplitMix64 (Steele, Lea, Flood 2014): 64 bits of state, passes BigCrush, and its
// output is fully specified by integer arithmetic, so every platform agrees.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();

 private:
  uint64_t state_;
};

// The top 53 bits of `bits` as a double in [0, 1): exact, no rounding involved.
double unit_interval(uint64_t bits);

// `value` rounded to `digits` significant decimal digits (via correctly rounded
// decimal printing, so the result is the same everywhere).
double round_significant(double value, int digits);

// Floats drawn by random search keep this many significant digits, so configs
// print nicely and point IDs do not hinge on the last bit of exp()/log().
inline constexpr int kDrawnSignificantDigits = 6;

// The value of `key` in random sample `sample` of a sweep with seed `sweep_seed`.
// Each (seed, sample, key) has its own stream, so adding a key to [random] does
// not change the values drawn for the others.
nlohmann::json draw_value(const Distribution& dist, uint64_t sweep_seed, int sample, const std::string& key);

}  // namespace ablate::sweeps
