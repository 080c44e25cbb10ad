// `ablate train`: one configuration, trained in this process, with a live table.
#pragma once

#include <string>
#include <vector>

namespace ablate {

struct TrainCommandOptions {
  std::string config_file;             // optional JSON object of keys (e.g. a point's config_json)
  std::vector<std::string> overrides;  // key=value, applied after config_file
  std::string data_dir;                // --data
  std::string device = "auto";
  int threads = 0;                     // 0 = every core of this process's share
  std::string json_out;                // optional: write the result as JSON here
};

// Returns the process exit code: 0 trained, 3 the training failed (diverged).
// Throws ConfigError / DataError / std::runtime_error for bad input.
int run_train_command(const TrainCommandOptions& options);

}  // namespace ablate
