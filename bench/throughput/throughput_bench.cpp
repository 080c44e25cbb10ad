// Training throughput of ablate's trainer: one warm-up epoch, then timed epochs;
// prints one JSON line per run (read by bench/throughput/run.py).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>

#include "core/config.hpp"
#include "trainer/models.hpp"
#include "trainer/trainer.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ablate trainer throughput benchmark"};
  std::vector<std::string> overrides;
  std::string device = "auto";
  int threads = 0, timed_epochs = 2;
  app.add_option("overrides", overrides, "training keys (model=cnn ...)");
  app.add_option("--device", device);
  app.add_option("--threads", threads);
  app.add_option("--timed-epochs", timed_epochs)->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  nlohmann::json partial = nlohmann::json::object();
  for (const auto& assignment : overrides) ablate::apply_override(partial, assignment);
  partial["epochs"] = timed_epochs + 1;
  auto canonical = ablate::canonicalize_config(partial);
  const ablate::TrainConfig config = ablate::config_from_json(canonical);

  ablate::DeviceRequest request{device, 0, threads};
  const std::string resolved = ablate::prepare_device(request);
  const ablate::FashionMnist data = ablate::load_fashion_mnist("");
  const ablate::TrainResult result = ablate::train_config(config, data, request);
  // The memory format train() chose for the convolutions, so that the peer can train in the same one.
  auto probe = ablate::build_model(config);
  const bool channels_last = ablate::use_fastest_memory_format(*probe, torch::Device(resolved));

  // Epoch 1 warms up (allocator, kernel selection); the rest are timed.
  double seconds = 0, images_per_second = 0;
  for (size_t e = 1; e < result.curves.size(); ++e) seconds += result.curves[e].epoch_seconds;
  seconds /= static_cast<double>(result.curves.size() - 1);
  for (size_t e = 1; e < result.curves.size(); ++e) images_per_second += result.curves[e].images_per_second;
  images_per_second /= static_cast<double>(result.curves.size() - 1);

  std::cout << nlohmann::json{{"impl", "ablate"},
                              {"config", ablate::non_default_part(canonical)},
                              {"canonical", canonical},
                              {"device", resolved},
                              {"threads", ablate::trainer_info().threads},
                              {"channels_last", channels_last},
                              {"epoch_seconds", seconds},
                              {"images_per_second", images_per_second},
                              {"final_test_acc", result.final_test_acc}}
                   .dump()
            << std::endl;
  return 0;
}
