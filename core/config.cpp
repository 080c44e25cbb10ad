// The table of training keys and the canonical JSON form of a config.
#include "core/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>

#include "core/families/families.hpp"

namespace ablate {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Marks a key of the table as a shape key (ConfigKey::shape).
ConfigKey shape_key(ConfigKey key) {
  key.shape = true;
  return key;
}

const std::vector<ConfigKey> kConfigKeys = {
    // Model
    shape_key({"model", &TrainConfig::model, "model family (core/families/)", -kInf, kInf, model_family_names()}),
    shape_key({"hidden", &TrainConfig::hidden, "MLP hidden layer widths, [] for a linear model", 1, 65536}),
    shape_key({"activation", &TrainConfig::activation, "non-linearity of MLP/CNN hidden layers", -kInf, kInf,
     {"relu", "tanh", "leaky_relu", "gelu", "sigmoid"}}),
    shape_key({"leaky_slope", &TrainConfig::leaky_slope, "negative slope of leaky_relu", 0, 1}),
    {"dropout", &TrainConfig::dropout, "dropout probability after each hidden layer", 0, 0.95},
    shape_key({"batchnorm", &TrainConfig::batchnorm, "BatchNorm after each hidden linear/conv layer"}),
    {"init", &TrainConfig::init, "weight initialisation", -kInf, kInf, {"default", "kaiming", "xavier"}},
    shape_key({"channels", &TrainConfig::channels, "CNN conv channels per block (3x3 conv + 2x2 max-pool)", 1, 4096,
     {}, /*allow_empty_list=*/false}),
    shape_key({"fc_width", &TrainConfig::fc_width, "CNN head hidden width (0: no hidden layer)", 0, 65536}),
    shape_key({"resnet_width", &TrainConfig::resnet_width, "ResNet first-stage channels", 1, 1024}),
    shape_key({"resnet_blocks", &TrainConfig::resnet_blocks, "ResNet residual blocks per stage", 1, 64, {},
     /*allow_empty_list=*/false}),
    // Optimisation
    shape_key({"optimizer", &TrainConfig::optimizer, "optimizer", -kInf, kInf, {"sgd", "adam", "adamw"}}),
    {"lr", &TrainConfig::lr, "peak learning rate", 1e-8, 100},
    {"momentum", &TrainConfig::momentum, "SGD momentum", 0, 0.999},
    shape_key({"nesterov", &TrainConfig::nesterov, "Nesterov momentum (SGD)"}),
    {"weight_decay", &TrainConfig::weight_decay, "weight decay (decoupled for adamw)", 0, 1},
    {"schedule", &TrainConfig::schedule, "learning-rate schedule", -kInf, kInf,
     {"constant", "step", "cosine", "warmup_cosine"}},
    {"step_epochs", &TrainConfig::step_epochs, "step schedule: epochs between decays", 1, 100000},
    {"step_gamma", &TrainConfig::step_gamma, "step schedule: decay factor", 0, 1},
    {"warmup_epochs", &TrainConfig::warmup_epochs, "warmup_cosine: linear warm-up epochs", 0, 100000},
    {"epochs", &TrainConfig::epochs, "training epochs", 1, 100000},
    shape_key({"batch_size", &TrainConfig::batch_size, "global batch size", 1, 1 << 20}),
    // Regularisation
    {"l1", &TrainConfig::l1, "L1 penalty coefficient (weights only)", 0, 1},
    {"l2", &TrainConfig::l2, "L2 penalty coefficient (weights only)", 0, 1},
    {"label_smoothing", &TrainConfig::label_smoothing, "label smoothing of the cross-entropy", 0, 0.99},
    // Data
    {"normalize", &TrainConfig::normalize, "input normalisation", -kInf, kInf, {"none", "unit", "standard"}},
    shape_key({"val_size", &TrainConfig::val_size, "validation images carved from the training set", 0, 1 << 30}),
    shape_key({"train_limit", &TrainConfig::train_limit, "use only N training images (0 = all)", 0, 1 << 30}),
    {"augment_shift", &TrainConfig::augment_shift, "random shift up to N pixels", 0, 14},
    {"augment_flip", &TrainConfig::augment_flip, "random horizontal flip"},
    {"augment_erase", &TrainConfig::augment_erase, "random erasing probability", 0, 1},
    {"augment_erase_max_area", &TrainConfig::augment_erase_max_area, "largest erased fraction of the image",
     0.02, 1},
    // Evaluation
    {"eval_flip", &TrainConfig::eval_flip,
     "test-time augmentation: every evaluation (validation, test, clean train accuracy) averages the class "
     "probabilities of each image and of its horizontal mirror; training is unchanged"},
    // Arithmetic and speed
    shape_key({"precision", &TrainConfig::precision,
     "arithmetic of training: fp32; tf32 (TF32 tensor-core matmuls and convolutions on CUDA, fp32 on the CPU); "
     "bf16 (the forward pass autocast to bfloat16, on CUDA and the CPU; weights and optimizer state stay fp32)",
     -kInf, kInf, {"fp32", "tf32", "bf16"}}),
    shape_key({"cuda_graphs", &TrainConfig::cuda_graphs,
     "replay the training step (forward, loss, backward) as a CUDA graph on full batches; applies on CUDA with "
     "one rank per point, ignored elsewhere"}),
    // Reproducibility
    {"seed", &TrainConfig::seed, "seed of everything random", 0, 2147483647},
};

const char* kind_name(const ConfigField& field) {
  return std::visit(
      [](auto member) -> const char* {
        using T = std::remove_cvref_t<decltype(std::declval<TrainConfig>().*member)>;
        if constexpr (std::is_same_v<T, int>) return "an integer";
        if constexpr (std::is_same_v<T, double>) return "a number";
        if constexpr (std::is_same_v<T, bool>) return "true or false";
        if constexpr (std::is_same_v<T, std::string>) return "a string";
        if constexpr (std::is_same_v<T, std::vector<int>>) return "a list of integers";
      },
      field);
}

std::string range_text(const ConfigKey& key) {
  return fmt::format("[{}, {}]", key.min, key.max);
}

bool is_integral(const nlohmann::json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9e15;
}

template <typename Shown>
void check_number(const ConfigKey& key, double value, const Shown& shown) {
  if (!std::isfinite(value))
    throw ConfigError(key.name, fmt::format("{} = {} is not a finite number", key.name, shown()));
  if (value < key.min || value > key.max)
    throw ConfigError(key.name, fmt::format("{} = {} is out of range: {} must be in {}", key.name, shown(),
                                            key.name, range_text(key)));
}

// Levenshtein distance, for "did you mean".
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

const std::vector<ConfigKey>& config_keys() { return kConfigKeys; }

const ConfigKey* find_config_key(const std::string& name) {
  for (const auto& key : kConfigKeys)
    if (name == key.name) return &key;
  return nullptr;
}

std::string closest_name(const std::string& word, const std::vector<std::string>& known) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : known) {
    size_t d = edit_distance(word, candidate);
    if (d < best_distance) best_distance = d, best = candidate;
  }
  return best;
}

std::string suggest_config_key(const std::string& unknown) {
  std::vector<std::string> names;
  for (const auto& key : kConfigKeys) names.emplace_back(key.name);
  return closest_name(unknown, names);
}

void validate_config_value(const ConfigKey& key, const nlohmann::json& value) {
  // The value as written, for messages only: a sweep validates every key of every
  // point, and writing each value out would cost more than checking it.
  const auto shown = [&value] { return value.dump(); };
  auto wrong_type = [&] {
    return ConfigError(key.name, fmt::format("{} = {} has the wrong type: {} must be {} ({})", key.name, shown(),
                                             key.name, kind_name(key.field), key.help));
  };
  std::visit(
      [&](auto member) {
        using T = std::remove_cvref_t<decltype(std::declval<TrainConfig>().*member)>;
        if constexpr (std::is_same_v<T, int>) {
          if (!is_integral(value)) throw wrong_type();
          check_number(key, value.get<double>(), shown);
        } else if constexpr (std::is_same_v<T, double>) {
          if (!value.is_number()) throw wrong_type();
          check_number(key, value.get<double>(), shown);
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!value.is_boolean()) throw wrong_type();
        } else if constexpr (std::is_same_v<T, std::string>) {
          if (!value.is_string()) throw wrong_type();
          const auto s = value.get<std::string>();
          if (!key.choices.empty() && std::find(key.choices.begin(), key.choices.end(), s) == key.choices.end())
            throw ConfigError(key.name, fmt::format("{} = \"{}\" is not one of: {}", key.name, s,
                                                    fmt::join(key.choices, ", ")));
        } else {
          if (!value.is_array()) throw wrong_type();
          if (value.empty() && !key.allow_empty_list)
            throw ConfigError(key.name, fmt::format("{} must not be empty ({})", key.name, key.help));
          if (value.size() > 64)
            throw ConfigError(key.name, fmt::format("{} has {} entries; at most 64 are allowed", key.name,
                                                    value.size()));
          for (const auto& element : value) {
            if (!is_integral(element)) throw wrong_type();
            check_number(key, element.get<double>(), shown);
          }
        }
      },
      key.field);
}

namespace {
// Sets one field from a value validate_config_value accepted.
void assign_config_value(TrainConfig& config, const ConfigKey& key, const nlohmann::json& value) {
  std::visit(
      [&](auto member) {
        using T = std::remove_cvref_t<decltype(config.*member)>;
        if constexpr (std::is_same_v<T, int>) {
          config.*member = static_cast<int>(value.template get<double>());
        } else if constexpr (std::is_same_v<T, std::vector<int>>) {
          std::vector<int> values;
          for (const auto& e : value) values.push_back(static_cast<int>(e.template get<double>()));
          config.*member = values;
        } else {
          config.*member = value.template get<T>();
        }
      },
      key.field);
}
}  // namespace

nlohmann::json canonicalize_config(const nlohmann::json& partial) {
  if (!partial.is_object()) throw ConfigError("", "a config must be a JSON object of key = value pairs");
  TrainConfig config;
  for (const auto& [name, value] : partial.items()) {
    const ConfigKey* key = find_config_key(name);
    if (!key) {
      std::string hint = suggest_config_key(name);
      throw ConfigError(name, hint.empty() ? fmt::format("unknown key '{}'", name)
                                           : fmt::format("unknown key '{}' (did you mean '{}'?)", name, hint));
    }
    validate_config_value(*key, value);
    assign_config_value(config, *key, value);
  }
  validate_config(config);
  return config_to_json(config);
}

std::string canonical_text(const nlohmann::json& canonical) { return canonical.dump(); }

namespace {
// Built once: every point's ID needs them, and config_to_json is ~5 us.
const nlohmann::json& default_config_json() {
  static const nlohmann::json defaults = config_to_json(TrainConfig{});
  return defaults;
}
}  // namespace

nlohmann::json non_default_part(const nlohmann::json& canonical) {
  const nlohmann::json& defaults = default_config_json();
  nlohmann::json varied = nlohmann::json::object();
  for (const auto& [name, value] : canonical.items())
    if (!defaults.contains(name) || defaults.at(name) != value) varied[name] = value;
  return varied;
}

namespace {
// Printable ASCII without quote or backslash: JSON writes such a string as it is.
bool needs_no_escaping(const std::string& text) {
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
}
}  // namespace

std::string config_id(const nlohmann::json& canonical) {
  // The text of non_default_part(canonical), written without building it: an
  // object's dump is its members, sorted by key, as "key":value, comma-separated.
  // Both objects are sorted by key: walk the defaults in step (a sweep makes this
  // text for every point, so no lookups and no JSON string per key).
  const nlohmann::json& defaults = default_config_json();
  std::string text = "{";
  auto d = defaults.begin();
  for (auto it = canonical.begin(); it != canonical.end(); ++it) {
    const std::string& name = it.key();
    while (d != defaults.end() && d.key() < name) ++d;
    if (d != defaults.end() && d.key() == name && *d == *it) continue;
    if (text.size() > 1) text += ',';
    if (needs_no_escaping(name)) text.append("\"").append(name).append("\"");  // what dump() writes for it
    else text += nlohmann::json(name).dump();
    text += ':';
    text += it->dump();
  }
  text += '}';
  uint64_t hash = 14695981039346656037ull;  // FNV-1a 64: tiny, stable, no dependency
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  // FNV-1a mixes its last bytes poorly (configs differing only in the seed got
  // look-alike IDs); the splitmix64 finaliser spreads every bit over all 16 digits.
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ull;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebull;
  hash ^= hash >> 31;
  return fmt::format("{:016x}", hash);
}

std::string pack_key(const nlohmann::json& canonical) {
  nlohmann::json shape = nlohmann::json::object();
  for (const auto& key : kConfigKeys)
    if (key.shape) {
      const auto it = canonical.find(key.name);
      if (it == canonical.end())
        throw ConfigError(key.name, fmt::format("the config has no '{}': pack keys are made of canonical configs",
                                                key.name));
      shape[key.name] = *it;
    }
  return canonical_text(shape);
}

std::string pack_key(const TrainConfig& config) { return pack_key(config_to_json(config)); }

TrainConfig config_from_json(const nlohmann::json& partial) {
  TrainConfig config;
  for (const auto& key : kConfigKeys) {
    auto it = partial.find(key.name);
    if (it == partial.end()) continue;
    validate_config_value(key, *it);
    assign_config_value(config, key, *it);
  }
  return config;
}

nlohmann::json config_to_json(const TrainConfig& config) {
  // The table's keys in name order: each member then goes in at the end of the
  // object's sorted map with no search (a sweep makes this object for every point).
  static const std::vector<const ConfigKey*> by_name = [] {
    std::vector<const ConfigKey*> keys;
    for (const auto& key : kConfigKeys) keys.push_back(&key);
    std::sort(keys.begin(), keys.end(),
              [](const ConfigKey* a, const ConfigKey* b) { return std::string_view(a->name) < b->name; });
    return keys;
  }();
  nlohmann::json out = nlohmann::json::object();
  auto& members = out.get_ref<nlohmann::json::object_t&>();
  for (const ConfigKey* key : by_name)
    std::visit([&](auto member) { members.emplace_hint(members.end(), key->name, config.*member); }, key->field);
  return out;
}

void apply_override(nlohmann::json& config, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("", fmt::format("'{}' is not of the form key=value (e.g. lr=0.1, hidden=256,256)",
                                      assignment));
  const std::string name = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  const ConfigKey* key = find_config_key(name);
  if (!key) {
    std::string hint = suggest_config_key(name);
    throw ConfigError(name, hint.empty() ? fmt::format("unknown key '{}'", name)
                                         : fmt::format("unknown key '{}' (did you mean '{}'?)", name, hint));
  }
  nlohmann::json value;
  std::visit(
      [&](auto member) {
        using T = std::remove_cvref_t<decltype(std::declval<TrainConfig>().*member)>;
        if constexpr (std::is_same_v<T, std::string>) {
          value = text;
        } else if constexpr (std::is_same_v<T, std::vector<int>>) {
          std::string body = text;
          if (!body.empty() && body.front() == '[') body = body.substr(1);
          if (!body.empty() && body.back() == ']') body.pop_back();
          value = nlohmann::json::parse("[" + body + "]", nullptr, /*allow_exceptions=*/false);
        } else {
          value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
        }
      },
      key->field);
  if (value.is_discarded())
    throw ConfigError(name, fmt::format("{}: cannot read '{}' as {}", name, text, kind_name(key->field)));
  validate_config_value(*key, value);
  config[name] = value;
}

void validate_config(const TrainConfig& config) {
  const ModelFamily& family = find_model_family(config.model);
  if (family.validate) family.validate(config);
  if (config.schedule == "warmup_cosine" && config.warmup_epochs >= config.epochs)
    throw ConfigError("warmup_epochs", fmt::format("warmup_epochs = {} must be smaller than epochs = {}",
                                                   config.warmup_epochs, config.epochs));
}

}  // namespace ablate
