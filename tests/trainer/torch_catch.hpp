// Catch2 for tests that include torch: c10's logging defines its own CHECK (which
// aborts), so torch comes first and Catch's CHECK replaces it.
#pragma once

#include <torch/torch.h>

#undef CHECK
#include <catch2/catch.hpp>
