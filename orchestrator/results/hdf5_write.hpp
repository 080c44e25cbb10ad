// H5Writer: typed attributes, datasets and compound tables, each HDF5 call
// checked and reported against the file being written.
#pragma once

#include "orchestrator/results/hdf5_handle.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ablate {

// One column of a compound table. Integer kinds read `ints`, float64 reads
// `floats`, string reads `strings` (variable-length UTF-8 in the file).
struct H5Column {
  enum class Kind { int8, int32, int64, float64, string };
  std::string name;
  Kind kind;
  std::vector<int64_t> ints = {};
  std::vector<double> floats = {};
  std::vector<std::string> strings = {};

  size_t rows() const;
};

// A results file is tens of thousands of small objects, so the writer keeps what
// every one of them needs (the string type, a scalar dataspace, the compound types
// of the last table layout) instead of making and closing them per object.
class H5Writer {
 public:
  // `path` only names the file in error messages (the file may live in memory).
  explicit H5Writer(std::string path);

  H5Id create_group(hid_t parent, const std::string& name) const;

  void attr_string(hid_t object, const std::string& name, const std::string& value) const;
  void attr_int64(hid_t object, const std::string& name, int64_t value) const;
  void attr_int8(hid_t object, const std::string& name, int8_t value) const;
  void attr_float64(hid_t object, const std::string& name, double value) const;
  void attr_int64_array(hid_t object, const std::string& name, const std::vector<int64_t>& values) const;

  // Row-major int64 matrix.
  void dataset_int64(hid_t parent, const std::string& name, const std::vector<int64_t>& values, size_t rows,
                     size_t cols) const;
  void dataset_float64(hid_t parent, const std::string& name, const std::vector<double>& values) const;
  void dataset_int8(hid_t parent, const std::string& name, const std::vector<int8_t>& values) const;

  // A 1-D dataset of compound rows; every column must have the same number of rows.
  void table(hid_t parent, const std::string& name, const std::vector<H5Column>& columns) const;

 private:
  void scalar_attr(hid_t object, const std::string& name, hid_t file_type, hid_t memory_type,
                   const void* value) const;
  // A dataset of `dims`, written from `values` (nullptr: left unwritten, for empty ones).
  void dataset(hid_t parent, const std::string& name, hid_t file_type, hid_t memory_type,
               const std::vector<hsize_t>& dims, const void* values) const;

  struct TableTypes {
    std::string signature;  // column names and kinds
    H5Id memory_type, file_type;
    std::vector<size_t> offsets;
    size_t row_size = 0;
  };
  // The compound types for `columns`, made once per distinct layout.
  const TableTypes& table_types(const std::string& name, const std::vector<H5Column>& columns) const;

  std::string path_;
  H5Id string_type_, scalar_space_;
  mutable TableTypes table_types_;  // the last layout: every point's curves share it
};

// A variable-length UTF-8 string type (caller owns it).
H5Id make_utf8_string_type(const std::string& path);

}  // namespace ablate
