// IDX files (the Fashion-MNIST on-disk format), raw or gzip-compressed: a strict reader,
// the labelled-image pairs built from them, and where to find the data set. No torch here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ablate {

// A data file that is missing, unreadable or malformed. The message names the file, what is
// wrong with it and, where there is one, the fix; file() is the path it concerns ("" when
// the error is about no single file).
class DataError : public std::runtime_error {
 public:
  explicit DataError(const std::string& message) : std::runtime_error(message) {}
  DataError(std::string file, const std::string& message)
      : std::runtime_error(message), file_(std::move(file)) {}
  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

// Largest data section read_idx accepts by default (2 GiB): Fashion-MNIST's largest file holds
// 47 MB, so a header claiming more is corrupt, and we refuse before allocating anything.
inline constexpr size_t kDefaultMaxIdxBytes = size_t{1} << 31;

// An IDX array of unsigned bytes: dims from outermost to innermost, data in row-major order,
// data.size() == product of dims.
struct IdxArray {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data;
};

// Reads an IDX file of element type unsigned byte (0x08) with 1 to 4 dimensions. The file may
// be gzip-compressed (recognised by its magic bytes 1f 8b, not by its name). Rejects anything
// that is not exactly a header plus the data it declares: truncation, trailing bytes, a corrupt
// gzip stream (checked through its CRC) or a data section larger than max_bytes.
// A dimension of size zero is accepted (an empty array is well-formed IDX); callers that need
// data, like read_labelled_images, reject it with a message of their own.
// Throws DataError.
IdxArray read_idx(const std::string& path, size_t max_bytes = kDefaultMaxIdxBytes);

// The in-memory core of read_idx, with the same checks and gzip detection; name stands in for
// the file name in error messages. Never allocates more than max_bytes, nor more than the
// input could possibly decompress to. Throws DataError.
IdxArray parse_idx(const uint8_t* bytes, size_t size, const std::string& name,
                   size_t max_bytes = kDefaultMaxIdxBytes);

// count images of rows x cols pixels (row-major, image after image) and one label per image.
struct LabelledImages {
  int64_t count = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols
  std::vector<uint8_t> labels;  // count, each < the num_classes they were read with
};

// Reads an images file (3-D) and its labels file (1-D) and checks that they belong together:
// equal counts, at least one image of at least one pixel, every label below num_classes
// (1..256). Throws DataError naming the offending file (and the first bad label's index).
LabelledImages read_labelled_images(const std::string& images_path, const std::string& labels_path,
                                    int num_classes = 10);

// A directory holding the four Fashion-MNIST files, and how it was chosen:
// "--data", "ABLATE_DATA", "debian package" or "./data".
struct DataLocation {
  std::string dir;
  std::string source;
};

// Where the Debian package dataset-fashion-mnist installs the data set.
inline constexpr const char* kDebianFashionMnistDir = "/usr/share/datasets/fashion-mnist";
// The last resort, relative to the working directory (data/ is git-ignored).
inline constexpr const char* kLocalFashionMnistDir = "./data/fashion-mnist";

// The four file names; each may also carry a .gz suffix. Uncompressed files are preferred when
// both exist (someone who ran gunzip wants them read).
inline constexpr const char* kFashionMnistFiles[4] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte"};

// Finds the data set: the --data directory if cli_dir is non-empty, else $ABLATE_DATA if set and
// non-empty, else the Debian package's directory, else ./data/fashion-mnist. A directory chosen
// explicitly (--data, ABLATE_DATA) must hold all four files: we do not silently fall back to
// another copy. Throws DataError listing every place looked at, what was missing there, and how
// to get the data.
DataLocation locate_fashion_mnist(const std::string& cli_dir);

// locate_fashion_mnist with its inputs spelt out, so that tests can control them: env_dir plays
// $ABLATE_DATA (nullptr = unset) and defaults are tried in order after it.
DataLocation locate_fashion_mnist_among(const std::string& cli_dir, const char* env_dir,
                                        const std::vector<DataLocation>& defaults);

// Path of one of kFashionMnistFiles inside dir: the uncompressed file if present, else the .gz
// one, else "" when neither exists.
std::string find_idx_file(const std::string& dir, const std::string& name);

struct FashionMnist {
  LabelledImages train;
  LabelledImages test;
  std::string dir;
};

// locate_fashion_mnist + read_labelled_images for train and test (10 classes), which must have
// the same image size. Throws DataError.
FashionMnist load_fashion_mnist(const std::string& cli_dir);

inline constexpr const char* kFashionClassNames[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

}  // namespace ablate
