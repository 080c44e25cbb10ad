// TrainConfig: every hyperparameter of one training run, declared once with its
// default, help text and validation. No torch here: sweeps/ and the orchestrator
// validate and canonicalise configs with it in milliseconds.
#pragma once

#include <nlohmann/json.hpp>

#include <limits>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace ablate {

// A config value that is wrong, with the key it concerns and what to do about it.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, const std::string& message)
      : std::runtime_error(message), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

// Defaults live here, as member initialisers; kConfigKeys (config.cpp) binds each
// member to its public name, help text and valid range.
struct TrainConfig {
  // Model
  std::string model = "mlp";                 // a family of core/families/: linear | mlp | cnn | resnet
  std::vector<int> hidden = {256, 256};      // mlp hidden widths; [] = linear
  std::string activation = "relu";           // relu | tanh | leaky_relu | gelu | sigmoid
  double leaky_slope = 0.01;
  double dropout = 0.0;
  bool batchnorm = false;
  std::string init = "default";              // default | kaiming | xavier
  std::vector<int> channels = {32, 64};      // cnn conv channels (3x3, pad 1, 2x2 max-pool after each)
  int fc_width = 128;                        // cnn head hidden width; 0 = no hidden layer
  int resnet_width = 16;                     // resnet first-stage channels (doubled per stage)
  std::vector<int> resnet_blocks = {1, 1, 1};  // resnet residual blocks per stage

  // Optimisation
  std::string optimizer = "sgd";             // sgd | adam | adamw
  double lr = 0.05;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 0.0;                 // torch semantics: coupled for sgd/adam, decoupled for adamw
  std::string schedule = "cosine";           // constant | step | cosine | warmup_cosine
  int step_epochs = 5;                       // step schedule: decay every N epochs
  double step_gamma = 0.1;
  int warmup_epochs = 1;
  int epochs = 10;
  int batch_size = 128;

  // Regularisation
  double l1 = 0.0;                           // penalty l1 * sum|w| over weights (not biases, not BatchNorm)
  double l2 = 0.0;                           // penalty l2 * sum w^2 over weights
  double label_smoothing = 0.0;

  // Data
  std::string normalize = "standard";        // none (0..255) | unit ([0,1]) | standard (train mean/std)
  int val_size = 5000;                       // stratified validation split carved from train
  int train_limit = 0;                       // use only the first N training images after the split; 0 = all
  int augment_shift = 0;                     // random shift by up to N pixels (zero padding)
  bool augment_flip = false;                 // random horizontal flip, p = 0.5
  double augment_erase = 0.0;                // random erasing probability per image
  double augment_erase_max_area = 0.25;      // erased rectangle covers 2%..this fraction of the image

  // Evaluation
  bool eval_flip = false;                    // average each image's and its mirror's class probabilities

  // Arithmetic and speed
  std::string precision = "fp32";            // fp32 | tf32 (TF32 tensor cores on CUDA) | bf16 (autocast)
  bool cuda_graphs = true;                   // replay the training step as a CUDA graph (CUDA, one replica)

  // Reproducibility
  int seed = 0;
};

using ConfigField = std::variant<int TrainConfig::*, double TrainConfig::*, bool TrainConfig::*,
                                 std::string TrainConfig::*, std::vector<int> TrainConfig::*>;

struct ConfigKey {
  const char* name;
  ConfigField field;
  const char* help;
  double min = -std::numeric_limits<double>::infinity();  // numbers and list elements
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices = {};                  // strings
  bool allow_empty_list = true;
  // A shape key changes the tensors a training is made of (the model's layers,
  // the batch, the steps of an epoch) or the code it runs: points whose shape
  // keys are equal can train together as one packed model (trainer/packed/).
  // Every other key (seed, lr, dropout rate, augmentation, ...) may differ
  // within a pack. Set with shape_key() in the table.
  bool shape = false;
};

// The single table of every key the trainer accepts.
const std::vector<ConfigKey>& config_keys();
const ConfigKey* find_config_key(const std::string& name);

// Which points may train in one pack: the compact sorted JSON of a canonical
// config's shape keys. Points with equal pack keys can be packed.
std::string pack_key(const nlohmann::json& canonical);
std::string pack_key(const TrainConfig& config);

// Closest known key to a misspelt one ("" when nothing is close), for "did you mean".
std::string suggest_config_key(const std::string& unknown);
// The candidate closest to `word` by edit distance, or "" when none is close enough
// to be a typo (distance above max(2, length / 3)).
std::string closest_name(const std::string& word, const std::vector<std::string>& known);

// Checks one value against its key (type, range, choices); throws ConfigError
// naming the key, the value and what is allowed.
void validate_config_value(const ConfigKey& key, const nlohmann::json& value);

// Complete, validated, canonical config: all keys present, sorted, numbers of the
// declared kind (an integral float for an int key becomes an int). Throws ConfigError.
nlohmann::json canonicalize_config(const nlohmann::json& partial);

// The compact, sorted JSON text of a canonical config: the form that is hashed,
// stored in the results file and parsed by the trainer.
std::string canonical_text(const nlohmann::json& canonical);

// The canonical config minus keys at their default: what varies, and the input
// of the point ID (so adding a key with a default keeps old IDs).
nlohmann::json non_default_part(const nlohmann::json& canonical);

// Stable 16-hex-digit point ID: FNV-1a 64 of canonical_text(non_default_part()),
// then the splitmix64 finaliser.
std::string config_id(const nlohmann::json& canonical);

TrainConfig config_from_json(const nlohmann::json& partial);
nlohmann::json config_to_json(const TrainConfig& config);

// "key=value" from a command line; the value is parsed by the key's kind
// ("hidden=256,256", "augment_flip=true"). Throws ConfigError.
void apply_override(nlohmann::json& config, const std::string& assignment);

// Cross-key checks that no single value can make (e.g. val_size vs data size is
// checked later, by the data loader).
void validate_config(const TrainConfig& config);

}  // namespace ablate
