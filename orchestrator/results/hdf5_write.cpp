// Typed HDF5 writes for the results layout.
#include "orchestrator/results/hdf5_write.hpp"

#include "orchestrator/results/hdf5_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace ablate {
namespace {

constexpr const char* kWriteHint = "The results file is rendered in memory first, so the file on disk is unchanged";

struct ColumnLayout {
  hid_t native_type;  // in memory; string columns use a variable-length string type instead
  hid_t file_type;    // in the file: explicitly little-endian
  size_t size;
};

ColumnLayout layout_of(H5Column::Kind kind) {
  switch (kind) {
    case H5Column::Kind::int8: return {H5T_NATIVE_INT8, H5T_STD_I8LE, 1};
    case H5Column::Kind::int32: return {H5T_NATIVE_INT32, H5T_STD_I32LE, 4};
    case H5Column::Kind::int64: return {H5T_NATIVE_INT64, H5T_STD_I64LE, 8};
    case H5Column::Kind::float64: return {H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 8};
    case H5Column::Kind::string: return {H5I_INVALID_HID, H5I_INVALID_HID, sizeof(const char*)};
  }
  return {H5I_INVALID_HID, H5I_INVALID_HID, 0};
}

}  // namespace

size_t H5Column::rows() const {
  switch (kind) {
    case Kind::float64: return floats.size();
    case Kind::string: return strings.size();
    default: return ints.size();
  }
}

H5Id make_utf8_string_type(const std::string& path) {
  H5Id type(ABLATE_H5_CHECK(H5Tcopy(H5T_C_S1), path, kWriteHint), H5Tclose);
  ABLATE_H5_CHECK(H5Tset_size(type, H5T_VARIABLE), path, kWriteHint);
  ABLATE_H5_CHECK(H5Tset_cset(type, H5T_CSET_UTF8), path, kWriteHint);
  return type;
}

H5Writer::H5Writer(std::string path)
    : path_(std::move(path)),
      string_type_(make_utf8_string_type(path_)),
      scalar_space_(ABLATE_H5_CHECK(H5Screate(H5S_SCALAR), path_, kWriteHint), H5Sclose) {}

H5Id H5Writer::create_group(hid_t parent, const std::string& name) const {
  return H5Id(ABLATE_H5_CHECK(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path_,
                              fmt::format("Creating group '{}'. {}", name, kWriteHint)),
              H5Gclose);
}

void H5Writer::scalar_attr(hid_t object, const std::string& name, hid_t file_type, hid_t memory_type,
                           const void* value) const {
  auto hint = [&] { return fmt::format("Writing attribute '{}'. {}", name, kWriteHint); };
  H5Id attr(ABLATE_H5_CHECK(H5Acreate2(object, name.c_str(), file_type, scalar_space_, H5P_DEFAULT, H5P_DEFAULT),
                            path_, hint()),
            H5Aclose);
  ABLATE_H5_CHECK(H5Awrite(attr, memory_type, value), path_, hint());
}

void H5Writer::attr_string(hid_t object, const std::string& name, const std::string& value) const {
  const char* text = value.c_str();
  scalar_attr(object, name, string_type_, string_type_, &text);
}

void H5Writer::attr_int64(hid_t object, const std::string& name, int64_t value) const {
  scalar_attr(object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void H5Writer::attr_int8(hid_t object, const std::string& name, int8_t value) const {
  scalar_attr(object, name, H5T_STD_I8LE, H5T_NATIVE_INT8, &value);
}

void H5Writer::attr_float64(hid_t object, const std::string& name, double value) const {
  scalar_attr(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void H5Writer::attr_int64_array(hid_t object, const std::string& name, const std::vector<int64_t>& values) const {
  auto hint = [&] { return fmt::format("Writing attribute '{}'. {}", name, kWriteHint); };
  const hsize_t dims[1] = {values.size()};
  H5Id space(ABLATE_H5_CHECK(H5Screate_simple(1, dims, nullptr), path_, hint()), H5Sclose);
  H5Id attr(ABLATE_H5_CHECK(H5Acreate2(object, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT),
                            path_, hint()),
            H5Aclose);
  if (!values.empty()) ABLATE_H5_CHECK(H5Awrite(attr, H5T_NATIVE_INT64, values.data()), path_, hint());
}

void H5Writer::dataset_int64(hid_t parent, const std::string& name, const std::vector<int64_t>& values,
                             size_t rows, size_t cols) const {
  dataset(parent, name, H5T_STD_I64LE, H5T_NATIVE_INT64, {rows, cols}, values.empty() ? nullptr : values.data());
}

void H5Writer::dataset_float64(hid_t parent, const std::string& name, const std::vector<double>& values) const {
  dataset(parent, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {values.size()}, values.empty() ? nullptr : values.data());
}

void H5Writer::dataset_int8(hid_t parent, const std::string& name, const std::vector<int8_t>& values) const {
  dataset(parent, name, H5T_STD_I8LE, H5T_NATIVE_INT8, {values.size()}, values.empty() ? nullptr : values.data());
}

void H5Writer::dataset(hid_t parent, const std::string& name, hid_t file_type, hid_t memory_type,
                       const std::vector<hsize_t>& dims, const void* values) const {
  auto hint = [&] { return fmt::format("Writing dataset '{}'. {}", name, kWriteHint); };
  H5Id space(ABLATE_H5_CHECK(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), path_, hint()),
             H5Sclose);
  H5Id data(ABLATE_H5_CHECK(H5Dcreate2(parent, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                            path_, hint()),
            H5Dclose);
  if (values) ABLATE_H5_CHECK(H5Dwrite(data, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), path_, hint());
}

const H5Writer::TableTypes& H5Writer::table_types(const std::string& name,
                                                  const std::vector<H5Column>& columns) const {
  std::string signature;
  for (const auto& column : columns) signature += fmt::format("{}:{};", column.name, static_cast<int>(column.kind));
  if (table_types_.memory_type.get() >= 0 && table_types_.signature == signature) return table_types_;

  auto hint = [&] { return fmt::format("Writing table '{}'. {}", name, kWriteHint); };
  // Memory rows are naturally aligned (HDF5 reads the string pointers out of
  // them); the file type has the same members packed, so the file has no padding.
  TableTypes types;
  types.signature = std::move(signature);
  for (const auto& column : columns) {
    const size_t size = layout_of(column.kind).size;
    types.row_size = (types.row_size + size - 1) / size * size;
    types.offsets.push_back(types.row_size);
    types.row_size += size;
  }
  types.row_size = (types.row_size + 7) / 8 * 8;
  if (types.row_size == 0) types.row_size = 8;

  types.memory_type = H5Id(ABLATE_H5_CHECK(H5Tcreate(H5T_COMPOUND, types.row_size), path_, hint()), H5Tclose);
  for (size_t c = 0; c < columns.size(); ++c) {
    const hid_t member = columns[c].kind == H5Column::Kind::string ? string_type_.get()
                                                                    : layout_of(columns[c].kind).native_type;
    ABLATE_H5_CHECK(H5Tinsert(types.memory_type, columns[c].name.c_str(), types.offsets[c], member), path_, hint());
  }
  size_t packed_size = 0;
  for (const auto& column : columns) packed_size += layout_of(column.kind).size;
  types.file_type =
      H5Id(ABLATE_H5_CHECK(H5Tcreate(H5T_COMPOUND, std::max<size_t>(packed_size, 1)), path_, hint()), H5Tclose);
  size_t packed_offset = 0;
  for (const auto& column : columns) {
    const hid_t member = column.kind == H5Column::Kind::string ? string_type_.get() : layout_of(column.kind).file_type;
    ABLATE_H5_CHECK(H5Tinsert(types.file_type, column.name.c_str(), packed_offset, member), path_, hint());
    packed_offset += layout_of(column.kind).size;
  }
  table_types_ = std::move(types);
  return table_types_;
}

void H5Writer::table(hid_t parent, const std::string& name, const std::vector<H5Column>& columns) const {
  auto hint = [&] { return fmt::format("Writing table '{}'. {}", name, kWriteHint); };
  const size_t rows = columns.empty() ? 0 : columns.front().rows();
  for (const auto& column : columns)
    if (column.rows() != rows)
      throw ResultsUsageError(path_, fmt::format("table '{}': column '{}' has {} rows, expected {} (a bug in the "
                                                 "results writer)",
                                                 name, column.name, column.rows(), rows));
  const TableTypes& types = table_types(name, columns);
  const std::vector<size_t>& offsets = types.offsets;
  const size_t row_size = types.row_size;

  std::vector<unsigned char> buffer(rows * row_size);
  for (size_t r = 0; r < rows; ++r) {
    unsigned char* row = buffer.data() + r * row_size;
    for (size_t c = 0; c < columns.size(); ++c) {
      const H5Column& column = columns[c];
      unsigned char* cell = row + offsets[c];
      switch (column.kind) {
        case H5Column::Kind::int8: {
          const auto v = static_cast<int8_t>(column.ints[r]);
          std::memcpy(cell, &v, sizeof v);
          break;
        }
        case H5Column::Kind::int32: {
          const auto v = static_cast<int32_t>(column.ints[r]);
          std::memcpy(cell, &v, sizeof v);
          break;
        }
        case H5Column::Kind::int64: std::memcpy(cell, &column.ints[r], sizeof(int64_t)); break;
        case H5Column::Kind::float64: std::memcpy(cell, &column.floats[r], sizeof(double)); break;
        case H5Column::Kind::string: {
          const char* text = column.strings[r].c_str();
          std::memcpy(cell, &text, sizeof text);
          break;
        }
      }
    }
  }

  const hsize_t dims[1] = {rows};
  H5Id space(ABLATE_H5_CHECK(H5Screate_simple(1, dims, nullptr), path_, hint()), H5Sclose);
  H5Id data(ABLATE_H5_CHECK(H5Dcreate2(parent, name.c_str(), types.file_type, space, H5P_DEFAULT, H5P_DEFAULT,
                                       H5P_DEFAULT),
                            path_, hint()),
            H5Dclose);
  if (rows == 0) return;
  // HDF5 otherwise allocates and zeroes a 1 MiB conversion buffer per write,
  // which dominated the time of writing thousands of small curves.
  H5Id transfer(ABLATE_H5_CHECK(H5Pcreate(H5P_DATASET_XFER), path_, hint()), H5Pclose);
  ABLATE_H5_CHECK(H5Pset_buffer(transfer, std::max<size_t>(buffer.size(), 4096), nullptr, nullptr), path_, hint());
  ABLATE_H5_CHECK(H5Dwrite(data, types.memory_type, H5S_ALL, H5S_ALL, transfer, buffer.data()), path_, hint());
}

}  // namespace ablate
