// Cost of augment_batch alone: microseconds per image for a batch of Fashion-MNIST
// shape, per augmentation mix; prints one JSON line per mix.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "trainer/augment.hpp"
#include "trainer/device.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ablate augmentation micro-benchmark"};
  int threads = 0, batch = 128, repeats = 2000;
  app.add_option("--threads", threads, "intra-op threads (0 = Torch's default)");
  app.add_option("--batch", batch)->check(CLI::PositiveNumber);
  app.add_option("--repeats", repeats, "timed batches per mix")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) torch::set_num_threads(threads);

  struct Mix {
    const char* name;
    ablate::AugmentOptions options;
  };
  auto mix = [](int shift, bool flip, double erase) {
    ablate::AugmentOptions options;
    options.shift = shift, options.flip = flip, options.erase = erase;
    return options;
  };
  const Mix mixes[] = {{"shift2", mix(2, false, 0)},
                       {"flip", mix(0, true, 0)},
                       {"erase0.5", mix(0, false, 0.5)},
                       {"shift2+flip+erase0.5", mix(2, true, 0.5)}};
  auto images = torch::randn({batch, 1, 28, 28});
  auto generator = ablate::make_generator(torch::kCPU, 1);
  for (const auto& [name, options] : mixes) {
    // Best of five rounds: the machine is shared, the minimum is the cost.
    double best = 1e30;
    for (int round = 0; round < 5; ++round) {
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < repeats / 5; ++i) ablate::augment_batch(images, options, generator);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      best = std::min(best, seconds / (repeats / 5));
    }
    std::cout << nlohmann::json{{"bench", "augment"},
                                {"mix", name},
                                {"batch", batch},
                                {"threads", torch::get_num_threads()},
                                {"us_per_batch", best * 1e6},
                                {"us_per_image", best * 1e6 / batch}}
                     .dump()
              << std::endl;
  }
  return 0;
}
