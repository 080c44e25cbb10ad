// The per-epoch table printed by `ablate train` (and local-mode logs).
#pragma once

#include <string>

#include "core/metrics.hpp"

namespace ablate {

std::string epoch_table_header();
std::string epoch_table_row(const EpochMetrics& row);

}  // namespace ablate
