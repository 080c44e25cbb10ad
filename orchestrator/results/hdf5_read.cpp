// Typed HDF5 reads for the results summary and the open-time checks.
#include "orchestrator/results/hdf5_read.hpp"

#include "orchestrator/results/hdf5_check.hpp"
#include "orchestrator/results/hdf5_write.hpp"

#include <fmt/format.h>

#include <cstring>

namespace ablate {
namespace {

constexpr const char* kReadHint =
    "Is this an ablate results file of this version? `h5dump -H` shows its layout (docs/results-format.md)";

}  // namespace

H5Id H5Reader::open_file() const {
  return H5Id(ABLATE_H5_CHECK(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path_,
                              "The file is missing or is not an HDF5 file"),
              H5Fclose);
}

H5Id H5Reader::open_group(hid_t parent, const std::string& name) const {
  return H5Id(ABLATE_H5_CHECK(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), path_,
                              fmt::format("Opening group '{}'. {}", name, kReadHint)),
              H5Gclose);
}

H5Id H5Reader::open_dataset(hid_t parent, const std::string& name) const {
  return H5Id(ABLATE_H5_CHECK(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), path_,
                              fmt::format("Opening dataset '{}'. {}", name, kReadHint)),
              H5Dclose);
}

bool H5Reader::has_link(hid_t parent, const std::string& name) const {
  return ABLATE_H5_CHECK(H5Lexists(parent, name.c_str(), H5P_DEFAULT), path_, kReadHint) > 0;
}

bool H5Reader::has_attr(hid_t object, const std::string& name) const {
  return ABLATE_H5_CHECK(H5Aexists(object, name.c_str()), path_, kReadHint) > 0;
}

std::string H5Reader::attr_string(hid_t object, const std::string& name) const {
  const std::string hint = fmt::format("Reading string attribute '{}'. {}", name, kReadHint);
  H5Id attr(ABLATE_H5_CHECK(H5Aopen(object, name.c_str(), H5P_DEFAULT), path_, hint), H5Aclose);
  H5Id type(ABLATE_H5_CHECK(H5Aget_type(attr), path_, hint), H5Tclose);
  if (ABLATE_H5_CHECK(H5Tget_class(type), path_, hint) != H5T_STRING)
    throw Hdf5Error(path_, "H5Tget_class", fmt::format("attribute '{}' in '{}' is not a string. {}", name, path_,
                                                       kReadHint));
  if (ABLATE_H5_CHECK(H5Tis_variable_str(type), path_, hint) > 0) {
    H5Id memory_type = make_utf8_string_type(path_);
    char* text = nullptr;
    ABLATE_H5_CHECK(H5Aread(attr, memory_type, &text), path_, hint);
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
  }
  const size_t size = H5Tget_size(type);
  if (size == 0) throw_hdf5_error("H5Tget_size", path_, hint, __FILE__, __LINE__);
  std::string value(size, '\0');
  ABLATE_H5_CHECK(H5Aread(attr, type, value.data()), path_, hint);
  value.resize(value.find('\0') == std::string::npos ? size : value.find('\0'));
  return value;
}

int64_t H5Reader::attr_int64(hid_t object, const std::string& name) const {
  const std::string hint = fmt::format("Reading integer attribute '{}'. {}", name, kReadHint);
  H5Id attr(ABLATE_H5_CHECK(H5Aopen(object, name.c_str(), H5P_DEFAULT), path_, hint), H5Aclose);
  int64_t value = 0;
  ABLATE_H5_CHECK(H5Aread(attr, H5T_NATIVE_INT64, &value), path_, hint);
  return value;
}

double H5Reader::attr_float64(hid_t object, const std::string& name) const {
  const std::string hint = fmt::format("Reading number attribute '{}'. {}", name, kReadHint);
  H5Id attr(ABLATE_H5_CHECK(H5Aopen(object, name.c_str(), H5P_DEFAULT), path_, hint), H5Aclose);
  double value = 0;
  ABLATE_H5_CHECK(H5Aread(attr, H5T_NATIVE_DOUBLE, &value), path_, hint);
  return value;
}

std::vector<std::string> H5Reader::column_names(hid_t dataset) const {
  H5Id type(ABLATE_H5_CHECK(H5Dget_type(dataset), path_, kReadHint), H5Tclose);
  const int count = ABLATE_H5_CHECK(H5Tget_nmembers(type), path_, kReadHint);
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) {
    char* name = H5Tget_member_name(type, static_cast<unsigned>(i));
    if (!name) throw_hdf5_error("H5Tget_member_name", path_, kReadHint, __FILE__, __LINE__);
    names.emplace_back(name);
    H5free_memory(name);
  }
  return names;
}

H5T_class_t H5Reader::column_class(hid_t dataset, const std::string& name) const {
  H5Id type(ABLATE_H5_CHECK(H5Dget_type(dataset), path_, kReadHint), H5Tclose);
  const int index = ABLATE_H5_CHECK(H5Tget_member_index(type, name.c_str()), path_,
                                    fmt::format("Finding column '{}'. {}", name, kReadHint));
  return ABLATE_H5_CHECK(H5Tget_member_class(type, static_cast<unsigned>(index)), path_, kReadHint);
}

size_t H5Reader::rows_of(hid_t dataset) const {
  H5Id space(ABLATE_H5_CHECK(H5Dget_space(dataset), path_, kReadHint), H5Sclose);
  const hssize_t count = ABLATE_H5_CHECK(H5Sget_simple_extent_npoints(space), path_, kReadHint);
  return static_cast<size_t>(count);
}

void H5Reader::read_column(hid_t dataset, const std::string& name, hid_t member_type, size_t member_size,
                           void* out) const {
  const std::string hint = fmt::format("Reading column '{}'. {}", name, kReadHint);
  // A one-member compound selects the column by name; HDF5 converts the type.
  H5Id memory_type(ABLATE_H5_CHECK(H5Tcreate(H5T_COMPOUND, member_size), path_, hint), H5Tclose);
  ABLATE_H5_CHECK(H5Tinsert(memory_type, name.c_str(), 0, member_type), path_, hint);
  ABLATE_H5_CHECK(H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out), path_, hint);
}

std::vector<std::string> H5Reader::column_strings(hid_t dataset, const std::string& name) const {
  const size_t rows = rows_of(dataset);
  if (rows == 0) return {};
  {  // a fixed-length string column (format 4's status, started, finished): read as such
    H5Id type(ABLATE_H5_CHECK(H5Dget_type(dataset), path_, kReadHint), H5Tclose);
    const int index = ABLATE_H5_CHECK(H5Tget_member_index(type, name.c_str()), path_,
                                      fmt::format("Finding column '{}'. {}", name, kReadHint));
    H5Id member(ABLATE_H5_CHECK(H5Tget_member_type(type, static_cast<unsigned>(index)), path_, kReadHint), H5Tclose);
    if (H5Tget_class(member) == H5T_STRING && ABLATE_H5_CHECK(H5Tis_variable_str(member), path_, kReadHint) == 0) {
      const size_t size = H5Tget_size(member);
      H5Id fixed = make_fixed_string_type(path_, size);
      std::vector<char> cells(rows * size);
      read_column(dataset, name, fixed, size, cells.data());
      std::vector<std::string> values;
      values.reserve(rows);
      for (size_t r = 0; r < rows; ++r) {
        const char* cell = cells.data() + r * size;
        values.emplace_back(cell, strnlen(cell, size));
      }
      return values;
    }
  }
  H5Id string_type = make_utf8_string_type(path_);
  std::vector<char*> texts(rows, nullptr);
  read_column(dataset, name, string_type, sizeof(char*), texts.data());
  std::vector<std::string> values;
  values.reserve(rows);
  for (char* text : texts) {
    values.emplace_back(text ? text : "");
    H5free_memory(text);
  }
  return values;
}

std::vector<int64_t> H5Reader::column_int64(hid_t dataset, const std::string& name) const {
  std::vector<int64_t> values(rows_of(dataset));
  if (!values.empty()) read_column(dataset, name, H5T_NATIVE_INT64, sizeof(int64_t), values.data());
  return values;
}

std::vector<double> H5Reader::column_float64(hid_t dataset, const std::string& name) const {
  std::vector<double> values(rows_of(dataset));
  if (!values.empty()) read_column(dataset, name, H5T_NATIVE_DOUBLE, sizeof(double), values.data());
  return values;
}

}  // namespace ablate
