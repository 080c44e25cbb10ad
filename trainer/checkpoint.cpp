// Checkpoints as Torch archives: the model and optimizer as nested archives,
// generator states and progress as tensors, the config as a string to verify.
#include "trainer/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "core/config.hpp"
#include "core/curve_fields.hpp"

namespace ablate {
namespace {

// Bumped whenever the archive's keys or meaning change: an old checkpoint is
// then ignored rather than misread. 2: the writer's place in its group;
// 3: the curves' train_eval_loss and train_eval_acc columns; 4: their
// pack_members column (a format-3 checkpoint still resumes: that column NaN).
constexpr int64_t kCheckpointFormat = 4;
constexpr int64_t kOldestReadableFormat = 3;
constexpr int kCurveColumns = 1 + static_cast<int>(kCurveFields.size());  // epoch, then kCurveFields
constexpr int kCurveColumnsOfFormat3 = kCurveColumns - 1;

torch::Tensor curves_tensor(const std::vector<EpochMetrics>& curves) {
  auto table = torch::zeros({static_cast<int64_t>(curves.size()), kCurveColumns}, torch::kFloat64);
  auto cell = table.accessor<double, 2>();
  for (size_t r = 0; r < curves.size(); ++r) {
    const EpochMetrics& m = curves[r];
    cell[static_cast<int64_t>(r)][0] = static_cast<double>(m.epoch);
    for (size_t c = 0; c < kCurveFields.size(); ++c) cell[static_cast<int64_t>(r)][1 + c] = m.*kCurveFields[c].member;
  }
  return table;
}

// Whether a checkpoint's config is this run's. A checkpoint written by an older
// ablate lacks the keys added since; canonicalised here they take their defaults,
// so a sweep resumed after an upgrade keeps its running points' epochs (as point
// IDs survive new keys). A key this ablate does not know (a newer ablate's) or
// any other difference makes it another configuration.
bool same_configuration(const std::string& stored_text, const std::string& config_text) {
  if (stored_text == config_text) return true;
  try {
    return canonical_text(canonicalize_config(nlohmann::json::parse(stored_text))) == config_text;
  } catch (const std::exception&) {
    return false;
  }
}

std::vector<EpochMetrics> curves_from(const torch::Tensor& table) {
  if (table.dim() != 2 || (table.size(1) != kCurveColumns && table.size(1) != kCurveColumnsOfFormat3) ||
      table.scalar_type() != torch::kFloat64)
    throw std::runtime_error("the curves table has the wrong shape");
  std::vector<EpochMetrics> curves;
  auto cell = table.accessor<double, 2>();
  const auto columns = static_cast<size_t>(table.size(1));
  for (int64_t r = 0; r < table.size(0); ++r) {
    EpochMetrics m;
    m.epoch = static_cast<int>(cell[r][0]);
    for (size_t c = 0; c < kCurveFields.size(); ++c)  // a column the writer did not have: not measured
      m.*kCurveFields[c].member = 1 + c < columns ? cell[r][static_cast<int64_t>(1 + c)] : std::nan("");
    curves.push_back(m);
  }
  return curves;
}

void write_durably(const std::string& path, const std::string& bytes) {
  const std::string temporary = path + ".tmp";
  auto fail = [&](const char* what) {
    const std::string reason = std::strerror(errno);
    ::unlink(temporary.c_str());
    throw std::runtime_error("cannot write the checkpoint " + path + ": " + what + ": " + reason +
                             " (free space in its directory or make it writable)");
  };
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("open");
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      fail("write");
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("fsync");
  }
  if (::close(fd) != 0) fail("close");
  if (::rename(temporary.c_str(), path.c_str()) != 0) fail("rename");
}

}  // namespace

void save_checkpoint(const std::string& path, const CheckpointKey& key, TrainingState& state,
                     const TrainingProgress& progress) {
  torch::serialize::OutputArchive archive;
  archive.write("format", torch::tensor(kCheckpointFormat));
  archive.write("config", c10::IValue(key.config_text));
  archive.write("group", torch::tensor({static_cast<int64_t>(key.group_size), static_cast<int64_t>(key.group_rank)}));

  torch::serialize::OutputArchive model, optimizer;
  state.model.save(model);
  state.optimizer.save(optimizer);
  archive.write("model", model);
  archive.write("optimizer", optimizer);

  for (size_t i = 0; i < state.generators.size(); ++i) {
    auto& generator = state.generators[i];
    std::lock_guard<std::mutex> lock(generator.mutex());
    archive.write("generator." + std::to_string(i), generator.get_state());
  }
  archive.write("generators", torch::tensor(static_cast<int64_t>(state.generators.size())));

  archive.write("epoch", torch::tensor(static_cast<int64_t>(progress.epoch)));
  archive.write("step", torch::tensor(progress.step));
  archive.write("best_epoch", torch::tensor(static_cast<int64_t>(progress.best_epoch)));
  archive.write("scores", torch::tensor({progress.seconds, progress.best_val_acc, progress.test_acc_at_best_val},
                                        torch::kFloat64));
  archive.write("curves", curves_tensor(progress.curves));

  std::ostringstream bytes;
  archive.save_to(bytes);
  write_durably(path, bytes.str());
}

std::optional<StoredCheckpoint> read_checkpoint(const std::string& path, const CheckpointKey& key,
                                                const TrainingState& state, std::string* why_unusable) {
  if (path.empty() || ::access(path.c_str(), F_OK) != 0) return std::nullopt;
  auto unusable = [&](const std::string& why) -> std::optional<StoredCheckpoint> {
    if (why_unusable) *why_unusable = "ignoring the checkpoint " + path + ": " + why;
    return std::nullopt;
  };

  torch::serialize::InputArchive archive;
  StoredCheckpoint stored;
  TrainingProgress& progress = stored.progress;
  // Tensors come back on the model's device; generator states and scalars are
  // brought to the host where they are read.
  const auto parameters = state.model.parameters();
  const torch::Device device = parameters.empty() ? torch::Device(torch::kCPU) : parameters.front().device();
  try {
    archive.load_from(path, device);
    torch::Tensor format;
    archive.read("format", format);
    if (format.item<int64_t>() < kOldestReadableFormat || format.item<int64_t>() > kCheckpointFormat)
      return unusable("it has format " + std::to_string(format.item<int64_t>()) + ", this ablate reads " +
                      std::to_string(kOldestReadableFormat) + " to " + std::to_string(kCheckpointFormat));
    c10::IValue stored_config;
    archive.read("config", stored_config);
    if (!same_configuration(stored_config.toStringRef(), key.config_text))
      return unusable("it belongs to another configuration");
    torch::Tensor group;
    archive.read("group", group);
    group = group.to(torch::kCPU);
    const int64_t group_size = group[0].item<int64_t>(), group_rank = group[1].item<int64_t>();
    if (group_size != key.group_size || group_rank != key.group_rank)
      return unusable("rank " + std::to_string(group_rank) + " of a group of " + std::to_string(group_size) +
                      " wrote it, this is rank " + std::to_string(key.group_rank) + " of " +
                      std::to_string(key.group_size) + " (another --ranks-per-point?)");

    torch::Tensor count, epoch, step, best_epoch, scores, curves;
    archive.read("generators", count);
    if (count.item<int64_t>() != static_cast<int64_t>(state.generators.size()))
      return unusable("it has " + std::to_string(count.item<int64_t>()) + " generator states, this run has " +
                      std::to_string(state.generators.size()) + " (another device?)");
    for (size_t i = 0; i < state.generators.size(); ++i) {
      torch::Tensor generator_state;
      archive.read("generator." + std::to_string(i), generator_state);
      stored.generator_states.push_back(generator_state.to(torch::kCPU));
    }
    archive.read("epoch", epoch);
    archive.read("step", step);
    archive.read("best_epoch", best_epoch);
    archive.read("scores", scores);
    archive.read("curves", curves);
    progress.epoch = static_cast<int>(epoch.item<int64_t>());
    progress.step = step.item<int64_t>();
    progress.best_epoch = static_cast<int>(best_epoch.item<int64_t>());
    scores = scores.to(torch::kCPU);
    progress.seconds = scores[0].item<double>();
    progress.best_val_acc = scores[1].item<double>();
    progress.test_acc_at_best_val = scores[2].item<double>();
    progress.curves = curves_from(curves.to(torch::kCPU));
    if (static_cast<int>(progress.curves.size()) != progress.epoch)
      return unusable("its curves have " + std::to_string(progress.curves.size()) + " rows for epoch " +
                      std::to_string(progress.epoch));
    // Checked before anything is restored: a checkpoint past the run's last
    // epoch (only a damaged or hand-made one) must not leave a half-restored
    // state behind. One of the last epoch ends the run at once (train.cpp).
    if (progress.epoch < 1 || progress.epoch > key.epochs)
      return unusable("it ends at epoch " + std::to_string(progress.epoch) + " of a run of " +
                      std::to_string(key.epochs) + " epochs: nothing to resume");
    archive.read("model", stored.model);
    archive.read("optimizer", stored.optimizer);
  } catch (const std::exception& e) {
    return unusable(std::string("it cannot be read (") + e.what() + ")");
  }
  return stored;
}

void restore_checkpoint(StoredCheckpoint& stored, TrainingState& state) {
  torch::NoGradGuard no_grad;
  state.model.load(stored.model);
  state.optimizer.load(stored.optimizer);
  for (size_t i = 0; i < state.generators.size(); ++i) {
    auto& generator = state.generators[i];
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(stored.generator_states[i]);
  }
}

std::optional<TrainingProgress> load_checkpoint(const std::string& path, const CheckpointKey& key,
                                                TrainingState& state, std::string* why_unusable) {
  auto stored = read_checkpoint(path, key, state, why_unusable);
  if (!stored) return std::nullopt;
  restore_checkpoint(*stored, state);
  return stored->progress;
}

std::optional<TrainingProgress> load_group_checkpoint(const std::string& path, const CheckpointKey& key,
                                                      TrainingState& state, GradientReducer& group,
                                                      std::string* why_unusable) {
  std::string why;
  auto stored = read_checkpoint(path, key, state, &why);
  // Epoch 0: nothing usable here. Every rank resumes only when all hold the
  // same epoch (lowest == highest); the file of a rank killed before it could
  // write its latest epoch holds an older one, the others' hold only the new.
  const int64_t mine = stored ? stored->progress.epoch : 0;
  const int64_t lowest = group.min_over_group(mine);
  const int64_t highest = -group.min_over_group(-mine);
  if (stored && lowest != highest)
    why = "ignoring the checkpoint " + path + " (epoch " + std::to_string(mine) + "): the group's " +
          std::to_string(group.size()) + " ranks hold checkpoints of epochs " + std::to_string(lowest) + " to " +
          std::to_string(highest) + " (0: none), so every rank starts afresh";
  if (why_unusable && !why.empty()) *why_unusable = why;
  if (!stored || lowest != highest) return std::nullopt;
  restore_checkpoint(*stored, state);
  return stored->progress;
}

}  // namespace ablate
