// Fixed-width columns, so a run's learning curve reads as a table in a log.
#include "orchestrator/epoch_table.hpp"

#include <fmt/format.h>

namespace ablate {

std::string epoch_table_header() {
  return fmt::format("{:>5} {:>10} {:>9} {:>9} {:>8} {:>9} {:>8} {:>9} {:>8} {:>9}", "epoch", "train_loss",
                     "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "lr", "seconds", "images/s");
}

std::string epoch_table_row(const EpochMetrics& row) {
  return fmt::format("{:>5} {:>10.4f} {:>9.4f} {:>9.4f} {:>8.4f} {:>9.4f} {:>8.4f} {:>9.2e} {:>8.2f} {:>9.0f}",
                     row.epoch, row.train_loss, row.train_acc, row.val_loss, row.val_acc, row.test_loss,
                     row.test_acc, row.lr, row.epoch_seconds, row.images_per_second);
}

}  // namespace ablate
