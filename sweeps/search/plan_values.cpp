// Random values for a [search] trial, the first unused discrete configuration,
// and method = "random": every trial a fresh draw.
#include "sweeps/search/plan_values.hpp"

#include "sweeps/search/tpe.hpp"

namespace ablate::sweeps {

using nlohmann::json;

json random_values(const SearchPlan& plan, int trial, int attempt) {
  // attempt 0 is exactly [random]'s draw; a retry mixes the attempt into the seed.
  const uint64_t seed =
      attempt == 0 ? plan.settings.seed : SplitMix64(plan.settings.seed ^ (0x632be59bd9b4e019ull * attempt)).next();
  json values = json::object();
  for (const auto& k : plan.keys) values[k.key] = draw_value(k.dist, seed, trial, k.key);
  return values;
}

json first_unused_values(const SearchPlan& plan, const std::function<bool(const std::string&)>& taken) {
  if (!discrete_space_size(plan.keys))
    throw SearchError(
        "proposals keep repeating earlier trials in a space with a continuous key: a bug, please report it");
  std::vector<int64_t> odometer(plan.keys.size(), 0);
  auto value_at = [&](size_t i) -> json {
    const Distribution& d = plan.keys[i].dist;
    if (d.kind == Distribution::Kind::kChoice) return d.values.at(odometer[i]);
    return static_cast<int64_t>(d.low) + odometer[i];
  };
  auto size_of = [&](size_t i) -> int64_t {
    const Distribution& d = plan.keys[i].dist;
    if (d.kind == Distribution::Kind::kChoice) return static_cast<int64_t>(d.values.size());
    return static_cast<int64_t>(d.high) - static_cast<int64_t>(d.low) + 1;
  };
  for (;;) {
    json values = json::object();
    for (size_t i = 0; i < plan.keys.size(); ++i) values[plan.keys[i].key] = value_at(i);
    if (!taken(values.dump())) return values;
    size_t i = plan.keys.size();
    while (i-- > 0 && ++odometer[i] == size_of(i)) odometer[i] = 0;
    if (i == static_cast<size_t>(-1)) return values;  // all used: the caller refuses the repeat
  }
}

namespace {

class RandomSearch : public Search {
 public:
  RandomSearch(SearchPlan plan, std::vector<int> seeds)
      : Search(plan.settings.trials), plan_(std::move(plan)), seeds_(std::move(seeds)) {}

  std::vector<SweepPoint> points_for(const Suggestion& suggestion) const override {
    return search_points(plan_, seeds_, suggestion);
  }

 protected:
  std::string method() const override { return "random"; }
  json propose(int trial, int attempt) const override { return random_values(plan_, trial, attempt); }
  json unused_configuration(const std::function<bool(const std::string&)>& taken) const override {
    return first_unused_values(plan_, taken);
  }

 private:
  SearchPlan plan_;
  std::vector<int> seeds_;
};

}  // namespace

std::unique_ptr<Search> make_random_search(const SearchPlan& plan, const std::vector<int>& seeds) {
  return std::make_unique<RandomSearch>(plan, seeds);
}

}  // namespace ablate::sweeps
