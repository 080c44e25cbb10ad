// Tests of trainer/models: parameter counts, shapes, initialisation, penalised weights.
#include "tests/trainer/torch_catch.hpp"

#include "trainer/models.hpp"

using ablate::TrainConfig;

namespace {
TrainConfig mlp(std::vector<int> hidden) {
  TrainConfig config;
  config.model = "mlp";
  config.hidden = std::move(hidden);
  return config;
}
}  // namespace

TEST_CASE("MLP parameter counts match the hand-computed ones", "[models]") {
  TrainConfig linear;
  linear.model = "linear";
  CHECK(ablate::count_parameters(*ablate::build_model(linear)) == 7850);           // 784*10 + 10
  CHECK(ablate::count_parameters(*ablate::build_model(mlp({}))) == 7850);
  CHECK(ablate::count_parameters(*ablate::build_model(mlp({256}))) == 203530);     // + 256*784+256 ...
  CHECK(ablate::count_parameters(*ablate::build_model(mlp({256, 256}))) == 269322);
  auto with_bn = mlp({256, 256});
  with_bn.batchnorm = true;
  CHECK(ablate::count_parameters(*ablate::build_model(with_bn)) == 269322 + 2 * 2 * 256);
}

TEST_CASE("CNN and ResNet parameter counts", "[models]") {
  TrainConfig cnn;
  cnn.model = "cnn";
  cnn.channels = {32, 64};
  cnn.fc_width = 128;
  // conv 1->32: 9*32+32; conv 32->64: 9*32*64+64; fc 64*7*7 -> 128; 128 -> 10.
  const int64_t expected = (9 * 32 + 32) + (9 * 32 * 64 + 64) + (64 * 49 * 128 + 128) + (128 * 10 + 10);
  CHECK(ablate::count_parameters(*ablate::build_model(cnn)) == expected);

  TrainConfig resnet;
  resnet.model = "resnet";
  resnet.resnet_width = 8;
  resnet.resnet_blocks = {1, 1};
  // stem 9*8 + bn 16; block(8->8): 2*(9*64) + 2*16; block(8->16, stride 2): 9*8*16 + 9*16*16 + 2*32
  // + shortcut 8*16 + 32; head 16*10 + 10.
  const int64_t expected_resnet = (72 + 16) + (2 * 576 + 32) + (1152 + 2304 + 64 + 128 + 32) + 170;
  CHECK(ablate::count_parameters(*ablate::build_model(resnet)) == expected_resnet);
}

TEST_CASE("every model maps [B,1,28,28] to [B,10]", "[models]") {
  for (const std::string family : {"linear", "mlp", "cnn", "resnet"}) {
    TrainConfig config;
    config.model = family;
    config.batchnorm = true;
    config.dropout = 0.2;
    auto model = ablate::build_model(config);
    auto out = model->forward(torch::randn({3, 1, 28, 28}));
    CHECK((out.sizes() == torch::IntArrayRef({3, 10})));
  }
}

TEST_CASE("penalised weights are the matrices and kernels only", "[models]") {
  auto config = mlp({256, 256});
  config.batchnorm = true;
  auto model = ablate::build_model(config);
  const auto weights = ablate::penalised_weights(*model);
  REQUIRE(weights.size() == 3);  // three Linear weights; biases and BatchNorm are not penalised
  int64_t total = 0;
  for (const auto& w : weights) total += w.numel();
  CHECK(total == 784 * 256 + 256 * 256 + 256 * 10);
}

TEST_CASE("init = xavier and kaiming set the weight scale and zero the biases", "[models]") {
  torch::manual_seed(0);
  auto config = mlp({512});
  config.init = "kaiming";
  auto model = ablate::build_model(config);
  auto first = model->named_parameters()["1.weight"];
  // Kaiming normal (fan_in, ReLU): std = sqrt(2 / 784).
  CHECK(first.std().item<double>() == Approx(std::sqrt(2.0 / 784)).epsilon(0.02));
  CHECK(model->named_parameters()["1.bias"].abs().sum().item<double>() == 0.0);

  config.init = "xavier";
  config.activation = "tanh";
  model = ablate::build_model(config);
  first = model->named_parameters()["1.weight"];
  // Xavier uniform with gain 5/3: std = gain * sqrt(2 / (fan_in + fan_out)).
  CHECK(first.std().item<double>() == Approx(5.0 / 3.0 * std::sqrt(2.0 / (784 + 512))).epsilon(0.02));
}

TEST_CASE("the CPU memory format makes conv kernels NHWC and keeps the function", "[models]") {
  TrainConfig cnn;
  cnn.model = "cnn";
  cnn.channels = {4, 8};
  cnn.fc_width = 16;
  auto build = [&] {
    torch::manual_seed(3);
    return ablate::build_model(cnn);
  };
  auto nchw = build(), nhwc = build();
  CHECK(ablate::use_fastest_memory_format(*nhwc, torch::kCPU));
  CHECK_FALSE(ablate::use_fastest_memory_format(*nhwc, torch::kCPU));  // already done
  int kernels = 0;
  for (const auto& p : nhwc->parameters()) {
    if (p.dim() != 4) continue;
    ++kernels;
    CHECK(p.suggest_memory_format() == torch::MemoryFormat::ChannelsLast);  // the 1-channel kernel too
  }
  CHECK(kernels == 2);
  torch::manual_seed(4);
  auto x = torch::randn({5, 1, 28, 28});
  CHECK(torch::allclose(nchw->forward(x), nhwc->forward(x), 1e-5, 1e-6));
  CHECK_FALSE(ablate::use_fastest_memory_format(*build(), torch::Device(torch::kCUDA, 0)));  // GPUs: untouched
  TrainConfig mlp_config = mlp({8});
  CHECK_FALSE(ablate::use_fastest_memory_format(*ablate::build_model(mlp_config), torch::kCPU));

  // A few SGD steps in NHWC: the same seed gives bitwise the same weights.
  auto train = [&] {
    auto model = build();
    ablate::use_fastest_memory_format(*model, torch::kCPU);
    torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    for (int step = 0; step < 3; ++step) {
      sgd.zero_grad();
      torch::nn::functional::cross_entropy(model->forward(x), torch::tensor({0, 1, 2, 3, 4})).backward();
      sgd.step();
    }
    return model->parameters();
  };
  auto first = train(), second = train();
  for (size_t i = 0; i < first.size(); ++i) CHECK(torch::equal(first[i], second[i]));
}
