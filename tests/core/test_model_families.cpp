// Tests of core/layer_plan and core/families: the families' plans layer by
// layer, their parameter counts by hand, the table behind the `model` key, and
// the checks each family makes.
#include <catch2/catch.hpp>

#include <set>

#include "core/config.hpp"
#include "core/families/families.hpp"
#include "core/metrics.hpp"

using ablate::ConfigError;
using ablate::LayerKind;
using ablate::LayerPlan;
using ablate::TrainConfig;
using nlohmann::json;

namespace {

TrainConfig config_of(const json& partial) { return ablate::config_from_json(ablate::canonicalize_config(partial)); }

std::vector<LayerKind> kinds(const LayerPlan& plan) {
  std::vector<LayerKind> out;
  for (const auto& layer : plan.layers()) out.push_back(layer.kind);
  return out;
}

std::string error_of(const json& partial) {
  try {
    ablate::canonicalize_config(partial);
  } catch (const ConfigError& e) {
    return e.key() + ": " + e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the model key accepts exactly the registered families", "[config][families]") {
  const auto* key = ablate::find_config_key("model");
  REQUIRE(key != nullptr);
  CHECK(key->shape);
  CHECK(key->choices == ablate::model_family_names());
  CHECK(ablate::model_family_names() == std::vector<std::string>{"linear", "mlp", "cnn", "resnet"});
  std::set<std::string> distinct;
  for (const auto& family : ablate::model_families()) {
    CHECK_FALSE(family.description.empty());
    CHECK(family.plan != nullptr);
    distinct.insert(family.name);
  }
  CHECK(distinct.size() == ablate::model_families().size());

  const std::string unknown = error_of({{"model", "transformer"}});
  CHECK(unknown.rfind("model: ", 0) == 0);
  CHECK(unknown.find("transformer") != std::string::npos);
  CHECK(unknown.find("resnet") != std::string::npos);  // names what is allowed
  TrainConfig config;
  config.model = "transformer";
  CHECK_THROWS_AS(ablate::model_plan(config), ConfigError);
  CHECK_THROWS_AS(ablate::validate_config(config), ConfigError);
}

TEST_CASE("each family's own checks run in validate_config", "[config][families]") {
  CHECK(error_of({{"model", "mlp"}, {"hidden", json::array()}, {"dropout", 0.5}}).rfind("dropout: dropout > 0 needs", 0) ==
        0);
  CHECK(error_of({{"model", "cnn"}, {"channels", {8, 8, 8, 8, 8}}}).rfind("channels: ", 0) == 0);
  CHECK(error_of({{"model", "cnn"}, {"channels", {8, 8, 8, 8}}}).empty());
  CHECK(error_of({{"model", "resnet"}, {"resnet_blocks", {1, 1, 1, 1}}}).rfind("resnet_blocks: ", 0) == 0);
  CHECK(error_of({{"model", "resnet"}, {"resnet_blocks", {1, 1, 1}}}).empty());
  // Another family's keys are not its business: a cnn ignores hidden, an mlp channels.
  CHECK(error_of({{"model", "cnn"}, {"hidden", json::array()}, {"dropout", 0.5}}).empty());
  CHECK(error_of({{"model", "mlp"}, {"channels", {8, 8, 8, 8, 8}}}).empty());
}

TEST_CASE("the families' plans, layer by layer", "[families]") {
  using K = LayerKind;
  const auto linear = ablate::model_plan(config_of({{"model", "linear"}, {"dropout", 0.5}, {"batchnorm", true}}));
  CHECK(kinds(linear) == std::vector<K>{K::flatten, K::linear});
  CHECK(linear.layers()[1].in == 784);

  const auto mlp = ablate::model_plan(config_of({{"hidden", {64, 32}}, {"batchnorm", true}, {"dropout", 0.25},
                                                {"activation", "leaky_relu"}, {"leaky_slope", 0.2}}));
  CHECK(kinds(mlp) == std::vector<K>{K::flatten, K::linear, K::batchnorm, K::activation, K::dropout, K::linear,
                                     K::batchnorm, K::activation, K::dropout, K::linear});
  CHECK(mlp.layers()[2].side == 0);  // BatchNorm1d
  CHECK(mlp.layers()[3].activation == "leaky_relu");
  CHECK(mlp.layers()[3].leaky_slope == 0.2);
  CHECK(mlp.layers()[4].rate == 0.25);
  CHECK(mlp.layers()[5].in == 64);
  CHECK(mlp.layers()[5].out == 32);

  const auto cnn = ablate::model_plan(config_of({{"model", "cnn"}, {"channels", {8, 16, 4}}, {"fc_width", 0}}));
  CHECK(kinds(cnn) == std::vector<K>{K::conv3x3, K::activation, K::max_pool2x2, K::conv3x3, K::activation,
                                     K::max_pool2x2, K::conv3x3, K::activation, K::max_pool2x2, K::flatten, K::linear});
  CHECK(cnn.layers()[0].bias);
  CHECK(cnn.layers()[2].side == 14);
  CHECK(cnn.layers()[8].side == 3);  // 7 -> 3: max-pool rounds down
  CHECK(cnn.layers()[9].out == 4 * 3 * 3);

  const auto resnet = ablate::model_plan(config_of({{"model", "resnet"}, {"resnet_width", 8}, {"resnet_blocks", {2, 1, 1}},
                                                   {"activation", "tanh"}}));
  CHECK(kinds(resnet) == std::vector<K>{K::conv3x3, K::batchnorm, K::activation, K::residual_block, K::residual_block,
                                        K::residual_block, K::residual_block, K::global_avg_pool, K::flatten, K::linear});
  CHECK_FALSE(resnet.layers()[0].bias);
  CHECK(resnet.layers()[2].activation == "relu");  // a ResNet is always ReLU
  CHECK_FALSE(resnet.layers()[3].has_projection());
  CHECK(resnet.layers()[5].has_projection());
  CHECK(resnet.layers()[5].side == 14);
  CHECK(resnet.layers()[6].side == 7);
  CHECK(resnet.layers()[6].out == 32);
  CHECK(resnet.layers()[9].in == 32);
}

TEST_CASE("plan parameter counts match the hand-computed ones", "[families]") {
  auto count = [](const json& partial) { return ablate::count_plan_parameters(ablate::model_plan(config_of(partial))); };
  CHECK(count({{"model", "linear"}}) == 7850);
  CHECK(count({{"hidden", {256, 256}}}) == 269322);
  CHECK(count({{"hidden", {256, 256}}, {"batchnorm", true}}) == 269322 + 2 * 2 * 256);
  CHECK(count({{"model", "cnn"}, {"channels", {32, 64}}, {"fc_width", 128}}) ==
        (9 * 32 + 32) + (9 * 32 * 64 + 64) + (64 * 49 * 128 + 128) + (128 * 10 + 10));
  // With BatchNorm the convolutions lose their bias and each gains a scale and a shift.
  CHECK(count({{"model", "cnn"}, {"channels", {32, 64}}, {"fc_width", 128}, {"batchnorm", true}}) ==
        (9 * 32 + 64) + (9 * 32 * 64 + 128) + (64 * 49 * 128 + 128) + (128 * 10 + 10));
  // stem 9*8 + bn 16; block(8->8): 2*(9*64) + 2*16; block(8->16, stride 2): 9*8*16 + 9*16*16 + 2*32
  // + shortcut 8*16 + 32; head 16*10 + 10.
  CHECK(count({{"model", "resnet"}, {"resnet_width", 8}, {"resnet_blocks", {1, 1}}}) ==
        (72 + 16) + (2 * 576 + 32) + (1152 + 2304 + 64 + 128 + 32) + 170);
}

TEST_CASE("a plan that does not fit its shape is a family's bug", "[families]") {
  CHECK_THROWS_AS(LayerPlan().linear(10), std::logic_error);                       // no flatten
  CHECK_THROWS_AS(LayerPlan().flatten().conv3x3(8), std::logic_error);             // image layer after flatten
  CHECK_THROWS_AS(LayerPlan().max_pool2x2().max_pool2x2().max_pool2x2().max_pool2x2().max_pool2x2(), std::logic_error);
  LayerPlan plan;
  plan.flatten().linear(ablate::kNumClasses);
  CHECK(plan.width() == ablate::kNumClasses);
  CHECK(plan.side() == 0);
}
