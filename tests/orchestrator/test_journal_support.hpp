// Shared fixtures of the results-ledger tests: a scratch directory, a sweep with
// hand-made points, known metrics, and raw HDF5 C API readers that do not go
// through the code under test.
#pragma once

#include "orchestrator/results/results_file.hpp"

#include <hdf5.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ablate::test {

// A fresh directory under $TMPDIR (or /tmp), removed with its content.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/ablate-results-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline SweepIdentity test_sweep(const std::string& spec = "name = \"lr_sweep\"\n[grid]\nlr = [0.1, 0.01]\n") {
  return {"lr_sweep", "sweeps/lr_sweep.toml", spec};
}

// Config texts differ in lr (float), hidden (int list), batchnorm (bool),
// activation (string); epochs (int) is the same everywhere, so it is not swept.
inline PlannedPoint test_point(int i) {
  const std::string config = fmt::format(
      R"({{"activation":"{}","batchnorm":{},"epochs":3,"hidden":[{}],"lr":{},"seed":{}}})", i % 2 ? "tanh" : "relu",
      i % 2 ? "true" : "false", i % 3 == 0 ? "256,256" : "128", 0.1 / (i + 1), i);
  return {fmt::format("p{:04d}", i), config, i % 2 ? "odd" : "even", i, -1, ""};
}

inline std::vector<PlannedPoint> test_points(int count) {
  std::vector<PlannedPoint> points;
  for (int i = 0; i < count; ++i) points.push_back(test_point(i));
  return points;
}

// Known values: every field differs per point k and epoch e, so a swapped column shows.
inline EpochMetrics test_epoch(int k, int e) {
  EpochMetrics m;
  m.epoch = e;
  m.train_loss = 2.0 / e + k;
  m.train_acc = 0.5 + 0.01 * e;
  m.val_loss = 1.5 / e;
  m.val_acc = 0.4 + 0.1 * e + 0.001 * k;
  m.test_loss = 1.25 / e;
  m.test_acc = 0.45 + 0.1 * e;
  m.lr = 0.1 / e;
  m.epoch_seconds = 3.5 + e;
  m.images_per_second = 1000.0 * e + k;
  m.pack_members = e % 2 == 1 ? 4 : 1;  // packed, then alone (a pack that shrank), ...
  return m;
}

inline TrainResult test_result(int k, int epochs) {
  TrainResult r;
  for (int e = 1; e <= epochs; ++e) r.curves.push_back(test_epoch(k, e));
  for (int t = 0; t < kNumClasses; ++t)
    for (int p = 0; p < kNumClasses; ++p) {
      r.confusion_test.push_back(t == p ? 900 + t + k : (t + p) % 4);
      r.confusion_val.push_back(t == p ? 450 + t : (t * p) % 3);
    }
  for (int c = 0; c < kNumClasses; ++c) r.per_class_acc.push_back(0.8 + 0.01 * c);
  r.best_epoch = epochs;
  r.best_val_acc = test_epoch(k, epochs).val_acc;
  r.final_test_acc = test_epoch(k, epochs).test_acc;
  r.test_acc_at_best_val = r.final_test_acc;
  r.parameter_count = 1000 + k;
  r.train_seconds = 12.5 + k;
  r.device = "cuda:0";
  for (int image = 0; image < 25; ++image) r.test_predictions.push_back(static_cast<int8_t>((image * 7 + k) % 10));
  return r;
}

// Trains point k "for real" as far as the ledger can tell.
inline void run_point(ResultsFile& results, const PlannedPoint& point, int k, int epochs) {
  results.start_point(point.id, {"node01", "cpu", "2.3.0", /*threads=*/2, /*ranks=*/1});
  for (int e = 1; e <= epochs; ++e) results.record_epoch(point.id, test_epoch(k, e));
  results.finish_point(point.id, test_result(k, epochs));
}

inline ResultsFile::Options quiet_options(std::vector<std::string>* warnings = nullptr, double interval = 5) {
  ResultsFile::Options options;
  options.flush_interval_seconds = interval;
  options.on_warning = [warnings](const std::string& w) {
    if (warnings) warnings->push_back(w);
  };
  return options;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline bool file_exists(const std::string& path) { return std::filesystem::exists(path); }

// ---- raw HDF5 readers (independent of orchestrator/results) ----

struct RawFile {
  explicit RawFile(const std::string& path) : id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)) {
    REQUIRE(id >= 0);
  }
  ~RawFile() {
    if (id >= 0) H5Fclose(id);
  }
  hid_t id;
};

inline bool raw_has_attr(hid_t object, const char* name) { return H5Aexists(object, name) > 0; }

inline std::string raw_string_attr(hid_t object, const char* name) {
  hid_t attr = H5Aopen(object, name, H5P_DEFAULT);
  REQUIRE(attr >= 0);
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  char* text = nullptr;
  REQUIRE(H5Aread(attr, type, &text) >= 0);
  std::string value = text;
  H5free_memory(text);
  H5Tclose(type);
  H5Aclose(attr);
  return value;
}

inline int64_t raw_int_attr(hid_t object, const char* name) {
  hid_t attr = H5Aopen(object, name, H5P_DEFAULT);
  REQUIRE(attr >= 0);
  int64_t value = 0;
  REQUIRE(H5Aread(attr, H5T_NATIVE_INT64, &value) >= 0);
  H5Aclose(attr);
  return value;
}

inline double raw_double_attr(hid_t object, const char* name) {
  hid_t attr = H5Aopen(object, name, H5P_DEFAULT);
  REQUIRE(attr >= 0);
  double value = 0;
  REQUIRE(H5Aread(attr, H5T_NATIVE_DOUBLE, &value) >= 0);
  H5Aclose(attr);
  return value;
}

// The HDF5 class and byte size of an attribute's stored type.
inline std::pair<H5T_class_t, size_t> raw_attr_type(hid_t object, const char* name) {
  hid_t attr = H5Aopen(object, name, H5P_DEFAULT);
  REQUIRE(attr >= 0);
  hid_t type = H5Aget_type(attr);
  std::pair<H5T_class_t, size_t> result{H5Tget_class(type), H5Tget_size(type)};
  H5Tclose(type);
  H5Aclose(attr);
  return result;
}

inline std::vector<int64_t> raw_int_array_attr(hid_t object, const char* name) {
  hid_t attr = H5Aopen(object, name, H5P_DEFAULT);
  REQUIRE(attr >= 0);
  hid_t space = H5Aget_space(attr);
  std::vector<int64_t> values(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
  if (!values.empty()) REQUIRE(H5Aread(attr, H5T_NATIVE_INT64, values.data()) >= 0);
  H5Sclose(space);
  H5Aclose(attr);
  return values;
}

inline size_t raw_rows(hid_t dataset) {
  hid_t space = H5Dget_space(dataset);
  const auto n = static_cast<size_t>(H5Sget_simple_extent_npoints(space));
  H5Sclose(space);
  return n;
}

// One column of a compound dataset, read through a one-member memory type.
template <class T>
std::vector<T> raw_column(hid_t dataset, const char* name, hid_t native) {
  std::vector<T> values(raw_rows(dataset));
  hid_t memory = H5Tcreate(H5T_COMPOUND, sizeof(T));
  H5Tinsert(memory, name, 0, native);
  if (!values.empty()) REQUIRE(H5Dread(dataset, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
  H5Tclose(memory);
  return values;
}

// A string column, variable-length or (format 4's status, started, finished) fixed-length.
inline std::vector<std::string> raw_string_column(hid_t dataset, const char* name) {
  hid_t stored = H5Dget_type(dataset);
  hid_t member = H5Tget_member_type(stored, static_cast<unsigned>(H5Tget_member_index(stored, name)));
  const bool fixed = H5Tis_variable_str(member) == 0;
  const size_t size = H5Tget_size(member);
  H5Tclose(member);
  H5Tclose(stored);
  std::vector<std::string> values;
  if (fixed) {
    hid_t text_type = H5Tcopy(H5T_C_S1);
    H5Tset_size(text_type, size);
    H5Tset_strpad(text_type, H5T_STR_NULLPAD);
    H5Tset_cset(text_type, H5T_CSET_UTF8);
    std::vector<char> cells(raw_rows(dataset) * size);
    hid_t memory = H5Tcreate(H5T_COMPOUND, size);
    H5Tinsert(memory, name, 0, text_type);
    if (!cells.empty()) REQUIRE(H5Dread(dataset, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, cells.data()) >= 0);
    H5Tclose(memory);
    H5Tclose(text_type);
    for (size_t r = 0; r < cells.size() / size; ++r) values.emplace_back(&cells[r * size], strnlen(&cells[r * size], size));
    return values;
  }
  hid_t text_type = H5Tcopy(H5T_C_S1);
  H5Tset_size(text_type, H5T_VARIABLE);
  H5Tset_cset(text_type, H5T_CSET_UTF8);
  auto pointers = raw_column<char*>(dataset, name, text_type);
  for (char* p : pointers) {
    values.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  H5Tclose(text_type);
  return values;
}

inline std::vector<std::string> raw_member_names(hid_t dataset) {
  hid_t type = H5Dget_type(dataset);
  std::vector<std::string> names;
  for (int i = 0; i < H5Tget_nmembers(type); ++i) {
    char* name = H5Tget_member_name(type, static_cast<unsigned>(i));
    names.emplace_back(name);
    H5free_memory(name);
  }
  H5Tclose(type);
  return names;
}

inline H5T_class_t raw_member_class(hid_t dataset, const char* name) {
  hid_t type = H5Dget_type(dataset);
  const int index = H5Tget_member_index(type, name);
  REQUIRE(index >= 0);
  const H5T_class_t c = H5Tget_member_class(type, static_cast<unsigned>(index));
  H5Tclose(type);
  return c;
}

// The /index row of a point (format 4: every per-point value is a column of /index).
inline size_t raw_index_row(hid_t file, const std::string& id) {
  hid_t index = H5Dopen2(file, "/index", H5P_DEFAULT);
  REQUIRE(index >= 0);
  const auto ids = raw_string_column(index, "id");
  H5Dclose(index);
  const auto row = std::find(ids.begin(), ids.end(), id);
  REQUIRE(row != ids.end());
  return static_cast<size_t>(row - ids.begin());
}

inline std::string raw_index_string(hid_t file, const std::string& id, const char* column) {
  const size_t row = raw_index_row(file, id);
  hid_t index = H5Dopen2(file, "/index", H5P_DEFAULT);
  const auto values = raw_string_column(index, column);
  H5Dclose(index);
  return values.at(row);
}

template <class T>
T raw_index_value(hid_t file, const std::string& id, const char* column, hid_t native) {
  const size_t row = raw_index_row(file, id);
  hid_t index = H5Dopen2(file, "/index", H5P_DEFAULT);
  const auto values = raw_column<T>(index, column, native);
  H5Dclose(index);
  return values.at(row);
}

// A point's learning curve: the rows of /curves whose `point` is its /index row,
// by epoch, read through a struct laid out by hand.
inline std::vector<EpochMetrics> raw_curves(hid_t file, const std::string& id) {
  struct Row {
    int32_t point;
    EpochMetrics m;
  };
  const auto position = static_cast<int32_t>(raw_index_row(file, id));
  hid_t dataset = H5Dopen2(file, "/curves", H5P_DEFAULT);
  REQUIRE(dataset >= 0);
  hid_t memory = H5Tcreate(H5T_COMPOUND, sizeof(Row));
  H5Tinsert(memory, "point", HOFFSET(Row, point), H5T_NATIVE_INT32);
  H5Tinsert(memory, "epoch", HOFFSET(Row, m.epoch), H5T_NATIVE_INT);
  H5Tinsert(memory, "train_loss", HOFFSET(Row, m.train_loss), H5T_NATIVE_DOUBLE);
  H5Tinsert(memory, "train_acc", HOFFSET(Row, m.train_acc), H5T_NATIVE_DOUBLE);
  H5Tinsert(memory, "val_loss", HOFFSET(Row, m.val_loss), H5T_NATIVE_DOUBLE);
  H5Tinsert(memory, "val_acc", HOFFSET(Row, m.val_acc), H5T_NATIVE_DOUBLE);
  H5Tinsert(memory, "test_loss", HOFFSET(Row, m.test_loss), H5T_NATIVE_DOUBLE);
  H5Tinsert(memory, "test_acc", HOFFSET(Row, m.test_acc), H5T_NATIVE_DOUBLE);
  H5Tinsert(memory, "lr", HOFFSET(Row, m.lr), H5T_NATIVE_DOUBLE);
  H5Tinsert(memory, "epoch_seconds", HOFFSET(Row, m.epoch_seconds), H5T_NATIVE_DOUBLE);
  H5Tinsert(memory, "images_per_second", HOFFSET(Row, m.images_per_second), H5T_NATIVE_DOUBLE);
  H5Tinsert(memory, "train_eval_loss", HOFFSET(Row, m.train_eval_loss), H5T_NATIVE_DOUBLE);
  H5Tinsert(memory, "train_eval_acc", HOFFSET(Row, m.train_eval_acc), H5T_NATIVE_DOUBLE);
  H5Tinsert(memory, "pack_members", HOFFSET(Row, m.pack_members), H5T_NATIVE_DOUBLE);
  std::vector<Row> rows(raw_rows(dataset));
  if (!rows.empty()) REQUIRE(H5Dread(dataset, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()) >= 0);
  H5Tclose(memory);
  H5Dclose(dataset);
  std::vector<EpochMetrics> curve;
  for (const auto& row : rows)
    if (row.point == position) curve.push_back(row.m);
  std::stable_sort(curve.begin(), curve.end(), [](const auto& a, const auto& b) { return a.epoch < b.epoch; });
  return curve;
}

// Row `id` of a per-point array dataset (/confusion_test: 100 counts, /per_class_acc: 10 values).
template <class T>
std::vector<T> raw_point_array(hid_t file, const std::string& id, const char* name, hid_t native, hsize_t size) {
  const hsize_t position = raw_index_row(file, id);
  hid_t dataset = H5Dopen2(file, name, H5P_DEFAULT);
  REQUIRE(dataset >= 0);
  hid_t type = H5Dget_type(dataset);
  REQUIRE(H5Tget_class(type) == H5T_ARRAY);
  H5Tclose(type);
  const int rank = size == 100 ? 2 : 1;
  const hsize_t dims[2] = {rank == 2 ? 10 : size, 10};
  hid_t memory = H5Tarray_create2(native, static_cast<unsigned>(rank), dims);
  hid_t file_space = H5Dget_space(dataset);
  const hsize_t count[1] = {1};
  H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &position, nullptr, count, nullptr);
  hid_t memory_space = H5Screate_simple(1, count, nullptr);
  std::vector<T> values(size);
  REQUIRE(H5Dread(dataset, memory, memory_space, file_space, H5P_DEFAULT, values.data()) >= 0);
  H5Sclose(memory_space);
  H5Sclose(file_space);
  H5Tclose(memory);
  H5Dclose(dataset);
  return values;
}

// A point's test predictions: its block of /test_predictions.
inline std::vector<int8_t> raw_predictions(hid_t file, const std::string& id) {
  const auto start = raw_index_value<int64_t>(file, id, "predictions_start", H5T_NATIVE_INT64);
  const auto count = raw_index_value<int64_t>(file, id, "predictions_count", H5T_NATIVE_INT64);
  std::vector<int8_t> values(static_cast<size_t>(count));
  if (count == 0) return values;
  hid_t dataset = H5Dopen2(file, "/test_predictions", H5P_DEFAULT);
  REQUIRE(dataset >= 0);
  hid_t file_space = H5Dget_space(dataset);
  const hsize_t first[1] = {static_cast<hsize_t>(start)}, counts[1] = {static_cast<hsize_t>(count)};
  H5Sselect_hyperslab(file_space, H5S_SELECT_SET, first, nullptr, counts, nullptr);
  hid_t memory_space = H5Screate_simple(1, counts, nullptr);
  REQUIRE(H5Dread(dataset, H5T_NATIVE_INT8, memory_space, file_space, H5P_DEFAULT, values.data()) >= 0);
  H5Sclose(memory_space);
  H5Sclose(file_space);
  H5Dclose(dataset);
  return values;
}

inline bool same_epoch(const EpochMetrics& a, const EpochMetrics& b) {
  return a.epoch == b.epoch && a.train_loss == b.train_loss && a.train_acc == b.train_acc &&
         a.val_loss == b.val_loss && a.val_acc == b.val_acc && a.test_loss == b.test_loss &&
         a.test_acc == b.test_acc && a.lr == b.lr && a.epoch_seconds == b.epoch_seconds &&
         a.images_per_second == b.images_per_second;
}

inline bool raw_link_exists(hid_t file, const std::string& path) {
  // Checks each component so a missing parent is "false", not an error.
  std::string partial;
  std::stringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty()) continue;
    partial += "/" + part;
    if (H5Lexists(file, partial.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return true;
}

// A point's status as /index says it (every point has a row).
inline std::string raw_point_status(hid_t file, const std::string& id) {
  return raw_index_string(file, id, "status");
}

}  // namespace ablate::test
