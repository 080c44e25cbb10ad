// StopSignals: while one lives, SIGINT and SIGTERM ask the sweep to stop (at the
// next epoch, leaving the ledger clean); a second signal ends the process at
// once, which the journal also survives.
#pragma once

#include <csignal>

namespace ablate {

class StopSignals {
 public:
  StopSignals();   // installs the handlers and clears any earlier request
  ~StopSignals();  // restores the handlers that were there before
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal that asked to stop, or 0.
  static int received();

 private:
  struct sigaction previous_int_ {
  }, previous_term_{};
};

}  // namespace ablate
