// compare_results A.h5 B.h5 [ACCURACY_TOLERANCE]: exit 0 when both results files
// hold the same done points with bit-identical metrics (same seeds, same threads
// -> same numbers), else print every difference and exit 1. With a tolerance,
// accuracies may differ by that much (data-parallel training sums gradients in
// another order: the same model to rounding, a prediction or two flipped).
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <string>
#include <iostream>
#include <map>

#include "orchestrator/results/results_summary.hpp"

namespace {

double tolerance = 0;  // 0: bit-identical

bool same(double a, double b) {
  if (tolerance == 0) return std::memcmp(&a, &b, sizeof a) == 0;
  return std::fabs(a - b) <= tolerance;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: compare_results A.h5 B.h5 [ACCURACY_TOLERANCE]\n";
    return 2;
  }
  if (argc == 4) tolerance = std::stod(argv[3]);
  constexpr size_t kAll = 1000000;
  const ablate::ResultsSummary a = ablate::read_results_summary(argv[1], kAll);
  const ablate::ResultsSummary b = ablate::read_results_summary(argv[2], kAll);
  int differences = 0;
  auto differ = [&](const std::string& what) {
    ++differences;
    std::cout << "differs: " << what << "\n";
  };
  if (a.counts != b.counts || a.total != b.total) differ("the counts per status");
  std::map<std::string, ablate::SummaryPoint> in_b;
  for (const auto& p : b.best) in_b[p.id] = p;
  if (a.best.size() != b.best.size()) differ(fmt::format("{} vs {} done points", a.best.size(), b.best.size()));
  for (const auto& p : a.best) {
    auto it = in_b.find(p.id);
    if (it == in_b.end()) {
      differ(fmt::format("point {} is done only in {}", p.id, argv[1]));
      continue;
    }
    const auto& q = it->second;
    if (!same(p.best_val_acc, q.best_val_acc) || !same(p.test_acc_at_best_val, q.test_acc_at_best_val) ||
        !same(p.final_test_acc, q.final_test_acc) || p.best_epoch != q.best_epoch || p.epochs_done != q.epochs_done)
      differ(fmt::format("point {}: val {} vs {}, test@best {} vs {}, final test {} vs {}, epoch {} vs {}", p.id,
                         p.best_val_acc, q.best_val_acc, p.test_acc_at_best_val, q.test_acc_at_best_val,
                         p.final_test_acc, q.final_test_acc, p.best_epoch, q.best_epoch));
  }
  std::cout << fmt::format("compared {} done points: {}\n", a.best.size(),
                           differences > 0   ? fmt::format("{} differences", differences)
                           : tolerance == 0 ? std::string("identical")
                                            : fmt::format("equal to within {}", tolerance));
  return differences == 0 && !a.best.empty() ? 0 : 1;
}
