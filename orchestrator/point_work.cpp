// PointWork's default pack: its items one after another, each through train().
#include "orchestrator/point_work.hpp"

namespace ablate {

void PointWork::train_pack(const std::vector<WorkItem>& items, const ItemEpochCallback& on_epoch,
                           const ItemEndCallback& on_end) {
  for (size_t i = 0; i < items.size(); ++i) {
    // A callback's exception ends the pack; the training's own fails this item alone.
    std::exception_ptr callback_error;
    ItemOutcome outcome;
    try {
      outcome.result = train(items[i], [&](const EpochMetrics& row) {
        try {
          return on_epoch(i, row);
        } catch (...) {
          callback_error = std::current_exception();
          throw;
        }
      });
    } catch (const Interrupted&) {
      throw;
    } catch (const std::exception& e) {
      if (callback_error) throw;
      outcome.failed = true;
      outcome.error = e.what();
    } catch (...) {
      if (callback_error) throw;
      outcome.failed = true;
      outcome.error = "the training threw something that is not a std::exception";
    }
    on_end(i, std::move(outcome));
  }
}

}  // namespace ablate
