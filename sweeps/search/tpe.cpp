// TPE, the Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio, Kégl,
// NeurIPS 2011), over the [random] distributions.
//
// Each suggestion after the random start splits the trials so far into a good
// group (the best ceil(gamma * n), at most max_good) and a bad group (the rest,
// failed trials, and pending trials: the constant liar), fits a kernel density to
// each — l(x) to the good, g(x) to the bad — draws `candidates` configurations
// from l and keeps the one with the largest l(x) / g(x), the expected improvement
// up to a monotone transform.
//
// The densities are joint over the keys (one kernel per trial, a product over
// keys, as in BOHB and Optuna's multivariate TPE), so a good lr and a good weight
// decay are proposed together. The model works in the space each key is drawn in:
// log(x) for log_uniform; int_uniform is continuous on [low - 1/2, high + 1/2],
// rounded when drawn and scored by the mass of its unit bin; a choice is a
// category whose kernel keeps the trial's value with probability 1 - beta and
// spreads beta over all values. Every density also has a flat prior component
// (weight prior_weight beside 1 per trial), so no region is ever ruled out.
// Bandwidths follow Scott's rule, 0.2 x range x (m + 1)^(-1/(d + 4)) for m trials
// in d keys; beta = 1 / (m + 1): few trials, wide kernels.
//
// Determinism: each suggestion draws from its own SplitMix64 stream of (seed,
// trial, attempt); the groups are summed in trial order; values are rounded like
// [random] draws. The suggestion is therefore a pure function of the seed and the
// trials so far, bit for bit on one build (exp/log/erfc come from the C library).
#include "sweeps/search/tpe.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "sweeps/search/plan_values.hpp"

namespace ablate::sweeps {
namespace {

using nlohmann::json;

// Draws per suggestion come from a stream of their own: its seed mixes a salt
// (so it is unrelated to [random]'s draws of the same trial), the trial and the attempt.
SplitMix64 suggestion_stream(uint64_t seed, int trial, int attempt) {
  uint64_t state = SplitMix64(seed ^ 0x5450452d7370616eull).next();
  state = SplitMix64(state ^ static_cast<uint64_t>(trial)).next();
  state = SplitMix64(state ^ static_cast<uint64_t>(attempt)).next();
  return SplitMix64(state);
}

double uniform01(SplitMix64& rng) { return unit_interval(rng.next()); }

// Box-Muller: two uniforms, one normal (the second is discarded to keep the
// stream simple to follow).
double standard_normal(SplitMix64& rng) {
  const double u1 = 1.0 - uniform01(rng);  // (0, 1]: log is finite
  const double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

double log_sum_exp(const std::vector<double>& terms) {
  const double top = *std::max_element(terms.begin(), terms.end());
  if (!std::isfinite(top)) return top;
  double sum = 0;
  for (double t : terms) sum += std::exp(t - top);
  return top + std::log(sum);
}

// One searched key as the model sees it.
struct Axis {
  enum class Kind { kContinuous, kInteger, kCategorical };
  Kind kind = Kind::kContinuous;
  bool log = false;
  double low = 0, high = 0;  // model space (log, widened by 1/2 for integers)
  int categories = 0;
  Distribution dist;
  std::string key;
};

std::vector<Axis> axes_of(const SearchPlan& plan) {
  std::vector<Axis> axes;
  for (const auto& k : plan.keys) {
    Axis axis;
    axis.dist = k.dist;
    axis.key = k.key;
    switch (k.dist.kind) {
      case Distribution::Kind::kUniform:
        axis.low = k.dist.low, axis.high = k.dist.high;
        break;
      case Distribution::Kind::kLogUniform:
        axis.log = true;
        axis.low = std::log(k.dist.low), axis.high = std::log(k.dist.high);
        break;
      case Distribution::Kind::kIntUniform:
        axis.kind = Axis::Kind::kInteger;
        axis.low = k.dist.low - 0.5, axis.high = k.dist.high + 0.5;
        break;
      case Distribution::Kind::kChoice:
        axis.kind = Axis::Kind::kCategorical;
        axis.categories = static_cast<int>(k.dist.values.size());
        break;
    }
    axes.push_back(axis);
  }
  return axes;
}

// A trial's values in model space: one coordinate per axis (a category's index).
std::vector<double> coordinates(const std::vector<Axis>& axes, const json& values, int trial) {
  std::vector<double> x;
  for (const Axis& axis : axes) {
    if (!values.contains(axis.key))
      throw SearchError(
          fmt::format("trial {} has no value for the searched key {}: the history is from another "
                      "spec",
                      trial, axis.key));
    const json& v = values.at(axis.key);
    if (axis.kind == Axis::Kind::kCategorical) {
      const auto& choices = axis.dist.values;
      const auto it = std::find(choices.begin(), choices.end(), v);
      if (it == choices.end())
        throw SearchError(fmt::format("trial {}: {} = {} is not one of its choices: the history is from another spec",
                                      trial, axis.key, v.dump()));
      x.push_back(static_cast<double>(it - choices.begin()));
    } else {
      if (!v.is_number())
        throw SearchError(fmt::format("trial {}: {} = {} is not a number", trial, axis.key, v.dump()));
      const double number = v.get<double>();
      x.push_back(axis.log ? std::log(number) : number);
    }
  }
  return x;
}

// A model-space point back to the values a point is trained with, rounded and
// clamped like a [random] draw.
json values_at(const std::vector<Axis>& axes, const std::vector<double>& x) {
  json values = json::object();
  for (size_t d = 0; d < axes.size(); ++d) {
    const Axis& axis = axes[d];
    const Distribution& dist = axis.dist;
    switch (axis.kind) {
      case Axis::Kind::kCategorical:
        values[axis.key] = dist.values.at(static_cast<size_t>(x[d]));
        break;
      case Axis::Kind::kInteger:
        values[axis.key] = std::clamp(static_cast<int64_t>(std::llround(x[d])), static_cast<int64_t>(dist.low),
                                      static_cast<int64_t>(dist.high));
        break;
      case Axis::Kind::kContinuous: {
        const double number = round_significant(axis.log ? std::exp(x[d]) : x[d], kDrawnSignificantDigits);
        values[axis.key] = std::clamp(number, dist.low, dist.high);
        break;
      }
    }
  }
  return values;
}

// A mixture of product kernels: the flat prior (component 0) and one per trial.
class ParzenEstimator {
 public:
  ParzenEstimator(const std::vector<Axis>& axes, const std::vector<std::vector<double>>& members, double prior_weight)
      : axes_(axes), centres_(members) {
    const double m = static_cast<double>(members.size());
    const double dims = static_cast<double>(axes.size());
    const double total = prior_weight + m;
    log_weights_.push_back(std::log(prior_weight / total));
    for (size_t i = 0; i < members.size(); ++i) log_weights_.push_back(std::log(1.0 / total));
    const double shrink = 0.2 * std::pow(m + 1.0, -1.0 / (dims + 4.0));
    beta_ = 1.0 / (m + 1.0);
    for (const Axis& axis : axes) {
      const double range = axis.high - axis.low;
      sigma_.push_back(range * shrink);
      prior_sigma_.push_back(range);
    }
    // The truncation mass of each (component, axis): it depends only on the kernel.
    log_mass_.assign(members.size() + 1, std::vector<double>(axes.size(), 0.0));
    for (size_t c = 0; c <= members.size(); ++c)
      for (size_t d = 0; d < axes.size(); ++d) {
        if (axes[d].kind == Axis::Kind::kCategorical) continue;
        const double mu = centre(c, d), sigma = kernel_sigma(c, d);
        log_mass_[c][d] = std::log(normal_cdf((axes[d].high - mu) / sigma) - normal_cdf((axes[d].low - mu) / sigma));
      }
  }

  std::vector<double> sample(SplitMix64& rng) const {
    // The component, by its weight.
    double u = uniform01(rng);
    size_t c = 0;
    for (; c + 1 < log_weights_.size(); ++c) {
      u -= std::exp(log_weights_[c]);
      if (u < 0) break;
    }
    std::vector<double> x(axes_.size());
    for (size_t d = 0; d < axes_.size(); ++d) {
      const Axis& axis = axes_[d];
      if (axis.kind == Axis::Kind::kCategorical) {
        const bool keep = c > 0 && uniform01(rng) >= beta_;
        x[d] = keep ? centre(c, d) : static_cast<double>(rng.next() % static_cast<uint64_t>(axis.categories));
        continue;
      }
      // Truncated normal by rejection: every kernel has its centre inside and
      // sigma <= range, so at least a third of its mass lies inside the bounds.
      const double mu = centre(c, d), sigma = kernel_sigma(c, d);
      double value = axis.low + uniform01(rng) * (axis.high - axis.low);  // if 64 tries all miss
      for (int attempt = 0; attempt < 64; ++attempt) {
        const double candidate = mu + sigma * standard_normal(rng);
        if (candidate >= axis.low && candidate <= axis.high) {
          value = candidate;
          break;
        }
      }
      x[d] = value;
    }
    return x;
  }

  double log_density(const std::vector<double>& x) const {
    std::vector<double> terms(log_weights_.size());
    for (size_t c = 0; c < log_weights_.size(); ++c) {
      double lp = log_weights_[c];
      for (size_t d = 0; d < axes_.size(); ++d) lp += log_kernel(c, d, x[d]);
      terms[c] = lp;
    }
    return log_sum_exp(terms);
  }

 private:
  double centre(size_t c, size_t d) const {
    if (c == 0) return axes_[d].kind == Axis::Kind::kCategorical ? 0.0 : 0.5 * (axes_[d].low + axes_[d].high);
    return centres_[c - 1][d];
  }
  double kernel_sigma(size_t c, size_t d) const { return c == 0 ? prior_sigma_[d] : sigma_[d]; }

  double log_kernel(size_t c, size_t d, double x) const {
    const Axis& axis = axes_[d];
    if (axis.kind == Axis::Kind::kCategorical) {
      const double flat = 1.0 / axis.categories;
      if (c == 0) return std::log(flat);
      return std::log((x == centre(c, d) ? 1.0 - beta_ : 0.0) + beta_ * flat);
    }
    const double mu = centre(c, d), sigma = kernel_sigma(c, d);
    if (axis.kind == Axis::Kind::kInteger) {
      const double bin = normal_cdf((x + 0.5 - mu) / sigma) - normal_cdf((x - 0.5 - mu) / sigma);
      return std::log(std::max(bin, 1e-300)) - log_mass_[c][d];
    }
    const double z = (x - mu) / sigma;
    return -0.5 * z * z - std::log(sigma) - 0.5 * std::log(2.0 * std::numbers::pi) - log_mass_[c][d];
  }

  const std::vector<Axis>& axes_;
  std::vector<std::vector<double>> centres_;  // per trial, per axis
  std::vector<double> log_weights_;           // prior first
  std::vector<double> sigma_, prior_sigma_;   // per axis
  std::vector<std::vector<double>> log_mass_;
  double beta_ = 1.0;
};

class TpeSearch : public Search {
 public:
  TpeSearch(SearchPlan plan, std::vector<int> seeds, TpeOptions options)
      : Search(plan.settings.trials),
        plan_(std::move(plan)),
        seeds_(std::move(seeds)),
        options_(options),
        axes_(axes_of(plan_)) {}

  std::vector<SweepPoint> points_for(const Suggestion& suggestion) const override {
    return search_points(plan_, seeds_, suggestion);
  }

 protected:
  std::string method() const override { return "tpe"; }

  json propose(int trial, int attempt) const override {
    const auto& trials = trials_so_far();
    // The split: successes best first (ties: the earlier trial), then the bad rest.
    std::vector<int> successes, unsuccessful;
    int observed = 0;
    for (int t = 0; t < static_cast<int>(trials.size()); ++t) {
      if (trials[t].observed) ++observed;
      if (trials[t].objective)
        successes.push_back(t);
      else if (trials[t].observed || options_.constant_liar)
        unsuccessful.push_back(t);  // failed, or pending (the liar's pessimistic value)
    }
    if (observed < plan_.settings.startup_trials || successes.empty()) return random_values(plan_, trial, attempt);

    std::stable_sort(successes.begin(), successes.end(),
                     [&](int a, int b) { return *trials[a].objective > *trials[b].objective; });
    const double n = static_cast<double>(successes.size() + unsuccessful.size());
    const size_t n_good = std::clamp<size_t>(static_cast<size_t>(std::ceil(options_.gamma * n)), 1,
                                             std::min<size_t>(options_.max_good, successes.size()));
    std::vector<int> good(successes.begin(), successes.begin() + n_good);
    std::vector<int> bad(successes.begin() + n_good, successes.end());
    bad.insert(bad.end(), unsuccessful.begin(), unsuccessful.end());
    // Summed in trial order, so the densities do not depend on the ranking's ties.
    std::sort(good.begin(), good.end());
    std::sort(bad.begin(), bad.end());
    auto members = [&](const std::vector<int>& group) {
      std::vector<std::vector<double>> x;
      for (int t : group) x.push_back(coordinates(axes_, trials[t].values, t));
      return x;
    };
    const ParzenEstimator l(axes_, members(good), options_.prior_weight);
    const ParzenEstimator g(axes_, members(bad), options_.prior_weight);

    SplitMix64 rng = suggestion_stream(plan_.settings.seed, trial, attempt);
    json best;
    bool best_is_new = false;
    double best_score = -std::numeric_limits<double>::infinity();
    for (int i = 0; i < options_.candidates; ++i) {
      json values = values_at(axes_, l.sample(rng));
      const std::vector<double> x = coordinates(axes_, values, trial);  // scored as rounded
      const double score = l.log_density(x) - g.log_density(x);
      // A configuration already tried is kept only while no new one is found.
      const bool is_new = !values_seen().contains(values.dump());
      if (best.is_null() || (is_new && !best_is_new) || (is_new == best_is_new && score > best_score)) {
        best = std::move(values);
        best_score = score;
        best_is_new = is_new;
      }
    }
    return best;
  }

  json unused_configuration(const std::function<bool(const std::string&)>& taken) const override {
    return first_unused_values(plan_, taken);
  }

 private:
  SearchPlan plan_;
  std::vector<int> seeds_;
  TpeOptions options_;
  std::vector<Axis> axes_;
};

}  // namespace

std::unique_ptr<Search> make_tpe_search(const SearchPlan& plan, const std::vector<int>& seeds,
                                        const TpeOptions& options) {
  return std::make_unique<TpeSearch>(plan, seeds, options);
}

}  // namespace ablate::sweeps
