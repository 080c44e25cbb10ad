// H5Id: an owning HDF5 identifier (file, group, dataset, dataspace, datatype,
// attribute, property list) that is closed exactly once, when it goes out of scope.
#pragma once

#include <hdf5.h>

#include <utility>

namespace ablate {

class H5Id {
 public:
  using Closer = herr_t (*)(hid_t);

  H5Id() = default;
  H5Id(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  H5Id(H5Id&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(other.closer_) {}
  H5Id& operator=(H5Id&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      closer_ = other.closer_;
    }
    return *this;
  }
  ~H5Id() { reset(); }

  operator hid_t() const { return id_; }  // NOLINT: passes straight into the C API
  hid_t get() const { return id_; }

  // Closes now and returns HDF5's status, for closes whose failure matters (files).
  herr_t close() {
    herr_t status = 0;
    if (id_ >= 0 && closer_) status = closer_(id_);
    id_ = H5I_INVALID_HID;
    return status;
  }

 private:
  void reset() { close(); }

  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

}  // namespace ablate
