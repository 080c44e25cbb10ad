// Tests of trainer/models: parameter counts, shapes, initialisation, penalised weights.
#include "tests/trainer/torch_catch.hpp"

#include "core/families/families.hpp"
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

TEST_CASE("build_model makes one module per plan layer, with the plan's parameter count", "[models][families]") {
  for (const auto& family : ablate::model_families()) {
    for (const bool batchnorm : {false, true}) {
      for (const double dropout : {0.0, 0.3}) {
        TrainConfig config;
        config.model = family.name;
        config.batchnorm = batchnorm;
        config.dropout = dropout;
        config.hidden = {32, 16};
        config.channels = {4, 8, 4};
        config.fc_width = 12;
        config.resnet_width = 4;
        config.resnet_blocks = {1, 2};
        CAPTURE(family.name, batchnorm, dropout);
        const auto plan = ablate::model_plan(config);
        auto model = ablate::build_model(config);
        CHECK(model->size() == plan.layers().size());
        CHECK(ablate::count_parameters(*model) == ablate::count_plan_parameters(plan));
        CHECK(model->forward(torch::randn({2, 1, 28, 28})).sizes() == torch::IntArrayRef({2, 10}));
      }
    }
  }
}

// The modules each family was built of before the layer plans, written out by
// hand: the plan-built model must draw the same weights in the same order.
TEST_CASE("build_model initialises as the hand-written families do: bit for bit", "[models][families]") {
  namespace nn = torch::nn;
  auto conv = [](int64_t in, int64_t out, int64_t stride, bool bias) {
    return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(bias));
  };
  // Modules in a braced list are made left to right (function arguments have no
  // such order), so the weights are drawn in the listed order.
  auto sequential = [](std::vector<nn::AnyModule> modules) {
    nn::Sequential net;
    for (auto& module : modules) net->push_back(std::move(module));
    return net;
  };
  auto same = [](const nn::Sequential& built, const nn::Sequential& by_hand) {
    const auto a = built->named_parameters(), b = by_hand->named_parameters();
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      CAPTURE(a[i].key());
      CHECK(a[i].key() == b[i].key());
      CHECK(torch::equal(a[i].value(), b[i].value()));
    }
    const auto x = built->named_buffers(), y = by_hand->named_buffers();
    REQUIRE(x.size() == y.size());
    for (size_t i = 0; i < x.size(); ++i) CHECK(x[i].key() == y[i].key());
  };

  TrainConfig mlp_config = mlp({64, 32});
  mlp_config.batchnorm = true;
  mlp_config.dropout = 0.1;
  mlp_config.activation = "gelu";
  torch::manual_seed(11);
  auto built = ablate::build_model(mlp_config);
  torch::manual_seed(11);
  same(built, sequential({nn::AnyModule(nn::Flatten()), nn::AnyModule(nn::Linear(784, 64)),
                          nn::AnyModule(nn::BatchNorm1d(64)), nn::AnyModule(nn::GELU()), nn::AnyModule(nn::Dropout(0.1)),
                          nn::AnyModule(nn::Linear(64, 32)), nn::AnyModule(nn::BatchNorm1d(32)), nn::AnyModule(nn::GELU()),
                          nn::AnyModule(nn::Dropout(0.1)), nn::AnyModule(nn::Linear(32, 10))}));

  TrainConfig cnn;
  cnn.model = "cnn";
  cnn.channels = {4, 8};
  cnn.fc_width = 16;
  cnn.batchnorm = true;
  cnn.dropout = 0.2;
  torch::manual_seed(12);
  built = ablate::build_model(cnn);
  torch::manual_seed(12);
  same(built, sequential({nn::AnyModule(conv(1, 4, 1, false)), nn::AnyModule(nn::BatchNorm2d(4)),
                          nn::AnyModule(nn::ReLU()), nn::AnyModule(nn::MaxPool2d(2)), nn::AnyModule(conv(4, 8, 1, false)),
                          nn::AnyModule(nn::BatchNorm2d(8)), nn::AnyModule(nn::ReLU()), nn::AnyModule(nn::MaxPool2d(2)),
                          nn::AnyModule(nn::Flatten()), nn::AnyModule(nn::Dropout(0.2)),
                          nn::AnyModule(nn::Linear(8 * 7 * 7, 16)), nn::AnyModule(nn::ReLU()),
                          nn::AnyModule(nn::Dropout(0.2)), nn::AnyModule(nn::Linear(16, 10))}));

  TrainConfig resnet;
  resnet.model = "resnet";
  resnet.resnet_width = 4;
  resnet.resnet_blocks = {1, 1};
  resnet.init = "kaiming";
  torch::manual_seed(13);
  built = ablate::build_model(resnet);
  torch::manual_seed(13);
  auto by_hand = sequential({nn::AnyModule(conv(1, 4, 1, false)), nn::AnyModule(nn::BatchNorm2d(4)),
                             nn::AnyModule(nn::ReLU()), nn::AnyModule(ablate::ResidualBlock(4, 4, 1)),
                             nn::AnyModule(ablate::ResidualBlock(4, 8, 2)),
                             nn::AnyModule(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1))),
                             nn::AnyModule(nn::Flatten()), nn::AnyModule(nn::Linear(8, 10))});
  {
    torch::NoGradGuard no_grad;  // config.init = kaiming, as build_model does it
    for (auto& module : by_hand->modules(/*include_self=*/false)) {
      torch::Tensor weight, bias;
      if (auto* linear = module->as<nn::Linear>()) {
        weight = linear->weight, bias = linear->bias;
      } else if (auto* c = module->as<nn::Conv2d>()) {
        weight = c->weight, bias = c->bias;
      } else {
        continue;
      }
      nn::init::kaiming_normal_(weight, /*a=*/0.0, torch::kFanIn, torch::kReLU);
      if (bias.defined()) bias.zero_();
    }
  }
  same(built, by_hand);
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
