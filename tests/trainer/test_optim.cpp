// Tests of trainer/optim: schedules and weight penalties against hand-computed values.
#include "tests/trainer/torch_catch.hpp"

#include <numbers>

#include "trainer/optim.hpp"

using ablate::TrainConfig;

TEST_CASE("learning-rate schedules", "[optim]") {
  TrainConfig config;
  config.lr = 0.1;
  config.epochs = 10;
  config.schedule = "constant";
  CHECK(ablate::learning_rate_at(config, 57, 10) == 0.1);

  config.schedule = "step";
  config.step_epochs = 3;
  config.step_gamma = 0.5;
  CHECK(ablate::learning_rate_at(config, 29, 10) == Approx(0.1));    // epoch 2
  CHECK(ablate::learning_rate_at(config, 30, 10) == Approx(0.05));   // epoch 3
  CHECK(ablate::learning_rate_at(config, 65, 10) == Approx(0.025));  // epoch 6

  config.schedule = "cosine";
  CHECK(ablate::learning_rate_at(config, 0, 10) == Approx(0.1));
  CHECK(ablate::learning_rate_at(config, 50, 10) == Approx(0.05));
  CHECK(ablate::learning_rate_at(config, 25, 10) == Approx(0.05 * (1 + std::cos(std::numbers::pi / 4))));

  config.schedule = "warmup_cosine";
  config.warmup_epochs = 2;
  CHECK(ablate::learning_rate_at(config, 0, 10) == Approx(0.1 / 20));
  CHECK(ablate::learning_rate_at(config, 19, 10) == Approx(0.1));
  CHECK(ablate::learning_rate_at(config, 20, 10) == Approx(0.1));
  CHECK(ablate::learning_rate_at(config, 60, 10) == Approx(0.05));  // half-way through the 80 cosine steps
}

TEST_CASE("L1 and L2 penalties", "[optim]") {
  auto a = torch::tensor({1.0, -2.0, 3.0});
  auto b = torch::tensor({{0.5, -0.5}});
  CHECK(!ablate::weight_penalty({a, b}, 0, 0).defined());
  CHECK(ablate::weight_penalty({a, b}, 0.1, 0).item<double>() == Approx(0.1 * 7.0));
  CHECK(ablate::weight_penalty({a, b}, 0, 0.01).item<double>() == Approx(0.01 * 14.5));
  CHECK(ablate::weight_penalty({a, b}, 0.1, 0.01).item<double>() == Approx(0.7 + 0.145));
}

TEST_CASE("optimizers take the config's hyperparameters", "[optim]") {
  auto w = torch::ones({2}, torch::requires_grad());
  TrainConfig config;
  config.optimizer = "sgd";
  config.lr = 0.5;
  config.momentum = 0;
  auto sgd = ablate::make_optimizer({w}, config);
  w.sum().backward();
  sgd->step();
  CHECK(w[0].item<double>() == Approx(0.5));  // 1 - 0.5 * 1
  ablate::set_learning_rate(*sgd, 0.25);
  sgd->zero_grad();
  w.sum().backward();
  sgd->step();
  CHECK(w[0].item<double>() == Approx(0.25));
  config.optimizer = "adamw";
  CHECK(dynamic_cast<torch::optim::AdamW*>(ablate::make_optimizer({w}, config).get()) != nullptr);
}
