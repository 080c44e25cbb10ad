// H5Reader: reads attributes and compound-table columns by name, each HDF5
// call checked and reported against the file being read.
#pragma once

#include "orchestrator/results/hdf5_handle.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ablate {

class H5Reader {
 public:
  explicit H5Reader(std::string path) : path_(std::move(path)) {}

  // Opens the file read-only; throws Hdf5Error when it is not an HDF5 file.
  H5Id open_file() const;
  H5Id open_group(hid_t parent, const std::string& name) const;
  H5Id open_dataset(hid_t parent, const std::string& name) const;
  bool has_link(hid_t parent, const std::string& name) const;
  bool has_attr(hid_t object, const std::string& name) const;

  std::string attr_string(hid_t object, const std::string& name) const;  // fixed or variable length
  int64_t attr_int64(hid_t object, const std::string& name) const;       // any integer type
  double attr_float64(hid_t object, const std::string& name) const;      // any number type

  // Member names of a compound dataset, in file order, and the HDF5 class of one.
  std::vector<std::string> column_names(hid_t dataset) const;
  H5T_class_t column_class(hid_t dataset, const std::string& name) const;

  // One column of a 1-D compound dataset, converted by HDF5 to the asked type.
  std::vector<std::string> column_strings(hid_t dataset, const std::string& name) const;
  std::vector<int64_t> column_int64(hid_t dataset, const std::string& name) const;
  std::vector<double> column_float64(hid_t dataset, const std::string& name) const;

 private:
  size_t rows_of(hid_t dataset) const;
  void read_column(hid_t dataset, const std::string& name, hid_t member_type, size_t member_size,
                   void* out) const;

  std::string path_;
};

}  // namespace ablate
