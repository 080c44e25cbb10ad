// `ablate train`: resolve the config, load the data, train, print the table.
#include "orchestrator/train_command.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "orchestrator/epoch_table.hpp"
#include "orchestrator/result_json.hpp"
#include "trainer/trainer.hpp"

namespace ablate {
namespace {

nlohmann::json read_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open the config file", path));
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object())
    throw std::runtime_error(fmt::format("{}: not a JSON object of training keys (e.g. {{\"lr\": 0.1}})", path));
  return parsed;
}

}  // namespace

int run_train_command(const TrainCommandOptions& options) {
  // Validate everything before loading data or touching a device.
  nlohmann::json partial = options.config_file.empty() ? nlohmann::json::object() : read_config_file(options.config_file);
  for (const auto& assignment : options.overrides) apply_override(partial, assignment);
  const nlohmann::json canonical = canonicalize_config(partial);
  const TrainConfig config = config_from_json(canonical);

  DeviceRequest request;
  request.kind = options.device;
  request.threads = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::string device = prepare_device(request);
  const FashionMnist data = load_fashion_mnist(options.data_dir);

  std::cout << fmt::format("ablate train: point {} on {} ({} threads), data {}\n", config_id(canonical), device,
                           request.threads, data.dir);
  std::cout << "config: " << canonical_text(non_default_part(canonical)) << "\n";
  std::cout << epoch_table_header() << std::endl;
  TrainResult result;
  try {
    result = train_config(config, data, request,
                          [](const EpochMetrics& row) {
                            std::cout << epoch_table_row(row) << std::endl;
                            return EpochVerdict::go_on;
                          });
  } catch (const DataError&) {
    throw;
  } catch (const std::runtime_error& error) {
    std::cerr << "ablate train: the training failed: " << error.what() << "\n";
    return 3;
  }
  std::cout << fmt::format(
      "parameters {}; best epoch {} (val {:.4f}, test there {:.4f}); final test accuracy {:.4f}; {:.1f} s\n",
      result.parameter_count, result.best_epoch, result.best_val_acc, result.test_acc_at_best_val,
      result.final_test_acc, result.train_seconds);
  if (!options.json_out.empty()) {
    std::ofstream out(options.json_out);
    out << result_to_json(canonical, result).dump(2) << "\n";
    if (!out) throw std::runtime_error(fmt::format("{}: cannot write the result", options.json_out));
  }
  return 0;
}

}  // namespace ablate
