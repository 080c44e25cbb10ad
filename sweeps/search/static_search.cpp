// StaticSearch: the planned configurations of a grid, cases or [random] sweep, in order.
#include "sweeps/search/static_search.hpp"

#include <unordered_map>

#include "core/config.hpp"

namespace ablate::sweeps {
namespace {

using nlohmann::json;

class StaticSearch : public Search {
 public:
  explicit StaticSearch(std::vector<std::vector<SweepPoint>> configurations)
      : Search(static_cast<int>(configurations.size())), configurations_(std::move(configurations)) {}

  std::vector<SweepPoint> points_for(const Suggestion& suggestion) const override {
    return configurations_.at(suggestion.trial);
  }

 protected:
  std::string method() const override { return "plan"; }

  json propose(int trial, int /*attempt*/) const override {
    const SweepPoint& first = configurations_.at(trial).front();
    json values = first.varied;
    if (!first.case_name.empty()) values["case"] = first.case_name;
    return values;
  }

 private:
  std::vector<std::vector<SweepPoint>> configurations_;
};

}  // namespace

std::unique_ptr<Search> make_static_search(const Sweep& sweep) {
  // Points of one configuration differ only in their seed; a configuration's
  // position is where its first point is.
  std::vector<std::vector<SweepPoint>> configurations;
  std::unordered_map<std::string, size_t> index_of;
  for (const auto& point : sweep.points) {
    json unseeded = point.config;
    unseeded["seed"] = 0;
    const auto [it, added] = index_of.emplace(config_id(unseeded), configurations.size());
    if (added) configurations.emplace_back();
    configurations[it->second].push_back(point);
  }
  return std::make_unique<StaticSearch>(std::move(configurations));
}

}  // namespace ablate::sweeps
