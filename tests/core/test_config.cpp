// Tests of trainer/config: the key table, validation messages, canonical form and IDs.
#include <catch2/catch.hpp>

#include "core/config.hpp"

using ablate::ConfigError;
using nlohmann::json;

namespace {
std::string error_of(const json& partial) {
  try {
    ablate::canonicalize_config(partial);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("canonical config holds every key with its default", "[config]") {
  const json canonical = ablate::canonicalize_config(json::object());
  CHECK(canonical.size() == ablate::config_keys().size());
  CHECK(canonical["model"] == "mlp");
  CHECK(canonical["hidden"] == json::array({256, 256}));
  CHECK(canonical["lr"] == 0.05);
  // Sorted keys, compact text: the form that is hashed.
  const std::string text = ablate::canonical_text(canonical);
  CHECK(text.rfind("{\"activation\":\"relu\",", 0) == 0);
  CHECK(text.find(' ') == std::string::npos);
}

TEST_CASE("integral floats become ints, ints for float keys stay numbers", "[config]") {
  const json a = ablate::canonicalize_config({{"epochs", 3.0}, {"lr", 1}});
  const json b = ablate::canonicalize_config({{"epochs", 3}, {"lr", 1.0}});
  CHECK(a["epochs"].is_number_integer());
  CHECK(ablate::config_id(a) == ablate::config_id(b));
}

TEST_CASE("validation names the key, the value and what is allowed", "[config]") {
  CHECK(error_of({{"lr", -0.1}}) == "lr = -0.1 is out of range: lr must be in [1e-08, 100]");
  CHECK(error_of({{"activation", "relu6"}}) ==
        "activation = \"relu6\" is not one of: relu, tanh, leaky_relu, gelu, sigmoid");
  CHECK(error_of({{"epochs", 2.5}}).find("epochs = 2.5 has the wrong type: epochs must be an integer") == 0);
  CHECK(error_of({{"learnig_rate", 0.1}}) == "unknown key 'learnig_rate'");
  CHECK(error_of({{"zzzzzzzzzzzzzzzz", 1}}) == "unknown key 'zzzzzzzzzzzzzzzz'");
  CHECK(error_of({{"dropuot", 0.1}}) == "unknown key 'dropuot' (did you mean 'dropout'?)");
  CHECK(error_of({{"channels", json::array()}}).find("channels must not be empty") == 0);
  CHECK(error_of({{"lr", std::nan("")}}).find("lr") == 0);
  CHECK(error_of({{"model", "mlp"}, {"hidden", json::array()}, {"dropout", 0.5}}).find("dropout > 0 needs") == 0);
}

TEST_CASE("apply_override parses by the key's kind", "[config]") {
  json config = json::object();
  ablate::apply_override(config, "hidden=512,128");
  ablate::apply_override(config, "augment_flip=true");
  ablate::apply_override(config, "model=cnn");
  ablate::apply_override(config, "lr=1e-3");
  CHECK(config["hidden"] == json::array({512, 128}));
  CHECK(config["augment_flip"] == true);
  CHECK(config["model"] == "cnn");
  CHECK(config["lr"] == 1e-3);
  ablate::apply_override(config, "hidden=[]");
  CHECK(config["hidden"] == json::array());
  CHECK_THROWS_WITH(ablate::apply_override(config, "epochs=ten"), "epochs: cannot read 'ten' as an integer");
  CHECK_THROWS_WITH(ablate::apply_override(config, "lr"), Catch::Contains("key=value"));
}

TEST_CASE("config IDs hash only what differs from the defaults", "[config]") {
  const json defaults = ablate::canonicalize_config(json::object());
  CHECK(ablate::non_default_part(defaults).empty());
  const json explicit_default = ablate::canonicalize_config({{"lr", 0.05}});
  CHECK(ablate::config_id(explicit_default) == ablate::config_id(defaults));
  const json seed1 = ablate::canonicalize_config({{"seed", 1}});
  const json seed2 = ablate::canonicalize_config({{"seed", 2}});
  CHECK(ablate::config_id(seed1) != ablate::config_id(seed2));
  // Golden: the ID of a config must never change unless the config does.
  CHECK(ablate::config_id(defaults) == "fe0c740aae1f6f24");
  CHECK(ablate::config_id(seed1) == "d7fa17d9d6dc13b2");
}

TEST_CASE("config round-trips through TrainConfig", "[config]") {
  const json canonical = ablate::canonicalize_config({{"model", "resnet"}, {"resnet_blocks", {2, 2}}, {"seed", 7}});
  const ablate::TrainConfig config = ablate::config_from_json(canonical);
  CHECK(config.model == "resnet");
  CHECK(config.resnet_blocks == std::vector<int>{2, 2});
  CHECK(config.seed == 7);
  CHECK(ablate::config_to_json(config) == canonical);
}

TEST_CASE("pack keys: equal for points that differ only in keys that keep tensor shapes", "[config]") {
  auto config = [](nlohmann::json partial) { return ablate::canonicalize_config(partial); };
  const auto base = config({{"model", "mlp"}, {"hidden", {256, 256}}});
  // Seed, learning rate, dropout rate, regularisation and augmentation may differ within a pack.
  const auto other = config({{"model", "mlp"}, {"hidden", {256, 256}}, {"seed", 3}, {"lr", 0.2}, {"dropout", 0.5},
                             {"weight_decay", 1e-4}, {"label_smoothing", 0.1}, {"augment_shift", 2}, {"epochs", 3}});
  CHECK(ablate::pack_key(base) == ablate::pack_key(other));
  CHECK(ablate::pack_key(base) == ablate::pack_key(ablate::config_from_json(other)));
  // Widths, batch size, optimizer kind and the data's size change the tensors or the code.
  CHECK(ablate::pack_key(base) != ablate::pack_key(config({{"model", "mlp"}, {"hidden", {256}}})));
  CHECK(ablate::pack_key(base) != ablate::pack_key(config({{"model", "mlp"}, {"batch_size", 64}})));
  CHECK(ablate::pack_key(base) != ablate::pack_key(config({{"model", "mlp"}, {"optimizer", "adam"}})));
  CHECK(ablate::pack_key(base) != ablate::pack_key(config({{"model", "mlp"}, {"train_limit", 1000}})));
  CHECK(ablate::pack_key(base) != ablate::pack_key(config({{"model", "cnn"}})));
  CHECK_THROWS_AS(ablate::pack_key(nlohmann::json{{"seed", 1}}), ablate::ConfigError);
}
