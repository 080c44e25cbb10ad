// The HDF5 layout of a results file: root attributes, /points/<id>, /index.
#include "orchestrator/results/results_layout.hpp"

#include "core/curve_fields.hpp"
#include "core/result_codec.hpp"
#include "orchestrator/results/hdf5_check.hpp"
#include "orchestrator/results/hdf5_write.hpp"
#include "orchestrator/results/journal_records.hpp"

#include <ablate/version.hpp>

#include <fmt/format.h>

#include <cmath>
#include <set>

namespace ablate {
namespace {

constexpr size_t kCoreIncrement = 4 << 20;  // the in-memory file grows in 4 MiB steps
constexpr double kNotDone = std::numeric_limits<double>::quiet_NaN();

// How a config value is typed in the file: hp.<key> attributes and /index columns.
enum class ValueKind { int64, float64, boolean, string, int_list, json_text };

ValueKind kind_of(const nlohmann::json& value) {
  if (value.is_number_integer()) return ValueKind::int64;
  if (value.is_number_float()) return ValueKind::float64;
  if (value.is_boolean()) return ValueKind::boolean;
  if (value.is_string()) return ValueKind::string;
  if (value.is_array()) {
    for (const auto& e : value)
      if (!e.is_number_integer()) return ValueKind::json_text;
    return ValueKind::int_list;
  }
  return ValueKind::json_text;
}

// Only the swept keys: a config has ~35 keys and an attribute costs ~8 µs to
// create, so writing them all tripled the time to render a big sweep's file.
// Every key is in config_json.
void write_hyperparameters(const H5Writer& writer, hid_t group, const nlohmann::json& config,
                           const std::vector<std::string>& swept) {
  for (const auto& key : swept) {
    const auto it = config.find(key);
    if (it == config.end()) continue;
    const nlohmann::json& value = *it;
    const std::string name = "hp." + key;
    switch (kind_of(value)) {
      case ValueKind::int64: writer.attr_int64(group, name, value.get<int64_t>()); break;
      case ValueKind::float64: writer.attr_float64(group, name, value.get<double>()); break;
      case ValueKind::boolean: writer.attr_int8(group, name, value.get<bool>() ? 1 : 0); break;
      case ValueKind::string: writer.attr_string(group, name, value.get<std::string>()); break;
      case ValueKind::int_list: writer.attr_int64_array(group, name, value.get<std::vector<int64_t>>()); break;
      case ValueKind::json_text: writer.attr_string(group, name, value.dump()); break;
    }
  }
}

void write_curves(const H5Writer& writer, hid_t group, const std::vector<EpochMetrics>& curves) {
  std::vector<H5Column> columns;
  columns.push_back({"epoch", H5Column::Kind::int32});
  for (const auto& field : kCurveFields) columns.push_back({field.name, H5Column::Kind::float64});
  for (const auto& row : curves) {
    columns[0].ints.push_back(row.epoch);
    for (size_t i = 0; i < kCurveFields.size(); ++i) columns[i + 1].floats.push_back(row.*kCurveFields[i].member);
  }
  writer.table(group, "curves", columns);
}

void write_point(const H5Writer& writer, hid_t points_group, const LedgerPoint& p,
                 const std::vector<std::string>& swept) {
  H5Id group = writer.create_group(points_group, p.planned.id);
  const TrainResult* result = p.result ? &*p.result : nullptr;
  writer.attr_string(group, "config_json", p.planned.config_text);
  writer.attr_string(group, "case", p.planned.case_name);
  writer.attr_int64(group, "seed", p.planned.seed);
  if (p.planned.trial >= 0) {  // a search's point
    writer.attr_int64(group, "trial", p.planned.trial);
    writer.attr_string(group, "suggested_by", p.planned.suggested_by);
  }
  writer.attr_string(group, "status", to_string(p.status));
  writer.attr_string(group, "error", p.error);
  writer.attr_int64(group, "attempts", p.attempts);
  writer.attr_string(group, "host", p.run.host);
  writer.attr_string(group, "device", p.run.device);
  writer.attr_string(group, "torch_version", p.run.torch_version);
  writer.attr_string(group, "started", p.started);
  writer.attr_string(group, "finished", p.finished);
  for (const auto& scalar : kResultScalars)  // NaN or 0 until the point has a result
    std::visit(
        [&](auto member) {
          if constexpr (std::is_same_v<decltype(member), double TrainResult::*>)
            writer.attr_float64(group, scalar.name, result ? result->*member : kNotDone);
          else
            writer.attr_int64(group, scalar.name, result ? result->*member : 0);
        },
        scalar.member);
  if (p.until > 0) writer.attr_int64(group, "until", p.until);
  if (!p.rungs.empty()) {  // early stopping: the epochs it was paused or stopped at, and their metric values
    std::vector<H5Column> rungs = {{"epoch", H5Column::Kind::int32}, {"value", H5Column::Kind::float64}};
    for (const auto& mark : p.rungs) rungs[0].ints.push_back(mark.epoch), rungs[1].floats.push_back(mark.value);
    writer.table(group, "rungs", rungs);
  }
  write_hyperparameters(writer, group, p.config, swept);

  if (p.status != PointStatus::pending || !p.curves.empty()) write_curves(writer, group, p.curves);
  if (result) {
    writer.dataset_int64(group, "confusion_test", result->confusion_test, kNumClasses, kNumClasses);
    writer.dataset_int64(group, "confusion_val", result->confusion_val, kNumClasses, kNumClasses);
    writer.dataset_float64(group, "per_class_acc", result->per_class_acc);
    if (!result->test_predictions.empty()) writer.dataset_int8(group, "test_predictions", result->test_predictions);
  }
}

// A point that was never started has nothing but its plan, which /index holds
// (config_json included); skipping its group makes planning 10,000 points cheap.
bool ever_started(const LedgerPoint& p) {
  return p.status != PointStatus::pending || p.attempts > 0 || !p.curves.empty();
}

// A config key whose value is not the same in every point becomes an /index column.
H5Column swept_column(const std::string& key, const std::vector<LedgerPoint>& points) {
  bool all_present = true, all_same_kind = true;
  const nlohmann::json* first = nullptr;
  for (const auto& p : points) {
    auto it = p.config.find(key);
    if (it == p.config.end()) {
      all_present = false;
      continue;
    }
    if (!first) first = &*it;
    else if (kind_of(*it) != kind_of(*first)) all_same_kind = false;
  }
  ValueKind kind = all_present && all_same_kind && first ? kind_of(*first) : ValueKind::json_text;
  H5Column column{"hp." + key, H5Column::Kind::string};
  if (kind == ValueKind::int64) column.kind = H5Column::Kind::int64;
  if (kind == ValueKind::float64) column.kind = H5Column::Kind::float64;
  if (kind == ValueKind::boolean) column.kind = H5Column::Kind::int8;
  for (const auto& p : points) {
    auto it = p.config.find(key);
    switch (column.kind) {
      case H5Column::Kind::int64: column.ints.push_back(it->get<int64_t>()); break;
      case H5Column::Kind::float64: column.floats.push_back(it->get<double>()); break;
      case H5Column::Kind::int8: column.ints.push_back(it->get<bool>() ? 1 : 0); break;
      default:
        if (it == p.config.end()) column.strings.emplace_back();
        else column.strings.push_back(it->is_string() ? it->get<std::string>() : it->dump());
    }
  }
  return column;
}

// Keys whose value is not the same in every point, or that some point lacks,
// sorted. Configs are sorted maps, so each is walked once in step with the first
// (a lookup per key and point chased tree nodes: 0.4 s for 10,000 points).
std::vector<std::string> swept_keys(const std::vector<LedgerPoint>& points) {
  if (points.empty()) return {};
  const nlohmann::json& first = points.front().config;
  std::set<std::string> swept;
  for (const auto& p : points) {
    auto a = first.begin(), b = p.config.begin();
    while (a != first.end() || b != p.config.end()) {
      if (b == p.config.end() || (a != first.end() && a.key() < b.key())) {
        swept.insert(a.key());  // this point lacks it
        ++a;
      } else if (a == first.end() || b.key() < a.key()) {
        swept.insert(b.key());  // the first point lacks it
        ++b;
      } else {
        if (*a != *b) swept.insert(a.key());
        ++a, ++b;
      }
    }
  }
  return {swept.begin(), swept.end()};
}

void write_index(const H5Writer& writer, hid_t root, const std::vector<LedgerPoint>& points,
                 const std::vector<std::string>& swept) {
  std::vector<H5Column> columns = {{"id", H5Column::Kind::string},
                                   {"case", H5Column::Kind::string},
                                   {"status", H5Column::Kind::string},
                                   {"seed", H5Column::Kind::int32},
                                   {"config_json", H5Column::Kind::string},
                                   {"trial", H5Column::Kind::int32},
                                   {"suggested_by", H5Column::Kind::string}};
  for (const auto& p : points) {
    columns[0].strings.push_back(p.planned.id);
    columns[1].strings.push_back(p.planned.case_name);
    columns[2].strings.push_back(to_string(p.status));
    columns[3].ints.push_back(p.planned.seed);
    columns[4].strings.push_back(p.planned.config_text);
    columns[5].ints.push_back(p.planned.trial);
    columns[6].strings.push_back(p.planned.suggested_by);
  }
  for (const auto& key : swept) columns.push_back(swept_column(key, points));

  for (const auto& scalar : kResultScalars) {
    H5Column column{scalar.name, H5Column::Kind::float64};
    std::visit(
        [&](auto member) {
          using Member = decltype(member);
          if constexpr (std::is_same_v<Member, double TrainResult::*>) {
            for (const auto& p : points) column.floats.push_back(p.result ? (*p.result).*member : kNotDone);
          } else {
            column.kind = std::is_same_v<Member, int TrainResult::*> ? H5Column::Kind::int32 : H5Column::Kind::int64;
            for (const auto& p : points) column.ints.push_back(p.result ? (*p.result).*member : 0);
          }
        },
        scalar.member);
    columns.push_back(std::move(column));
  }
  H5Column epochs_done{"epochs_done", H5Column::Kind::int32};
  for (const auto& p : points) epochs_done.ints.push_back(static_cast<int64_t>(p.curves.size()));
  columns.push_back(std::move(epochs_done));
  writer.table(root, "index", columns);
}

void write_root_attributes(const H5Writer& writer, hid_t root, const LedgerState& state, uint64_t journal_bytes) {
  const SweepIdentity& sweep = state.sweeps().front();
  nlohmann::json history = nlohmann::json::array();
  for (const auto& s : state.sweeps()) history.push_back(sweep_to_json(s));
  writer.attr_string(root, "format", kResultsFormat);
  writer.attr_int64(root, "format_version", kResultsFormatVersion);
  writer.attr_string(root, "ablate_version", kVersion);
  writer.attr_string(root, "git_commit", kGitCommit);
  writer.attr_string(root, "created", state.created());
  writer.attr_string(root, "updated", iso8601_utc_now());
  writer.attr_string(root, "sweep_name", sweep.name);
  writer.attr_string(root, "sweep_path", sweep.path);
  writer.attr_string(root, "sweep_spec", sweep.spec_text);
  writer.attr_string(root, "sweep_history", history.dump());
  writer.attr_string(root, "ledger_id", state.ledger_id());
  writer.attr_int64(root, "journal_bytes", static_cast<int64_t>(journal_bytes));
}

}  // namespace

std::string render_results_image(const LedgerState& state, const std::string& path, uint64_t journal_bytes) {
  silence_hdf5_error_printing();
  const std::string hint = "Rendering the results file in memory";
  H5Id access(ABLATE_H5_CHECK(H5Pcreate(H5P_FILE_ACCESS), path, hint), H5Pclose);
  ABLATE_H5_CHECK(H5Pset_fapl_core(access, kCoreIncrement, /*backing_store=*/false), path, hint);
  // A name of its own, so HDF5 never mistakes it for the file on disk if that is open too.
  const std::string memory_name = path + " (in memory)";
  H5Id file(ABLATE_H5_CHECK(H5Fcreate(memory_name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access), path, hint),
            H5Fclose);

  const H5Writer writer(path);
  H5Id root(ABLATE_H5_CHECK(H5Gopen2(file, "/", H5P_DEFAULT), path, hint), H5Gclose);
  write_root_attributes(writer, root, state, journal_bytes);
  const std::vector<std::string> swept = swept_keys(state.points());
  H5Id points = writer.create_group(root, "points");
  for (const auto& p : state.points())
    if (ever_started(p)) write_point(writer, points, p, swept);
  points.close();
  write_index(writer, root, state.points(), swept);
  root.close();

  ABLATE_H5_CHECK(H5Fflush(file, H5F_SCOPE_GLOBAL), path, hint);
  const ssize_t size = ABLATE_H5_CHECK(H5Fget_file_image(file, nullptr, 0), path, hint);
  std::string image(static_cast<size_t>(size), '\0');
  ABLATE_H5_CHECK(H5Fget_file_image(file, image.data(), image.size()), path, hint);
  ABLATE_H5_CHECK(file.close(), path, hint);
  return image;
}

}  // namespace ablate
