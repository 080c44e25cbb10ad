// Typed HDF5 writes for the results layout.
#include "orchestrator/results/hdf5_write.hpp"

#include "orchestrator/results/hdf5_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace ablate {
namespace {

constexpr const char* kWriteHint =
    "Writing the results file; the journal holds every record, and the file is rebuilt from it at the next write";

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
    case H5Column::Kind::fixed_string: return {H5I_INVALID_HID, H5I_INVALID_HID, 1};
  }
  return {H5I_INVALID_HID, H5I_INVALID_HID, 0};
}

}  // namespace

size_t H5Column::rows() const {
  switch (kind) {
    case Kind::float64: return floats.size();
    case Kind::string:
    case Kind::fixed_string: return strings.size();
    default: return ints.size();
  }
}

H5Id make_utf8_string_type(const std::string& path) {
  H5Id type(ABLATE_H5_CHECK(H5Tcopy(H5T_C_S1), path, kWriteHint), H5Tclose);
  ABLATE_H5_CHECK(H5Tset_size(type, H5T_VARIABLE), path, kWriteHint);
  ABLATE_H5_CHECK(H5Tset_cset(type, H5T_CSET_UTF8), path, kWriteHint);
  return type;
}

H5Id make_fixed_string_type(const std::string& path, size_t size) {
  H5Id type(ABLATE_H5_CHECK(H5Tcopy(H5T_C_S1), path, kWriteHint), H5Tclose);
  ABLATE_H5_CHECK(H5Tset_size(type, std::max<size_t>(size, 1)), path, kWriteHint);
  ABLATE_H5_CHECK(H5Tset_strpad(type, H5T_STR_NULLPAD), path, kWriteHint);
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
  for (const auto& column : columns)
    signature += fmt::format("{}:{}:{};", column.name, static_cast<int>(column.kind), column.fixed_size);
  for (const auto& known : table_types_)
    if (known->signature == signature) return *known;

  auto hint = [&] { return fmt::format("Writing table '{}'. {}", name, kWriteHint); };
  // Memory rows are naturally aligned (HDF5 reads the string pointers out of
  // them); the file type has the same members packed, so the file has no padding.
  TableTypes types;
  types.signature = std::move(signature);
  const auto size_of = [](const H5Column& column) {
    return column.kind == H5Column::Kind::fixed_string ? std::max<size_t>(column.fixed_size, 1)
                                                       : layout_of(column.kind).size;
  };
  std::vector<H5Id> fixed_types;  // one per fixed_string column (H5Tinsert copies it)
  for (const auto& column : columns) {
    const size_t size = size_of(column);
    const size_t align = column.kind == H5Column::Kind::fixed_string ? 1 : size;
    types.row_size = (types.row_size + align - 1) / align * align;
    types.offsets.push_back(types.row_size);
    types.row_size += size;
    fixed_types.push_back(column.kind == H5Column::Kind::fixed_string ? make_fixed_string_type(path_, size) : H5Id());
  }
  types.row_size = (types.row_size + 7) / 8 * 8;
  if (types.row_size == 0) types.row_size = 8;

  types.memory_type = H5Id(ABLATE_H5_CHECK(H5Tcreate(H5T_COMPOUND, types.row_size), path_, hint()), H5Tclose);
  for (size_t c = 0; c < columns.size(); ++c) {
    const hid_t member = columns[c].kind == H5Column::Kind::string         ? string_type_.get()
                         : columns[c].kind == H5Column::Kind::fixed_string ? fixed_types[c].get()
                                                                           : layout_of(columns[c].kind).native_type;
    ABLATE_H5_CHECK(H5Tinsert(types.memory_type, columns[c].name.c_str(), types.offsets[c], member), path_, hint());
  }
  size_t packed_size = 0;
  for (const auto& column : columns) packed_size += size_of(column);
  types.file_type =
      H5Id(ABLATE_H5_CHECK(H5Tcreate(H5T_COMPOUND, std::max<size_t>(packed_size, 1)), path_, hint()), H5Tclose);
  size_t packed_offset = 0;
  for (size_t c = 0; c < columns.size(); ++c) {
    const H5Column& column = columns[c];
    const hid_t member = column.kind == H5Column::Kind::string         ? string_type_.get()
                         : column.kind == H5Column::Kind::fixed_string ? fixed_types[c].get()
                                                                       : layout_of(column.kind).file_type;
    ABLATE_H5_CHECK(H5Tinsert(types.file_type, column.name.c_str(), packed_offset, member), path_, hint());
    packed_offset += size_of(column);
  }
  table_types_.push_back(std::make_unique<TableTypes>(std::move(types)));
  return *table_types_.back();
}

std::vector<unsigned char> H5Writer::pack_rows(const std::string& name, const std::vector<H5Column>& columns,
                                               const TableTypes& types) const {
  const size_t rows = columns.empty() ? 0 : columns.front().rows();
  for (const auto& column : columns)
    if (column.rows() != rows)
      throw ResultsUsageError(path_, fmt::format("table '{}': column '{}' has {} rows, expected {} (a bug in the "
                                                 "results writer)",
                                                 name, column.name, column.rows(), rows));
  const std::vector<size_t>& offsets = types.offsets;
  const size_t row_size = types.row_size;
  std::vector<unsigned char> buffer(rows * row_size);
  for (size_t c = 0; c < columns.size(); ++c) {
    const H5Column& column = columns[c];
    unsigned char* cell = buffer.data() + offsets[c];
    for (size_t r = 0; r < rows; ++r, cell += row_size) {
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
        case H5Column::Kind::fixed_string:  // the buffer is zeroed: the rest is padding
          std::memcpy(cell, column.strings[r].data(), std::min(column.strings[r].size(), column.fixed_size));
          break;
      }
    }
  }
  return buffer;
}

namespace {

// HDF5 otherwise allocates and zeroes a 1 MiB conversion buffer per write,
// which dominated the time of writing thousands of small tables.
H5Id transfer_list(const std::string& path, size_t bytes, const std::string& hint) {
  H5Id transfer(ABLATE_H5_CHECK(H5Pcreate(H5P_DATASET_XFER), path, hint), H5Pclose);
  ABLATE_H5_CHECK(H5Pset_buffer(transfer, std::max<size_t>(bytes, 4096), nullptr, nullptr), path, hint);
  return transfer;
}

}  // namespace

void H5Writer::table(hid_t parent, const std::string& name, const std::vector<H5Column>& columns) const {
  auto hint = [&] { return fmt::format("Writing table '{}'. {}", name, kWriteHint); };
  const TableTypes& types = table_types(name, columns);
  const std::vector<unsigned char> buffer = pack_rows(name, columns, types);
  const hsize_t dims[1] = {columns.empty() ? 0 : columns.front().rows()};
  H5Id space(ABLATE_H5_CHECK(H5Screate_simple(1, dims, nullptr), path_, hint()), H5Sclose);
  H5Id data(ABLATE_H5_CHECK(H5Dcreate2(parent, name.c_str(), types.file_type, space, H5P_DEFAULT, H5P_DEFAULT,
                                       H5P_DEFAULT),
                            path_, hint()),
            H5Dclose);
  if (dims[0] == 0) return;
  H5Id transfer = transfer_list(path_, buffer.size(), hint());
  ABLATE_H5_CHECK(H5Dwrite(data, types.memory_type, H5S_ALL, H5S_ALL, transfer, buffer.data()), path_, hint());
}

namespace {

H5Id extendable_space(const std::string& path, const std::string& hint) {
  const hsize_t dims[1] = {0}, max_dims[1] = {H5S_UNLIMITED};
  return H5Id(ABLATE_H5_CHECK(H5Screate_simple(1, dims, max_dims), path, hint), H5Sclose);
}

H5Id chunked(const std::string& path, hsize_t chunk_rows, const std::string& hint) {
  H5Id create(ABLATE_H5_CHECK(H5Pcreate(H5P_DATASET_CREATE), path, hint), H5Pclose);
  const hsize_t chunk[1] = {std::max<hsize_t>(chunk_rows, 1)};
  ABLATE_H5_CHECK(H5Pset_chunk(create, 1, chunk), path, hint);
  return create;
}

}  // namespace

H5Id H5Writer::create_table(hid_t parent, const std::string& name, const std::vector<H5Column>& columns,
                            hsize_t chunk_rows) const {
  auto hint = [&] { return fmt::format("Creating table '{}'. {}", name, kWriteHint); };
  const TableTypes& types = table_types(name, columns);
  H5Id space = extendable_space(path_, hint());
  H5Id create = chunked(path_, chunk_rows, hint());
  return H5Id(ABLATE_H5_CHECK(H5Dcreate2(parent, name.c_str(), types.file_type, space, H5P_DEFAULT, create,
                                         H5P_DEFAULT),
                              path_, hint()),
              H5Dclose);
}

H5Id H5Writer::create_array_rows(hid_t parent, const std::string& name, hid_t file_type, hid_t memory_type,
                                 const std::vector<hsize_t>& element_dims, hsize_t chunk_rows,
                                 const void* fill) const {
  auto hint = [&] { return fmt::format("Creating dataset '{}'. {}", name, kWriteHint); };
  const auto rank = static_cast<unsigned>(element_dims.size());
  H5Id file_array(ABLATE_H5_CHECK(H5Tarray_create2(file_type, rank, element_dims.data()), path_, hint()), H5Tclose);
  H5Id memory_array(ABLATE_H5_CHECK(H5Tarray_create2(memory_type, rank, element_dims.data()), path_, hint()),
                    H5Tclose);
  H5Id space = extendable_space(path_, hint());
  H5Id create = chunked(path_, chunk_rows, hint());
  ABLATE_H5_CHECK(H5Pset_fill_value(create, memory_array, fill), path_, hint());
  return H5Id(ABLATE_H5_CHECK(H5Dcreate2(parent, name.c_str(), file_array, space, H5P_DEFAULT, create, H5P_DEFAULT),
                              path_, hint()),
              H5Dclose);
}

H5Id H5Writer::create_rows(hid_t parent, const std::string& name, hid_t file_type, hsize_t chunk_rows) const {
  auto hint = [&] { return fmt::format("Creating dataset '{}'. {}", name, kWriteHint); };
  H5Id space = extendable_space(path_, hint());
  H5Id create = chunked(path_, chunk_rows, hint());
  return H5Id(ABLATE_H5_CHECK(H5Dcreate2(parent, name.c_str(), file_type, space, H5P_DEFAULT, create, H5P_DEFAULT),
                              path_, hint()),
              H5Dclose);
}

H5Id H5Writer::open_dataset(hid_t parent, const std::string& name) const {
  auto hint = [&] { return fmt::format("Opening dataset '{}' to update it", name); };
  // Updates touch rows all over a table; a cache that holds a whole flush's chunks
  // writes each chunk once.
  H5Id access(ABLATE_H5_CHECK(H5Pcreate(H5P_DATASET_ACCESS), path_, hint()), H5Pclose);
  ABLATE_H5_CHECK(H5Pset_chunk_cache(access, 12421, 64u << 20, 1.0), path_, hint());
  return H5Id(ABLATE_H5_CHECK(H5Dopen2(parent, name.c_str(), access), path_, hint()), H5Dclose);
}

hsize_t H5Writer::rows(hid_t dataset) const {
  H5Id space(ABLATE_H5_CHECK(H5Dget_space(dataset), path_, kWriteHint), H5Sclose);
  hsize_t dims[H5S_MAX_RANK] = {0};
  ABLATE_H5_CHECK(H5Sget_simple_extent_dims(space, dims, nullptr), path_, kWriteHint);
  return dims[0];
}

void H5Writer::set_rows(hid_t dataset, hsize_t rows) const {
  const hsize_t dims[1] = {rows};
  ABLATE_H5_CHECK(H5Dset_extent(dataset, dims), path_, fmt::format("Growing a table to {} rows. {}", rows, kWriteHint));
}

H5Id H5Writer::select_rows(hid_t dataset, const std::string& name, const std::vector<hsize_t>& positions) const {
  auto hint = [&] { return fmt::format("Selecting {} rows of '{}'. {}", positions.size(), name, kWriteHint); };
  H5Id space(ABLATE_H5_CHECK(H5Dget_space(dataset), path_, hint()), H5Sclose);
  if (positions.back() - positions.front() + 1 == positions.size()) {  // one run: a hyperslab
    const hsize_t start[1] = {positions.front()}, count[1] = {positions.size()};
    ABLATE_H5_CHECK(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr), path_, hint());
  } else {
    ABLATE_H5_CHECK(H5Sselect_elements(space, H5S_SELECT_SET, positions.size(), positions.data()), path_, hint());
  }
  return space;
}

void H5Writer::write_rows(hid_t dataset, const std::string& name, const std::vector<H5Column>& columns,
                          const std::vector<hsize_t>& positions) const {
  if (positions.empty()) return;
  auto hint = [&] { return fmt::format("Writing {} rows of table '{}'. {}", positions.size(), name, kWriteHint); };
  const TableTypes& types = table_types(name, columns);
  const std::vector<unsigned char> buffer = pack_rows(name, columns, types);
  if (buffer.size() != positions.size() * types.row_size)
    throw ResultsUsageError(path_, fmt::format("table '{}': {} rows for {} positions (a bug in the results writer)",
                                               name, buffer.size() / types.row_size, positions.size()));
  H5Id file_space = select_rows(dataset, name, positions);
  const hsize_t count[1] = {positions.size()};
  H5Id memory_space(ABLATE_H5_CHECK(H5Screate_simple(1, count, nullptr), path_, hint()), H5Sclose);
  H5Id transfer = transfer_list(path_, buffer.size(), hint());
  ABLATE_H5_CHECK(H5Dwrite(dataset, types.memory_type, memory_space, file_space, transfer, buffer.data()), path_,
                  hint());
}

hsize_t H5Writer::append_rows(hid_t dataset, const std::string& name, const std::vector<H5Column>& columns) const {
  const hsize_t first = rows(dataset);
  const size_t count = columns.empty() ? 0 : columns.front().rows();
  if (count == 0) return first;
  set_rows(dataset, first + count);
  std::vector<hsize_t> positions(count);
  for (size_t i = 0; i < count; ++i) positions[i] = first + i;
  write_rows(dataset, name, columns, positions);
  return first;
}

void H5Writer::write_elements(hid_t dataset, const std::string& name, hid_t memory_type, const void* data,
                              const std::vector<hsize_t>& positions) const {
  if (positions.empty()) return;
  auto hint = [&] { return fmt::format("Writing {} rows of '{}'. {}", positions.size(), name, kWriteHint); };
  H5Id file_space = select_rows(dataset, name, positions);
  const hsize_t count[1] = {positions.size()};
  H5Id memory_space(ABLATE_H5_CHECK(H5Screate_simple(1, count, nullptr), path_, hint()), H5Sclose);
  const size_t bytes = positions.size() * H5Tget_size(memory_type);
  H5Id transfer = transfer_list(path_, bytes, hint());
  ABLATE_H5_CHECK(H5Dwrite(dataset, memory_type, memory_space, file_space, transfer, data), path_, hint());
}

void H5Writer::write_block(hid_t dataset, const std::string& name, hid_t memory_type, const void* data,
                           hsize_t first, hsize_t count) const {
  if (count == 0) return;
  auto hint = [&] { return fmt::format("Writing {} rows of '{}'. {}", count, name, kWriteHint); };
  H5Id file_space(ABLATE_H5_CHECK(H5Dget_space(dataset), path_, hint()), H5Sclose);
  const hsize_t start[1] = {first}, counts[1] = {count};
  ABLATE_H5_CHECK(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, counts, nullptr), path_, hint());
  H5Id memory_space(ABLATE_H5_CHECK(H5Screate_simple(1, counts, nullptr), path_, hint()), H5Sclose);
  ABLATE_H5_CHECK(H5Dwrite(dataset, memory_type, memory_space, file_space, H5P_DEFAULT, data), path_, hint());
}

}  // namespace ablate
