// TPE's knobs, for tests and studies of the method itself; make_search uses the
// defaults. The algorithm is described in tpe.cpp.
#pragma once

#include <memory>

#include "sweeps/search/search.hpp"

namespace ablate::sweeps {

struct TpeOptions {
  double gamma = 0.1;         // the good group is the best ceil(gamma * n) trials ...
  int max_good = 25;          // ... but never more than this (Bergstra et al.; Optuna's default too)
  int candidates = 24;        // draws from l(x) scored by l(x) / g(x) per suggestion
  double prior_weight = 1.0;  // weight of the flat prior component beside each trial's weight of 1
  bool constant_liar = true;  // pending trials join the bad group; false ignores them (for tests)
};

std::unique_ptr<Search> make_tpe_search(const SearchPlan& plan, const std::vector<int>& seeds,
                                        const TpeOptions& options = {});
std::unique_ptr<Search> make_random_search(const SearchPlan& plan, const std::vector<int>& seeds);

}  // namespace ablate::sweeps
