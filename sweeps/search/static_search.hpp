// The static search: a sweep planned when its spec was read (grid, cases, [random]).
#pragma once

#include <memory>

#include "sweeps/search/search.hpp"

namespace ablate::sweeps {

// Suggests the sweep's configurations (its points grouped over seeds) in plan
// order; observing changes nothing it suggests. suggested_by is "plan".
std::unique_ptr<Search> make_static_search(const Sweep& sweep);

}  // namespace ablate::sweeps
