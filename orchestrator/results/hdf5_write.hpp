// H5Writer: typed attributes, datasets and compound tables, each HDF5 call
// checked and reported against the file being written.
#pragma once

#include "orchestrator/results/hdf5_handle.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ablate {

// One column of a compound table. Integer kinds read `ints`, float64 reads
// `floats`, string reads `strings` (variable-length UTF-8 in the file), fixed_string
// reads `strings` too (UTF-8 of at most `fixed_size` bytes, null-padded: rewriting it
// in place costs nothing, unlike a variable-length string whose old copy HDF5 frees).
struct H5Column {
  enum class Kind { int8, int32, int64, float64, string, fixed_string };
  std::string name;
  Kind kind;
  std::vector<int64_t> ints = {};
  std::vector<double> floats = {};
  std::vector<std::string> strings = {};
  size_t fixed_size = 0;

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

  // Extendable tables (the incremental results view). An empty 1-D compound table with
  // the columns' names and kinds (their values are ignored), chunked by `chunk_rows`.
  H5Id create_table(hid_t parent, const std::string& name, const std::vector<H5Column>& columns,
                    hsize_t chunk_rows) const;
  // An empty extendable 1-D dataset whose every element is an array of `element_dims`
  // (h5py reads [N] of int64[10][10] as an (N, 10, 10) array); `fill` is one element.
  H5Id create_array_rows(hid_t parent, const std::string& name, hid_t file_type, hid_t memory_type,
                         const std::vector<hsize_t>& element_dims, hsize_t chunk_rows, const void* fill) const;
  // An empty extendable 1-D dataset of scalars.
  H5Id create_rows(hid_t parent, const std::string& name, hid_t file_type, hsize_t chunk_rows) const;
  H5Id open_dataset(hid_t parent, const std::string& name) const;
  hsize_t rows(hid_t dataset) const;
  void set_rows(hid_t dataset, hsize_t rows) const;  // grows (or shrinks) the first dimension
  // Writes the columns' rows to rows `positions` (ascending, inside the extent) of a
  // table; the columns may be a subset of the table's: the others keep their values.
  void write_rows(hid_t dataset, const std::string& name, const std::vector<H5Column>& columns,
                  const std::vector<hsize_t>& positions) const;
  // Appends the columns' rows at the end of a table; returns the first new row's position.
  hsize_t append_rows(hid_t dataset, const std::string& name, const std::vector<H5Column>& columns) const;
  // Writes `count` elements of `memory_type` from `data` to rows [first, first + count).
  void write_block(hid_t dataset, const std::string& name, hid_t memory_type, const void* data, hsize_t first,
                   hsize_t count) const;
  // Writes `positions.size()` elements of `memory_type` from `data` to those rows of a 1-D dataset.
  void write_elements(hid_t dataset, const std::string& name, hid_t memory_type, const void* data,
                      const std::vector<hsize_t>& positions) const;

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
  // The columns' rows packed as memory_type rows.
  std::vector<unsigned char> pack_rows(const std::string& name, const std::vector<H5Column>& columns,
                                       const TableTypes& types) const;
  // A file dataspace of `dataset` selecting `positions`.
  H5Id select_rows(hid_t dataset, const std::string& name, const std::vector<hsize_t>& positions) const;

  std::string path_;
  H5Id string_type_, scalar_space_;
  mutable std::vector<std::unique_ptr<TableTypes>> table_types_;  // one per layout seen (a handful)
};

// A variable-length UTF-8 string type (caller owns it).
H5Id make_utf8_string_type(const std::string& path);
// A fixed-length UTF-8 string type of `size` bytes, null-padded (caller owns it).
H5Id make_fixed_string_type(const std::string& path, size_t size);

}  // namespace ablate
