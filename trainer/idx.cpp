// IDX reading: byte sources (memory, file, and gzip over either) feeding one strict parser,
// labelled-image pairs built on it, and the search for the Fashion-MNIST directory.
#include "trainer/idx.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

// Throws DataError unless a zlib call returned Z_OK, recording the call and where it was made.
#define ABLATE_CHECK_ZLIB(call) check_zlib((call), #call, __FILE__, __LINE__)

namespace ablate {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
constexpr unsigned kMaxDims = 4;
constexpr size_t kMagicSize = 4;
constexpr uint8_t kGzipMagic[2] = {0x1f, 0x8b};
// Deflate cannot expand data by more than 1032:1 (zlib FAQ). With it, a header that promises
// more than a compressed file could ever decode to is refused before anything is allocated.
constexpr uint64_t kMaxDeflateRatio = 1032;
// Output inflate may hold back between calls (at most one match), plus headroom.
constexpr uint64_t kInflatePendingSlack = 1 << 16;
constexpr size_t kCompressedChunk = 1 << 16;
// inflate counts in uInt; feed it output windows no larger than this.
constexpr size_t kMaxInflateWindow = size_t{1} << 30;

uint64_t saturating_mul(uint64_t a, uint64_t b) {
  uint64_t product = 0;
  return __builtin_mul_overflow(a, b, &product) ? std::numeric_limits<uint64_t>::max() : product;
}

uint64_t saturating_add(uint64_t a, uint64_t b) {
  uint64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<uint64_t>::max() : sum;
}

bool has_gzip_magic(const uint8_t* bytes, size_t size) {
  return size >= 2 && bytes[0] == kGzipMagic[0] && bytes[1] == kGzipMagic[1];
}

const char* idx_type_name(uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "not an IDX type";
  }
}

std::string describe_dims(const std::vector<uint32_t>& dims) {
  return dims.empty() ? std::string("none") : fmt::format("{}", fmt::join(dims, " x "));
}

// A forward-only stream of bytes that throws DataError on I/O or decoding errors.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to n bytes into out; returns fewer than n only at the end of the stream.
  virtual size_t read(uint8_t* out, size_t n) = 0;
  // An upper bound on the bytes still to come; exact for uncompressed sources.
  virtual uint64_t max_remaining() const = 0;
  virtual bool remaining_is_exact() const = 0;
};

class MemorySource : public ByteSource {
 public:
  MemorySource(const uint8_t* bytes, size_t size) : bytes_(bytes), size_(size) {}

  size_t read(uint8_t* out, size_t n) override {
    const size_t count = std::min(n, size_ - position_);
    if (count > 0) std::memcpy(out, bytes_ + position_, count);
    position_ += count;
    return count;
  }
  uint64_t max_remaining() const override { return size_ - position_; }
  bool remaining_is_exact() const override { return true; }

 private:
  const uint8_t* bytes_;
  size_t size_;
  size_t position_ = 0;
};

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// A regular file whose size, known up front, makes max_remaining exact.
class FileSource : public ByteSource {
 public:
  FileSource(std::FILE* file, uint64_t size, std::string path)
      : file_(file), size_(size), path_(std::move(path)) {}

  size_t read(uint8_t* out, size_t n) override {
    const size_t count = n == 0 ? 0 : std::fread(out, 1, n, file_);
    if (count < n && std::ferror(file_)) {
      throw DataError(path_, fmt::format("{}: read error after {} bytes: {}", path_,
                                         consumed_ + count, std::strerror(errno)));
    }
    consumed_ += count;
    return count;
  }
  uint64_t max_remaining() const override { return consumed_ < size_ ? size_ - consumed_ : 0; }
  bool remaining_is_exact() const override { return true; }

 private:
  std::FILE* file_;
  uint64_t size_;
  std::string path_;
  uint64_t consumed_ = 0;
};

// Decompresses a gzip file (one or more members, as gunzip accepts) from another source.
// Truncation, corruption (including a CRC or length mismatch in a member's trailer) and
// non-gzip bytes after the last member are errors.
class GzipSource : public ByteSource {
 public:
  GzipSource(ByteSource& compressed, std::string name)
      : compressed_(compressed), name_(std::move(name)), input_(kCompressedChunk) {
    // 15 + 16: the largest window, and expect a gzip (not zlib) wrapper.
    ABLATE_CHECK_ZLIB(inflateInit2(&stream_, 15 + 16));
  }
  ~GzipSource() override { inflateEnd(&stream_); }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  size_t read(uint8_t* out, size_t n) override {
    size_t produced = 0;
    while (produced < n && !finished_) {
      const size_t window = std::min(n - produced, kMaxInflateWindow);
      stream_.next_out = out + produced;
      stream_.avail_out = static_cast<uInt>(window);
      inflate_into_window();
      produced += window - stream_.avail_out;
    }
    return produced;
  }

  uint64_t max_remaining() const override {
    if (finished_) return 0;
    const uint64_t compressed_left = saturating_add(compressed_.max_remaining(), stream_.avail_in);
    return saturating_add(saturating_mul(compressed_left, kMaxDeflateRatio), kInflatePendingSlack);
  }
  bool remaining_is_exact() const override { return false; }

 private:
  // Inflates until the output window is full or the last member has ended.
  void inflate_into_window() {
    while (stream_.avail_out > 0) {
      if (stream_.avail_in == 0 && refill(1) == 0) {
        throw DataError(name_, fmt::format(
            "{}: the gzip stream is truncated: it ends after {} compressed bytes, before its "
            "end-of-stream marker; the file is incomplete: re-download it",
            name_, compressed_consumed()));
      }
      const int status = inflate(&stream_, Z_NO_FLUSH);
      if (status == Z_STREAM_END) {
        end_member();
        if (finished_) return;
        continue;
      }
      if (status == Z_OK) continue;
      if (status == Z_DATA_ERROR || status == Z_NEED_DICT) {
        throw DataError(name_, fmt::format(
            "{}: the gzip data is corrupt near compressed byte {} (zlib: {}); the file is "
            "damaged: re-download it",
            name_, compressed_consumed(), stream_.msg != nullptr ? stream_.msg : "invalid data"));
      }
      // Z_BUF_ERROR cannot happen with input and output space both available; Z_MEM_ERROR
      // and Z_STREAM_ERROR are not about the data.
      check_zlib(status, "inflate(&stream_, Z_NO_FLUSH)", __FILE__, __LINE__);
    }
  }

  // One member ended (its CRC and length already checked by inflate). Another member may
  // follow; anything else is garbage that gunzip would only warn about, and we refuse.
  void end_member() {
    if (stream_.avail_in < 2) refill(2);
    if (stream_.avail_in == 0) {
      finished_ = true;
      return;
    }
    if (!has_gzip_magic(stream_.next_in, stream_.avail_in)) {
      throw DataError(name_, fmt::format(
          "{}: unexpected trailing bytes after the end of the gzip stream (at compressed byte "
          "{}); the file is corrupt: re-download it",
          name_, compressed_consumed()));
    }
    ABLATE_CHECK_ZLIB(inflateReset(&stream_));
  }

  // Tops the input buffer up so that at least `want` bytes are available where the source
  // has them; returns the number of bytes added.
  size_t refill(size_t want) {
    if (stream_.avail_in > 0 && stream_.next_in != input_.data()) {
      std::memmove(input_.data(), stream_.next_in, stream_.avail_in);
    }
    size_t added = 0;
    while (stream_.avail_in + added < want) {
      const size_t got = compressed_.read(input_.data() + stream_.avail_in + added,
                                          input_.size() - stream_.avail_in - added);
      if (got == 0) break;
      added += got;
    }
    read_total_ += added;
    stream_.next_in = input_.data();
    stream_.avail_in += static_cast<uInt>(added);
    return added;
  }

  uint64_t compressed_consumed() const { return read_total_ - stream_.avail_in; }

  void check_zlib(int status, const char* call, const char* source_file, int source_line) {
    if (status == Z_OK) return;
    const char* reason = status == Z_MEM_ERROR ? "out of memory" : zError(status);
    throw DataError(name_, fmt::format("{}: zlib call {} failed: {} (status {}) at {}:{}", name_,
                                       call, reason, status, source_file, source_line));
  }

  ByteSource& compressed_;
  std::string name_;
  std::vector<uint8_t> input_;
  z_stream stream_{};
  uint64_t read_total_ = 0;
  bool finished_ = false;
};

// Reads exactly header + data from source and insists that nothing follows.
IdxArray parse_source(ByteSource& source, const std::string& name, size_t max_bytes) {
  std::array<uint8_t, kMagicSize> magic{};
  const size_t magic_read = source.read(magic.data(), magic.size());
  if (magic_read == 0) {
    throw DataError(name, fmt::format(
        "{}: the file is empty; expected an IDX file (a download that failed?): re-download it",
        name));
  }
  if (magic_read < kMagicSize) {
    throw DataError(name, fmt::format(
        "{}: the file is only {} byte(s) long; an IDX file starts with a 4-byte magic number "
        "(00 00 type ndims)",
        name, magic_read));
  }
  if (magic[0] != 0 || magic[1] != 0) {
    throw DataError(name, fmt::format(
        "{}: not an IDX file: bad magic number {:02x} {:02x} {:02x} {:02x} (an IDX file starts "
        "with two zero bytes, then its element type and number of dimensions)",
        name, magic[0], magic[1], magic[2], magic[3]));
  }
  if (magic[2] != kUnsignedByteType) {
    throw DataError(name, fmt::format(
        "{}: unsupported IDX element type 0x{:02x} ({}); ablate reads only unsigned-byte IDX "
        "files (type 0x08), which is how Fashion-MNIST ships",
        name, magic[2], idx_type_name(magic[2])));
  }
  const unsigned dim_count = magic[3];
  if (dim_count == 0 || dim_count > kMaxDims) {
    throw DataError(name, fmt::format(
        "{}: bad number of dimensions {} in the IDX header; expected 1 to {} (images have 3, "
        "labels 1)",
        name, dim_count, kMaxDims));
  }

  std::array<uint8_t, 4 * kMaxDims> dim_bytes{};
  const size_t dim_bytes_read = source.read(dim_bytes.data(), 4 * dim_count);
  if (dim_bytes_read < 4 * dim_count) {
    throw DataError(name, fmt::format(
        "{}: the IDX header is truncated: {} dimensions need a {}-byte header but the file ends "
        "after {} bytes",
        name, dim_count, kMagicSize + 4 * dim_count, kMagicSize + dim_bytes_read));
  }
  IdxArray array;
  // Exact even for four dimensions of 2^32 - 1: their product is below 2^128.
  unsigned __int128 element_count = 1;
  for (unsigned i = 0; i < dim_count; ++i) {
    const uint8_t* b = &dim_bytes[4 * i];
    const uint32_t dim = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) |
                         uint32_t{b[3]};
    array.dims.push_back(dim);
    element_count *= dim;
  }
  const std::string dims_text = describe_dims(array.dims);
  if (element_count > max_bytes) {
    const std::string count_text =
        element_count > std::numeric_limits<uint64_t>::max()
            ? std::string("more than 2^64")
            : fmt::format("{}", static_cast<uint64_t>(element_count));
    throw DataError(name, fmt::format(
        "{}: the IDX header claims dimensions {} = {} bytes of data, more than the limit of {} "
        "bytes; the header is corrupt",
        name, dims_text, count_text, max_bytes));
  }
  const size_t data_size = static_cast<size_t>(element_count);
  const size_t header_size = kMagicSize + 4 * dim_count;

  // Decide from sizes alone where possible, so that a lying header costs no allocation.
  const uint64_t available = source.max_remaining();
  if (data_size > available) {
    if (source.remaining_is_exact()) {
      throw DataError(name, fmt::format(
          "{}: the data is truncated: the header (dimensions {}) promises {} bytes after the "
          "{}-byte header but only {} follow; the file is incomplete: re-download it",
          name, dims_text, data_size, header_size, available));
    }
    throw DataError(name, fmt::format(
        "{}: the data is truncated: the header (dimensions {}) promises {} bytes, more than "
        "this compressed file can possibly hold; the file is incomplete or corrupt: "
        "re-download it",
        name, dims_text, data_size));
  }
  if (source.remaining_is_exact() && available > data_size) {
    throw DataError(name, fmt::format(
        "{}: {} unexpected trailing bytes after the {} data bytes that the header (dimensions "
        "{}) declares; the file is corrupt or not what its header says",
        name, available - data_size, data_size, dims_text));
  }

  array.data.resize(data_size);
  const size_t data_read = source.read(array.data.data(), data_size);
  if (data_read < data_size) {
    throw DataError(name, fmt::format(
        "{}: the data is truncated: the header (dimensions {}) promises {} bytes but only {} "
        "follow; the file is incomplete: re-download it",
        name, dims_text, data_size, data_read));
  }
  // Reading past the end also makes a gzip source check its trailer (CRC and length).
  uint8_t extra = 0;
  if (source.read(&extra, 1) != 0) {
    throw DataError(name, fmt::format(
        "{}: unexpected trailing bytes after the {} data bytes that the header (dimensions {}) "
        "declares; the file is corrupt or not what its header says",
        name, data_size, dims_text));
  }
  return array;
}

std::string join_path(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

// What keeps dir from holding the data set: "" when it holds all four files.
std::string what_dir_lacks(const std::string& dir) {
  std::error_code error;
  if (!std::filesystem::exists(dir, error)) return "does not exist";
  if (!std::filesystem::is_directory(dir, error)) return "is not a directory";
  std::vector<std::string> missing;
  for (const char* name : kFashionMnistFiles) {
    if (find_idx_file(dir, name).empty()) missing.push_back(fmt::format("{}(.gz)", name));
  }
  if (missing.empty()) return "";
  return fmt::format("lacks {}", fmt::join(missing, ", "));
}

std::string how_to_get_fashion_mnist() {
  return fmt::format(
      "To get the data: `sudo apt-get install dataset-fashion-mnist` (installs it in {}), or "
      "pass --data DIR or set ABLATE_DATA=DIR, where DIR holds {} (each may be gzip-compressed)",
      kDebianFashionMnistDir, fmt::join(kFashionMnistFiles, ", "));
}

DataLocation require_explicit_dir(const std::string& dir, const std::string& source) {
  const std::string lack = what_dir_lacks(dir);
  if (lack.empty()) return {dir, source};
  throw DataError(dir, fmt::format("{} {}: the Fashion-MNIST directory {}. {}", source, dir, lack,
                                   how_to_get_fashion_mnist()));
}

}  // namespace

IdxArray parse_idx(const uint8_t* bytes, size_t size, const std::string& name,
                   size_t max_bytes) {
  if (bytes == nullptr) size = 0;
  MemorySource memory(bytes, size);
  if (has_gzip_magic(bytes, size)) {
    GzipSource gzip(memory, name);
    return parse_source(gzip, name, max_bytes);
  }
  return parse_source(memory, name, max_bytes);
}

IdxArray read_idx(const std::string& path, size_t max_bytes) {
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    const int error = errno;
    const char* hint = error == ENOENT ? "; check the path (see --data / ABLATE_DATA)" : "";
    throw DataError(path, fmt::format("{}: cannot open the file: {}{}", path,
                                      std::strerror(error), hint));
  }
  struct stat info {};
  if (fstat(fileno(file.get()), &info) != 0) {
    throw DataError(path, fmt::format("{}: cannot stat the file: {}", path, std::strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) {
    throw DataError(path, fmt::format("{}: not a regular file (a directory?); expected an IDX "
                                      "file, raw or gzip-compressed",
                                      path));
  }
  FileSource raw(file.get(), static_cast<uint64_t>(info.st_size), path);
  uint8_t head[2] = {0, 0};
  const size_t head_size = raw.read(head, sizeof head);
  if (std::fseek(file.get(), 0, SEEK_SET) != 0) {
    throw DataError(path, fmt::format("{}: cannot seek: {}", path, std::strerror(errno)));
  }
  FileSource source(file.get(), static_cast<uint64_t>(info.st_size), path);
  if (has_gzip_magic(head, head_size)) {
    GzipSource gzip(source, path);
    return parse_source(gzip, path, max_bytes);
  }
  return parse_source(source, path, max_bytes);
}

LabelledImages read_labelled_images(const std::string& images_path, const std::string& labels_path,
                                    int num_classes) {
  if (num_classes < 1 || num_classes > 256) {
    throw std::invalid_argument(fmt::format(
        "read_labelled_images: num_classes must be 1..256 for byte labels, got {}", num_classes));
  }
  IdxArray images = read_idx(images_path);
  IdxArray labels = read_idx(labels_path);
  if (images.dims.size() != 3) {
    throw DataError(images_path, fmt::format(
        "{}: expected an images file with 3 dimensions (count x rows x cols), got dimensions {}; "
        "is it a labels file?",
        images_path, describe_dims(images.dims)));
  }
  if (labels.dims.size() != 1) {
    throw DataError(labels_path, fmt::format(
        "{}: expected a labels file with 1 dimension (count), got dimensions {}; is it an "
        "images file?",
        labels_path, describe_dims(labels.dims)));
  }
  if (images.dims[0] == 0) {
    throw DataError(images_path, fmt::format("{}: the file holds no images (dimensions {})",
                                             images_path, describe_dims(images.dims)));
  }
  if (images.dims[1] == 0 || images.dims[2] == 0) {
    throw DataError(images_path, fmt::format(
        "{}: images of {} x {} pixels are empty; rows and cols must be positive", images_path,
        images.dims[1], images.dims[2]));
  }
  if (labels.dims[0] != images.dims[0]) {
    throw DataError(labels_path, fmt::format(
        "{}: holds {} labels but {} holds {} images; the counts must agree (are these files "
        "from the same split, e.g. both train- or both t10k-?)",
        labels_path, labels.dims[0], images_path, images.dims[0]));
  }
  for (size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= num_classes) {
      throw DataError(labels_path, fmt::format(
          "{}: label {} at index {} is out of range 0..{} ({} classes); is this the labels file "
          "of another data set?",
          labels_path, labels.data[i], i, num_classes - 1, num_classes));
    }
  }
  LabelledImages result;
  result.count = images.dims[0];
  result.rows = images.dims[1];
  result.cols = images.dims[2];
  result.pixels = std::move(images.data);
  result.labels = std::move(labels.data);
  return result;
}

std::string find_idx_file(const std::string& dir, const std::string& name) {
  std::error_code error;
  for (const std::string& candidate : {join_path(dir, name), join_path(dir, name + ".gz")}) {
    if (std::filesystem::is_regular_file(candidate, error)) return candidate;
  }
  return "";
}

DataLocation locate_fashion_mnist_among(const std::string& cli_dir, const char* env_dir,
                                        const std::vector<DataLocation>& defaults) {
  if (!cli_dir.empty()) return require_explicit_dir(cli_dir, "--data");
  if (env_dir != nullptr && *env_dir != '\0') return require_explicit_dir(env_dir, "ABLATE_DATA");
  std::vector<std::string> looked;
  looked.push_back("  --data: not given");
  looked.push_back("  ABLATE_DATA: not set");
  for (const DataLocation& location : defaults) {
    const std::string lack = what_dir_lacks(location.dir);
    if (lack.empty()) return location;
    looked.push_back(fmt::format("  {} ({}): {}", location.dir, location.source, lack));
  }
  throw DataError("", fmt::format("Fashion-MNIST not found. Looked at:\n{}\n{}",
                                  fmt::join(looked, "\n"), how_to_get_fashion_mnist()));
}

DataLocation locate_fashion_mnist(const std::string& cli_dir) {
  return locate_fashion_mnist_among(cli_dir, std::getenv("ABLATE_DATA"),
                                    {{kDebianFashionMnistDir, "debian package"},
                                     {kLocalFashionMnistDir, "./data"}});
}

FashionMnist load_fashion_mnist(const std::string& cli_dir) {
  FashionMnist data;
  data.dir = locate_fashion_mnist(cli_dir).dir;
  const auto path = [&](const char* name) { return find_idx_file(data.dir, name); };
  data.train = read_labelled_images(path(kFashionMnistFiles[0]), path(kFashionMnistFiles[1]));
  const std::string test_images = path(kFashionMnistFiles[2]);
  data.test = read_labelled_images(test_images, path(kFashionMnistFiles[3]));
  if (data.test.rows != data.train.rows || data.test.cols != data.train.cols) {
    throw DataError(test_images, fmt::format(
        "{}: test images are {} x {} pixels but training images are {} x {}; both must come "
        "from the same data set",
        test_images, data.test.rows, data.test.cols, data.train.rows, data.train.cols));
  }
  return data;
}

}  // namespace ablate
