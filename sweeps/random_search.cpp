// Deterministic draws for [random] tables.
#include "sweeps/random_search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace ablate::sweeps {
namespace {

uint64_t fnv1a(const std::string& text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

// A stream per (sweep seed, sample, key): the inputs are mixed through SplitMix64
// steps so that neighbouring samples and seeds give unrelated streams.
SplitMix64 stream_for(uint64_t sweep_seed, int sample, const std::string& key) {
  SplitMix64 mixer(sweep_seed);
  uint64_t state = mixer.next();
  state = SplitMix64(state ^ static_cast<uint64_t>(sample)).next();
  state = SplitMix64(state ^ fnv1a(key)).next();
  return SplitMix64(state);
}

// Uniform integer in [0, range) without modulo bias: reject the top partial block.
uint64_t uniform_below(SplitMix64& rng, uint64_t range) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  uint64_t bits = rng.next();
  while (bits >= limit) bits = rng.next();
  return bits % range;
}

}  // namespace

const std::vector<std::string>& distribution_names() {
  static const std::vector<std::string> kNames = {"uniform", "log_uniform", "int_uniform", "choice"};
  return kNames;
}

uint64_t SplitMix64::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double unit_interval(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

double round_significant(double value, int digits) {
  if (!std::isfinite(value) || value == 0) return value;
  const std::string text = fmt::format("{:.{}e}", value, digits - 1);
  return std::strtod(text.c_str(), nullptr);
}

nlohmann::json draw_value(const Distribution& dist, uint64_t sweep_seed, int sample, const std::string& key) {
  SplitMix64 rng = stream_for(sweep_seed, sample, key);
  switch (dist.kind) {
    case Distribution::Kind::kUniform: {
      const double u = unit_interval(rng.next());
      const double x = round_significant(dist.low + u * (dist.high - dist.low), kDrawnSignificantDigits);
      return std::clamp(x, dist.low, dist.high);
    }
    case Distribution::Kind::kLogUniform: {
      const double u = unit_interval(rng.next());
      const double log_low = std::log(dist.low), log_high = std::log(dist.high);
      const double x = round_significant(std::exp(log_low + u * (log_high - log_low)), kDrawnSignificantDigits);
      return std::clamp(x, dist.low, dist.high);
    }
    case Distribution::Kind::kIntUniform: {
      const auto low = static_cast<int64_t>(dist.low), high = static_cast<int64_t>(dist.high);
      // Unsigned arithmetic: well defined for any int64 bounds (a full-width range wraps to 0, impossible here).
      const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low) + 1;
      return low + static_cast<int64_t>(uniform_below(rng, range));
    }
    case Distribution::Kind::kChoice:
      return dist.values.at(uniform_below(rng, dist.values.size()));
  }
  return nullptr;
}

}  // namespace ablate::sweeps
