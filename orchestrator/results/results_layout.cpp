// The HDF5 layout of a results file (format 4): root attributes, /index, /curves,
// /rungs, /confusion_test, /confusion_val, /per_class_acc, /test_predictions;
// written whole (in memory, then an atomic replace) or updated in place.
#include "orchestrator/results/results_layout.hpp"

#include "core/curve_fields.hpp"
#include "core/result_codec.hpp"
#include "orchestrator/results/atomic_file.hpp"
#include "orchestrator/results/hdf5_check.hpp"
#include "orchestrator/results/journal_records.hpp"

#include <ablate/version.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

namespace ablate {
namespace {

constexpr size_t kCoreIncrement = 4 << 20;  // a rebuilt file grows in memory in 4 MiB steps
constexpr double kNotDone = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kUpdateHint = "Updating the results file in place; the next write rebuilds it from the journal";
// Rows per chunk: ~50-100 KiB each, so appending a flush's rows touches a few chunks.
constexpr hsize_t kIndexChunk = 256, kCurveChunk = 1024, kRungChunk = 1024, kConfusionChunk = 64,
                  kPerClassChunk = 512, kPredictionChunk = 65536;
constexpr hsize_t kCells = kNumClasses * kNumClasses;

// How a config value is typed in an hp.<key> column.
enum ValueKind { kInt64, kFloat64, kBoolean, kString, kJsonText };

int kind_of(const nlohmann::json& value) {
  if (value.is_number_integer()) return kInt64;
  if (value.is_number_float()) return kFloat64;
  if (value.is_boolean()) return kBoolean;
  if (value.is_string()) return kString;
  return kJsonText;
}

H5Column::Kind column_kind(int kind) {
  switch (kind) {
    case kInt64: return H5Column::Kind::int64;
    case kFloat64: return H5Column::Kind::float64;
    case kBoolean: return H5Column::Kind::int8;
    default: return H5Column::Kind::string;
  }
}

using SweptColumns = std::vector<std::pair<std::string, H5Column::Kind>>;

// ---- the tables' columns: one list each, the rows pushed in the same order ----

// Statuses fit in 8 bytes, timestamps in 20 ("2024-05-01T12:34:56Z"): fixed-length
// columns, because every event rewrites them and HDF5 frees and reallocates a
// variable-length string it overwrites (that was ~7 µs per string).
constexpr size_t kStatusBytes = 8, kTimestampBytes = 20;

H5Column fixed_string_column(const char* name, size_t size) {
  H5Column column{name, H5Column::Kind::fixed_string};
  column.fixed_size = size;
  return column;
}

std::vector<H5Column> index_schema(const SweptColumns& swept) {
  std::vector<H5Column> columns = {{"id", H5Column::Kind::string},      {"case", H5Column::Kind::string},
                                   fixed_string_column("status", kStatusBytes),  {"seed", H5Column::Kind::int32},
                                   {"config_json", H5Column::Kind::string}, {"trial", H5Column::Kind::int32},
                                   {"suggested_by", H5Column::Kind::string}};
  for (const auto& [key, kind] : swept) columns.push_back({"hp." + key, kind});
  for (const auto& scalar : kResultScalars)
    std::visit(
        [&](auto member) {
          using Member = decltype(member);
          columns.push_back({scalar.name, std::is_same_v<Member, double TrainResult::*>  ? H5Column::Kind::float64
                                          : std::is_same_v<Member, int TrainResult::*> ? H5Column::Kind::int32
                                                                                       : H5Column::Kind::int64});
        },
        scalar.member);
  for (auto [name, kind] : std::initializer_list<std::pair<const char*, H5Column::Kind>>{
           {"epochs_done", H5Column::Kind::int32},
           {"error", H5Column::Kind::string},
           {"attempts", H5Column::Kind::int32},
           {"host", H5Column::Kind::string},
           {"device", H5Column::Kind::string},
           {"torch_version", H5Column::Kind::string},
           {"threads", H5Column::Kind::int32},
           {"ranks", H5Column::Kind::int32},
           {"pack_members", H5Column::Kind::float64},
           {"started", H5Column::Kind::fixed_string},
           {"finished", H5Column::Kind::fixed_string},
           {"until", H5Column::Kind::int32},
           {"has_result", H5Column::Kind::int8},
           {"predictions_start", H5Column::Kind::int64},
           {"predictions_count", H5Column::Kind::int64}})
    columns.push_back(kind == H5Column::Kind::fixed_string ? fixed_string_column(name, kTimestampBytes)
                                                           : H5Column{name, kind});
  return columns;
}

// What an event can change in a point's /index row. The plan's columns (id, case, seed,
// config, trial, hp.*) never change. The variable-length ones among these (error,
// host, device, torch_version) are rewritten only when they changed.
bool is_mutable_column(const std::string& name) {
  static const std::set<std::string> kPlanColumns = {"id", "case", "seed", "config_json", "trial", "suggested_by"};
  return kPlanColumns.count(name) == 0 && name.rfind("hp.", 0) != 0;
}

// The text columns of a point that are variable-length and change with its attempts.
uint64_t text_fingerprint(const LedgerPoint& p) {
  return std::hash<std::string>{}(p.error + '\0' + p.run.host + '\0' + p.run.device + '\0' + p.run.torch_version);
}

bool has_no_text(const LedgerPoint& p) {
  return p.error.empty() && p.run.host.empty() && p.run.device.empty() && p.run.torch_version.empty();
}

// Keeps the columns `keep` says yes to.
std::vector<H5Column> select_columns(std::vector<H5Column> columns, const std::function<bool(const H5Column&)>& keep) {
  std::vector<H5Column> kept;
  for (auto& column : columns)
    if (keep(column)) kept.push_back(std::move(column));
  return kept;
}

template <class T>
void push(H5Column& column, const T& value) {
  if constexpr (std::is_same_v<T, std::string>) column.strings.push_back(value);
  else if constexpr (std::is_floating_point_v<T>) column.floats.push_back(value);
  else column.ints.push_back(static_cast<int64_t>(value));
}

void push_hyperparameter(H5Column& column, const LedgerPoint& point, const std::string& key) {
  const nlohmann::json* value = config_value(point, key);
  switch (column.kind) {  // numeric kinds only when every point has the key, of that kind
    case H5Column::Kind::int64: column.ints.push_back(value->get<int64_t>()); break;
    case H5Column::Kind::float64: column.floats.push_back(value->get<double>()); break;
    case H5Column::Kind::int8: column.ints.push_back(value->get<bool>() ? 1 : 0); break;
    default:
      if (!value) column.strings.emplace_back();
      else column.strings.push_back(value->is_string() ? value->get<std::string>() : value->dump());
  }
}

// The points a point shared its epochs' time with, on average over its curve
// (1: alone); NaN without a curve or where the rows do not say (older journals).
double mean_pack_members(const std::vector<EpochMetrics>& curves) {
  if (curves.empty()) return std::nan("");
  double sum = 0;
  for (const auto& row : curves) sum += row.pack_members;
  return sum / static_cast<double>(curves.size());
}

// One /index row, in index_schema's order.
void push_index_row(std::vector<H5Column>& columns, const SweptColumns& swept, const LedgerPoint& p,
                    int64_t predictions_start, int64_t predictions_count) {
  size_t c = 0;
  push(columns[c++], p.planned.id);
  push(columns[c++], p.planned.case_name);
  push(columns[c++], std::string(to_string(p.status)));
  push(columns[c++], p.planned.seed);
  push(columns[c++], p.planned.config_text);
  push(columns[c++], p.planned.trial);
  push(columns[c++], p.planned.suggested_by);
  for (const auto& entry : swept) push_hyperparameter(columns[c++], p, entry.first);
  const TrainResult* result = p.result ? &*p.result : nullptr;
  for (const auto& scalar : kResultScalars)  // NaN or 0 until the point has a result
    std::visit(
        [&](auto member) {
          if constexpr (std::is_same_v<decltype(member), double TrainResult::*>)
            push(columns[c++], result ? result->*member : kNotDone);
          else
            push(columns[c++], result ? result->*member : 0);
        },
        scalar.member);
  push(columns[c++], p.curves.size());
  push(columns[c++], p.error);
  push(columns[c++], p.attempts);
  push(columns[c++], p.run.host);
  push(columns[c++], p.run.device);
  push(columns[c++], p.run.torch_version);
  push(columns[c++], p.run.threads);
  push(columns[c++], p.run.ranks);
  push(columns[c++], mean_pack_members(p.curves));
  push(columns[c++], p.started);
  push(columns[c++], p.finished);
  push(columns[c++], p.until);
  push(columns[c++], result ? 1 : 0);
  push(columns[c++], predictions_start);
  push(columns[c++], predictions_count);
}

// /curves: the point's /index row (-1: a row that no longer counts), then EpochMetrics' fields.
std::vector<H5Column> curve_schema() {
  std::vector<H5Column> columns = {{"point", H5Column::Kind::int32}, {"epoch", H5Column::Kind::int32}};
  for (const auto& field : kCurveFields) columns.push_back({field.name, H5Column::Kind::float64});
  return columns;
}

void push_curve_row(std::vector<H5Column>& columns, size_t position, const EpochMetrics& row) {
  columns[0].ints.push_back(static_cast<int64_t>(position));
  columns[1].ints.push_back(row.epoch);
  for (size_t i = 0; i < kCurveFields.size(); ++i) columns[i + 2].floats.push_back(row.*kCurveFields[i].member);
}

std::vector<H5Column> rung_schema() {
  return {{"point", H5Column::Kind::int32}, {"epoch", H5Column::Kind::int32}, {"value", H5Column::Kind::float64}};
}

// ---- file-level helpers ----

H5Id array_type(hid_t base, std::initializer_list<hsize_t> dims, const std::string& path) {
  const std::vector<hsize_t> d(dims);
  return H5Id(ABLATE_H5_CHECK(H5Tarray_create2(base, static_cast<unsigned>(d.size()), d.data()), path, kUpdateHint),
              H5Tclose);
}

void overwrite_int64_attr(hid_t object, const char* name, int64_t value, const std::string& path) {
  H5Id attr(ABLATE_H5_CHECK(H5Aopen(object, name, H5P_DEFAULT), path, kUpdateHint), H5Aclose);
  ABLATE_H5_CHECK(H5Awrite(attr, H5T_NATIVE_INT64, &value), path, kUpdateHint);
}

void overwrite_string_attr(hid_t object, const char* name, const std::string& value, const std::string& path) {
  H5Id attr(ABLATE_H5_CHECK(H5Aopen(object, name, H5P_DEFAULT), path, kUpdateHint), H5Aclose);
  H5Id type = make_utf8_string_type(path);
  const char* text = value.c_str();
  ABLATE_H5_CHECK(H5Awrite(attr, type, &text), path, kUpdateHint);
}

// fdatasync of the file through a descriptor of our own (HDF5 never syncs).
void sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fdatasync(fd) != 0) {
    const int error_number = errno;
    if (fd >= 0) ::close(fd);
    throw ResultsIoError(path, fmt::format("cannot sync results file '{}': {}. The journal holds every record; the "
                                           "file is rebuilt from it at the next write",
                                           path, errno_text(error_number)));
  }
  ::close(fd);
}

// Whether another process holds the file open through HDF5, which locks it (h5py,
// h5dump, ablate status): updating it in place under a reader would tear what it reads.
bool reader_holds(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases our lock, if we got it
  return held;
}

}  // namespace

// ---- SweptKeys ----

void SweptKeys::take(Key& key, const nlohmann::json* value) const {
  if (!value) {
    key.all_present = false;
    return;
  }
  const int kind = kind_of(*value);
  if (key.kind < 0) key.kind = kind;
  else if (kind != key.kind) key.same_kind = false;
}

void SweptKeys::add(const std::vector<LedgerPoint>& points) {
  if (points.empty() || seen_ >= points.size()) return;
  const LedgerPoint& first = points.front();
  // A key seen to differ for the first time: its column's kind over every point so far.
  auto swept = [&](const std::string& key, size_t upto) {
    auto [it, added] = keys_.try_emplace(key);
    if (added)
      for (size_t j = 0; j <= upto; ++j) take(it->second, config_value(points[j], key));
    return added;
  };
  auto same = [](const nlohmann::json* a, const nlohmann::json* b) { return a && b ? *a == *b : a == b; };
  for (size_t i = std::max<size_t>(seen_, 1); i < points.size(); ++i) {
    // Two points can differ only in keys where one of them differs from the
    // defaults: walk the two deltas (sorted maps) in step.
    const nlohmann::json& a_delta = first.config_delta;
    const nlohmann::json& b_delta = points[i].config_delta;
    auto a = a_delta.begin(), b = b_delta.begin();
    while (a != a_delta.end() || b != b_delta.end()) {
      const bool from_a = b == b_delta.end() || (a != a_delta.end() && a.key() <= b.key());
      const bool from_b = a == a_delta.end() || (b != b_delta.end() && b.key() <= a.key());
      const std::string& key = from_a ? a.key() : b.key();
      const nlohmann::json* value = config_value(points[i], key);
      if (!same(config_value(first, key), value) && !swept(key, i)) take(keys_.at(key), value);
      if (from_a) ++a;
      if (from_b) ++b;
    }
  }
  seen_ = points.size();
}

std::vector<std::pair<std::string, H5Column::Kind>> SweptKeys::columns() const {
  SweptColumns columns;
  for (const auto& [key, state] : keys_)
    columns.emplace_back(key, state.all_present && state.same_kind ? column_kind(state.kind) : H5Column::Kind::string);
  return columns;
}

// ---- ResultsView ----

ResultsView::ResultsView(std::string path) : path_(std::move(path)) {}

void ResultsView::touch(size_t position) {
  if (position >= written_.size()) return;  // a new point: written anyway
  if (is_touched_.size() <= position) is_touched_.resize(written_.size(), 0);
  if (is_touched_[position]) return;
  is_touched_[position] = 1;
  touched_.push_back(position);
}

ResultsView::Outcome ResultsView::write(const LedgerState& state, uint64_t journal_bytes,
                                        double reader_patience_seconds) {
  silence_hdf5_error_printing();
  swept_.add(state.points());
  if (file_current_ && swept_.columns() == file_columns_) {
    if (!reader_holds(path_)) {
      try {
        update_in_place(state, journal_bytes);
        reader_since_.reset();
        return Outcome::updated;
      } catch (const ResultsError&) {
        file_current_ = false;  // a reader that took the lock meanwhile, or a write error: rebuild below
      }
    } else {
      const auto now = std::chrono::steady_clock::now();
      if (!reader_since_) reader_since_ = now;
      if (std::chrono::duration<double>(now - *reader_since_).count() < reader_patience_seconds)
        return Outcome::reader_holds_file;
    }
  }
  rebuild(state, journal_bytes);
  reader_since_.reset();
  return Outcome::rebuilt;
}

void ResultsView::write_root_attributes(const H5Writer& writer, hid_t root, const LedgerState& state,
                                        int64_t journal_bytes) {
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
  writer.attr_int64(root, "journal_bytes", journal_bytes);
}

void ResultsView::create_layout(const H5Writer& writer, hid_t file, const LedgerState& state) {
  file_columns_ = swept_.columns();
  writer.create_table(file, "index", index_schema(file_columns_), kIndexChunk);
  writer.create_table(file, "curves", curve_schema(), kCurveChunk);
  writer.create_table(file, "rungs", rung_schema(), kRungChunk);
  const std::vector<int64_t> no_counts(kCells, 0);
  const std::vector<double> no_accuracy(kNumClasses, kNotDone);
  for (const char* name : {"confusion_test", "confusion_val"})
    writer.create_array_rows(file, name, H5T_STD_I64LE, H5T_NATIVE_INT64, {kNumClasses, kNumClasses},
                             kConfusionChunk, no_counts.data());
  writer.create_array_rows(file, "per_class_acc", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {kNumClasses}, kPerClassChunk,
                           no_accuracy.data());
  writer.create_rows(file, "test_predictions", H5T_STD_I8LE, kPredictionChunk);
  (void)state;
}

// Writes every new point and every touched one: its /index row, the rows its curve
// gained (or all of them, the old ones marked dead, when it changed otherwise), its
// new rungs, and its result when that changed.
void ResultsView::write_changes(const H5Writer& writer, hid_t file, const LedgerState& state) {
  const auto& points = state.points();
  const size_t count = points.size(), known = written_.size();
  std::vector<hsize_t> positions;
  for (size_t p : touched_) positions.push_back(p);
  std::sort(positions.begin(), positions.end());
  for (size_t p = known; p < count; ++p) positions.push_back(p);
  for (size_t p : touched_) is_touched_[p] = 0;
  touched_.clear();
  written_.resize(count);
  if (positions.empty()) return;

  // /curves
  H5Id curves = writer.open_dataset(file, "curves");
  std::vector<H5Column> new_rows = curve_schema();
  std::vector<hsize_t> dead;
  hsize_t next_row = writer.rows(curves);
  for (hsize_t p : positions) {
    WrittenPoint& w = written_[p];
    const LedgerPoint& point = points[p];
    if (w.curve_generation != point.curve_generation || w.curve_rows.size() > point.curves.size()) {
      dead.insert(dead.end(), w.curve_rows.begin(), w.curve_rows.end());
      w.curve_rows.clear();
      w.curve_generation = point.curve_generation;
    }
    for (size_t r = w.curve_rows.size(); r < point.curves.size(); ++r) {
      push_curve_row(new_rows, p, point.curves[r]);
      w.curve_rows.push_back(next_row++);
    }
  }
  if (!dead.empty()) {
    std::sort(dead.begin(), dead.end());
    H5Column point_column{"point", H5Column::Kind::int32};
    point_column.ints.assign(dead.size(), -1);
    writer.write_rows(curves, "curves", {point_column}, dead);
  }
  writer.append_rows(curves, "curves", new_rows);
  curves.close();

  // /rungs: kept across attempts, so only ever appended
  std::vector<H5Column> rungs = rung_schema();
  for (hsize_t p : positions) {
    WrittenPoint& w = written_[p];
    for (; w.rungs < points[p].rungs.size(); ++w.rungs) {
      rungs[0].ints.push_back(static_cast<int64_t>(p));
      rungs[1].ints.push_back(points[p].rungs[w.rungs].epoch);
      rungs[2].floats.push_back(points[p].rungs[w.rungs].value);
    }
  }
  if (rungs[0].rows() > 0) {
    H5Id rung_table = writer.open_dataset(file, "rungs");
    writer.append_rows(rung_table, "rungs", rungs);
  }

  // results: confusion matrices, per-class accuracy, predictions
  std::vector<hsize_t> changed;
  std::vector<int64_t> confusion_test, confusion_val;
  std::vector<double> per_class;
  std::vector<int8_t> predictions;
  H5Id prediction_rows = writer.open_dataset(file, "test_predictions");
  const hsize_t first_prediction = writer.rows(prediction_rows);
  for (hsize_t p : positions) {
    WrittenPoint& w = written_[p];
    const LedgerPoint& point = points[p];
    if (w.result_generation == point.result_generation) continue;
    w.result_generation = point.result_generation;
    changed.push_back(p);
    w.predictions_start = w.predictions_count = 0;
    if (!point.result) {
      confusion_test.insert(confusion_test.end(), kCells, 0);
      confusion_val.insert(confusion_val.end(), kCells, 0);
      per_class.insert(per_class.end(), kNumClasses, kNotDone);
      continue;
    }
    const TrainResult& r = *point.result;
    confusion_test.insert(confusion_test.end(), r.confusion_test.begin(), r.confusion_test.end());
    confusion_val.insert(confusion_val.end(), r.confusion_val.begin(), r.confusion_val.end());
    per_class.insert(per_class.end(), r.per_class_acc.begin(), r.per_class_acc.end());
    if (!r.test_predictions.empty()) {
      w.predictions_start = static_cast<int64_t>(first_prediction + predictions.size());
      w.predictions_count = static_cast<int64_t>(r.test_predictions.size());
      predictions.insert(predictions.end(), r.test_predictions.begin(), r.test_predictions.end());
    }
  }
  const H5Id counts_type = array_type(H5T_NATIVE_INT64, {kNumClasses, kNumClasses}, path_);
  const H5Id accuracy_type = array_type(H5T_NATIVE_DOUBLE, {kNumClasses}, path_);
  for (auto [name, type, data] : {std::tuple<const char*, hid_t, const void*>{"confusion_test", counts_type.get(),
                                                                               confusion_test.data()},
                                  {"confusion_val", counts_type.get(), confusion_val.data()},
                                  {"per_class_acc", accuracy_type.get(), per_class.data()}}) {
    H5Id dataset = writer.open_dataset(file, name);
    writer.set_rows(dataset, count);
    writer.write_elements(dataset, name, type, data, changed);
  }
  if (!predictions.empty()) {
    writer.set_rows(prediction_rows, first_prediction + predictions.size());
    writer.write_block(prediction_rows, "test_predictions", H5T_NATIVE_INT8, predictions.data(), first_prediction,
                       predictions.size());
  }
  prediction_rows.close();

  // /index, last: its rows point into the others. New rows whole; a known row only in its
  // columns that can change, its variable-length text only when that changed.
  H5Id index = writer.open_dataset(file, "index");
  writer.set_rows(index, count);
  std::vector<hsize_t> fresh, fresh_untexted, retexted, renumbered;
  for (hsize_t p : positions) {
    const uint64_t fingerprint = text_fingerprint(points[p]);
    if (p >= known) (has_no_text(points[p]) ? fresh_untexted : fresh).push_back(p);
    else if (fingerprint != written_[p].text_fingerprint) retexted.push_back(p);
    else renumbered.push_back(p);
    written_[p].text_fingerprint = fingerprint;
  }
  const auto write_index_rows = [&](const std::vector<hsize_t>& rows_at, const std::function<bool(const H5Column&)>& keep) {
    if (rows_at.empty()) return;
    std::vector<H5Column> rows = index_schema(file_columns_);
    for (hsize_t p : rows_at)
      push_index_row(rows, file_columns_, points[p], written_[p].predictions_start, written_[p].predictions_count);
    writer.write_rows(index, "index", select_columns(std::move(rows), keep), rows_at);
  };
  write_index_rows(fresh, [](const H5Column&) { return true; });
  // A planned point's error, host, device and torch version are empty: left at the
  // fill value (no string), so that its start writes them without HDF5 first
  // removing an empty string from the global heap, which moves the rest of the
  // heap's collection (most of the time of a 10,000-point sweep's last write).
  // Readers take the fill value for "" (H5Reader::column_strings, h5py).
  write_index_rows(fresh_untexted, [](const H5Column& c) {
    return !(is_mutable_column(c.name) && c.kind == H5Column::Kind::string);
  });
  write_index_rows(retexted, [](const H5Column& c) { return is_mutable_column(c.name); });
  write_index_rows(renumbered, [](const H5Column& c) {
    return is_mutable_column(c.name) && c.kind != H5Column::Kind::string;
  });
}

void ResultsView::rebuild(const LedgerState& state, uint64_t journal_bytes) {
  file_current_ = false;
  written_.clear();
  touched_.clear();
  is_touched_.clear();
  const std::string hint = "Rendering the results file in memory";
  H5Id access(ABLATE_H5_CHECK(H5Pcreate(H5P_FILE_ACCESS), path_, hint), H5Pclose);
  ABLATE_H5_CHECK(H5Pset_fapl_core(access, kCoreIncrement, /*backing_store=*/false), path_, hint);
  // A name of its own, so HDF5 never mistakes it for the file on disk if that is open too.
  const std::string memory_name = path_ + " (in memory)";
  H5Id file(ABLATE_H5_CHECK(H5Fcreate(memory_name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access), path_, hint),
            H5Fclose);
  const H5Writer writer(path_);
  {
    H5Id root(ABLATE_H5_CHECK(H5Gopen2(file, "/", H5P_DEFAULT), path_, hint), H5Gclose);
    write_root_attributes(writer, root, state, static_cast<int64_t>(journal_bytes));
  }
  create_layout(writer, file, state);
  write_changes(writer, file, state);
  ABLATE_H5_CHECK(H5Fflush(file, H5F_SCOPE_GLOBAL), path_, hint);
  const ssize_t size = ABLATE_H5_CHECK(H5Fget_file_image(file, nullptr, 0), path_, hint);
  std::string image(static_cast<size_t>(size), '\0');
  ABLATE_H5_CHECK(H5Fget_file_image(file, image.data(), image.size()), path_, hint);
  ABLATE_H5_CHECK(file.close(), path_, hint);
  replace_file_atomically(path_, path_ + ".tmp", image);
  file_current_ = true;
}

// The file says journal_bytes = -1 (durably) before anything else changes, and the
// real length only once every change is durable: a writer killed in between leaves
// a file the next open sees as stale, and rebuilds. HDF5's lock on the open file
// keeps readers out meanwhile (they get "unable to lock file" and try again).
void ResultsView::update_in_place(const LedgerState& state, uint64_t journal_bytes) {
  H5Id file(ABLATE_H5_CHECK(H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), path_, kUpdateHint), H5Fclose);
  const H5Writer writer(path_);
  H5Id root(ABLATE_H5_CHECK(H5Gopen2(file, "/", H5P_DEFAULT), path_, kUpdateHint), H5Gclose);
  overwrite_int64_attr(root, "journal_bytes", kJournalBytesUpdating, path_);
  ABLATE_H5_CHECK(H5Fflush(file, H5F_SCOPE_LOCAL), path_, kUpdateHint);
  sync_file(path_);
  write_changes(writer, file, state);
  ABLATE_H5_CHECK(H5Fflush(file, H5F_SCOPE_LOCAL), path_, kUpdateHint);
  sync_file(path_);
  overwrite_string_attr(root, "updated", iso8601_utc_now(), path_);
  overwrite_int64_attr(root, "journal_bytes", static_cast<int64_t>(journal_bytes), path_);
  root.close();
  ABLATE_H5_CHECK(file.close(), path_, kUpdateHint);
  sync_file(path_);
}

}  // namespace ablate
