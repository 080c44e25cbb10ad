// Points per hour, packed (K = 1, 2, 4, ...) against one point per worker, on
// the same cores (or GPU) in the same run. Each of `workers` threads (on the
// CPU one LibTorch thread each, as `ablate run` gives each worker its share of
// the cores) trains `points` one-epoch points of the family: alone, one after
// another (the baseline), or in packs of K through train_pack. Prints one JSON
// line per measurement with points/hour and the ratio to the baseline measured
// just before. `--device cuda`: the same on the GPU (gpu-check.sh's step 5).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <thread>

#include "trainer/trainer.hpp"

namespace {

using Clock = std::chrono::steady_clock;

ablate::TrainConfig family_config(const std::string& family, int train_limit) {
  ablate::TrainConfig config;  // the seed study's settings (sweeps/seed_study.toml)
  config.model = "mlp";
  config.hidden = {256, 256};
  config.lr = 0.05;
  config.momentum = 0.9;
  config.batch_size = 128;
  config.epochs = 1;
  config.train_limit = train_limit;
  if (family == "linear") {
    config.hidden = {};
  } else if (family == "cnn") {
    config.model = "cnn";
    config.channels = {32, 64};
    config.fc_width = 128;
  } else if (family != "mlp") {
    throw std::invalid_argument("family must be linear, mlp or cnn");
  }
  return config;
}

// Trains `points` points on `workers` threads, `pack` points at a time per
// worker; returns the wall seconds.
double run(const ablate::FashionMnist& data, const ablate::TrainConfig& base, const ablate::DeviceRequest& device,
           int points, int workers, int pack) {
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  std::vector<std::string> errors(static_cast<size_t>(workers));
  for (int w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      const ablate::DeviceRequest request = device;  // train_pack sets the worker's thread count
      try {
        for (int first = w * pack; first < points; first += workers * pack) {
          std::vector<ablate::PackMember> members;
          for (int i = first; i < std::min(points, first + pack); ++i) {
            ablate::PackMember m;
            m.config = base;
            m.config.seed = i;  // every point its own seed, as in a seed study
            members.push_back(m);
          }
          ablate::train_pack(members, data, request, [&](size_t, ablate::PackMemberOutcome outcome) {
            if (outcome.failed) errors[static_cast<size_t>(w)] = outcome.error;
          });
        }
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(w)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (!e.empty()) throw std::runtime_error(e);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Points per hour of packed training against one point per worker"};
  std::string family = "mlp";
  std::vector<int> packs = {2, 4, 8, 16};
  int workers = 2, train_limit = 10000, points = 32, epochs = 1;
  ablate::DeviceRequest device;
  device.kind = "cpu";
  device.threads = 1;
  app.add_option("--family", family, "linear | mlp | cnn (the seed study's settings)");
  app.add_option("--packs", packs, "pack sizes K to measure against K = 1");
  app.add_option("--workers", workers, "workers (threads), one LibTorch thread each");
  app.add_option("--train-limit", train_limit, "training images per point (one epoch each)");
  app.add_option("--points", points, "points per measurement (a multiple of workers * K keeps packs full)");
  app.add_option("--device", device.kind, "cpu | cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--threads", device.threads, "LibTorch threads per worker on the CPU");
  app.add_option("--epochs", epochs, "epochs per point (the seed study's are 15-30: setup weighs less)");
  CLI11_PARSE(app, argc, argv);

  const auto data = ablate::load_fashion_mnist("");
  auto base = family_config(family, train_limit);
  base.epochs = epochs;
  run(data, base, device, workers, workers, 1);  // warm-up: data in cache, allocator primed (CUDA: context)
  for (int pack : packs) {
    // The baseline is measured again beside each K: the machine's load drifts.
    const double lone = run(data, base, device, points, workers, 1);
    const double packed = run(data, base, device, points, workers, pack);
    nlohmann::json line = {{"bench", "packing"},          {"family", family},
                           {"device", device.kind},       {"workers", workers},
                           {"threads_per_worker", device.threads},
                           {"train_images", train_limit}, {"epochs", epochs}, {"points", points},
                           {"pack", pack},                {"lone_points_per_hour", points / lone * 3600},
                           {"packed_points_per_hour", points / packed * 3600}, {"ratio", lone / packed}};
    std::cout << line.dump() << std::endl;
  }
  return 0;
}
