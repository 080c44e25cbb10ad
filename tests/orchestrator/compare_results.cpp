// compare_results A.h5 B.h5: exit 0 when both results files hold the same done
// points with bit-identical metrics (same seeds, same threads -> same numbers),
// else print every difference and exit 1.
#include <fmt/format.h>

#include <cstring>
#include <iostream>
#include <map>

#include "orchestrator/results/results_summary.hpp"

namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: compare_results A.h5 B.h5\n";
    return 2;
  }
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
    if (!same_bits(p.best_val_acc, q.best_val_acc) || !same_bits(p.test_acc_at_best_val, q.test_acc_at_best_val) ||
        !same_bits(p.final_test_acc, q.final_test_acc) || p.best_epoch != q.best_epoch ||
        p.epochs_done != q.epochs_done)
      differ(fmt::format("point {}: val {} vs {}, test@best {} vs {}, final test {} vs {}, epoch {} vs {}", p.id,
                         p.best_val_acc, q.best_val_acc, p.test_acc_at_best_val, q.test_acc_at_best_val,
                         p.final_test_acc, q.final_test_acc, p.best_epoch, q.best_epoch));
  }
  std::cout << fmt::format("compared {} done points: {}\n", a.best.size(),
                           differences == 0 ? "identical" : fmt::format("{} differences", differences));
  return differences == 0 && !a.best.empty() ? 0 : 1;
}
