// Helpers the [search] variants share: random values for a trial, and the first
// unused configuration of a small discrete space.
#pragma once

#include <nlohmann/json.hpp>
#include <functional>
#include <string>

#include "sweeps/search/search_plan.hpp"

namespace ablate::sweeps {

// The values of trial `trial`, drawn as [random] draws sample `trial` (so method =
// "random" with seed s suggests what [random] with seed s and samples = trials
// plans); attempt > 0 draws again from another stream.
nlohmann::json random_values(const SearchPlan& plan, int trial, int attempt);

// The first configuration, in odometer order (last key fastest), whose dump() is
// not `taken` (the last one when all are); only for int_uniform and choice keys.
nlohmann::json first_unused_values(const SearchPlan& plan, const std::function<bool(const std::string&)>& taken);

}  // namespace ablate::sweeps
