// Tests of trainer/idx: valid raw and gzip IDX files, a catalogue of malformed ones, the
// Fashion-MNIST search order, and the real data set in /usr/share/datasets/fashion-mnist.
#include "trainer/idx.hpp"

#include <catch2/catch.hpp>
#include <stdlib.h>
#include <sys/resource.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

namespace {

using ablate::DataError;
using Bytes = std::vector<uint8_t>;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

constexpr uint8_t kUbyte = 0x08;

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "ablate-test-idx-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

Bytes idx_bytes(uint8_t type, const std::vector<uint32_t>& dims, const Bytes& data) {
  Bytes out = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<uint8_t>(d >> shift));
  }
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes ubyte_idx(const std::vector<uint32_t>& dims, const Bytes& data) {
  return idx_bytes(kUbyte, dims, data);
}

void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Compresses with zlib's own gzip writer, as `gzip` would.
Bytes gzip(const Bytes& bytes) {
  TempDir dir;
  const std::string path = dir / "data.gz";
  gzFile file = gzopen(path.c_str(), "wb9");
  REQUIRE(file != nullptr);
  if (!bytes.empty()) {
    REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
            static_cast<int>(bytes.size()));
  }
  REQUIRE(gzclose(file) == Z_OK);
  return read_file(path);
}

// Deterministic pixels that deflate cannot squeeze to nothing.
Bytes noise(size_t count, uint32_t seed) {
  Bytes out(count);
  for (auto& b : out) {
    seed = seed * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(seed >> 24);
  }
  return out;
}

// The message of the DataError that fn throws; fails the test if it throws nothing or
// something else.
std::string data_error_message(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const DataError& e) {
    return e.what();
  }
  FAIL("expected a DataError");
  return "";
}

std::string read_idx_error(const std::string& path, size_t max_bytes = ablate::kDefaultMaxIdxBytes) {
  return data_error_message([&] { ablate::read_idx(path, max_bytes); });
}

// Writes bytes to dir/name, then checks that reading it fails naming the file and the problem.
void check_rejected(const TempDir& dir, const std::string& name, const Bytes& bytes,
                    const std::vector<std::string>& problem) {
  const std::string path = dir / name;
  write_file(path, bytes);
  const std::string message = read_idx_error(path);
  INFO("file " << name << ": " << message);
  CHECK_THAT(message, Contains(path));
  for (const std::string& part : problem) CHECK_THAT(message, Contains(part));
  // The in-memory core says the same about the same bytes.
  const std::string core =
      data_error_message([&] { ablate::parse_idx(bytes.data(), bytes.size(), name); });
  for (const std::string& part : problem) CHECK_THAT(core, Contains(part));
}

// The peak resident memory of this process so far, in bytes.
uint64_t peak_resident_bytes() {
  rusage usage{};
  REQUIRE(getrusage(RUSAGE_SELF, &usage) == 0);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

// Restores an environment variable at scope exit.
class EnvGuard {
 public:
  explicit EnvGuard(const char* name) : name_(name) {
    if (const char* value = std::getenv(name)) saved_ = value;
  }
  ~EnvGuard() {
    if (saved_) {
      setenv(name_, saved_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

// Creates the four Fashion-MNIST file names in dir (contents irrelevant to the search).
void touch_fashion_files(const std::string& dir, bool gzipped = false) {
  fs::create_directories(dir);
  for (const char* name : ablate::kFashionMnistFiles) {
    write_file((fs::path(dir) / (std::string(name) + (gzipped ? ".gz" : ""))).string(), {});
  }
}

// 2 images of 2 x 3 pixels with known values, and their labels.
const Bytes kPixels = {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255};
const Bytes kLabels = {9, 0};

}  // namespace

TEST_CASE("read_idx reads raw uint8 files with known contents", "[idx]") {
  TempDir dir;
  write_file(dir / "images", ubyte_idx({2, 2, 3}, kPixels));
  write_file(dir / "labels", ubyte_idx({2}, kLabels));

  const ablate::IdxArray images = ablate::read_idx(dir / "images");
  CHECK(images.dims == std::vector<uint32_t>{2, 2, 3});
  CHECK(images.data == kPixels);
  const ablate::IdxArray labels = ablate::read_idx(dir / "labels");
  CHECK(labels.dims == std::vector<uint32_t>{2});
  CHECK(labels.data == kLabels);

  SECTION("dimensions are big-endian and up to four are allowed") {
    const Bytes data = noise(2 * 1 * 3 * 258, 7);
    write_file(dir / "four", ubyte_idx({2, 1, 3, 258}, data));
    const ablate::IdxArray four = ablate::read_idx(dir / "four");
    CHECK(four.dims == std::vector<uint32_t>{2, 1, 3, 258});
    CHECK(four.data == data);
  }
}

TEST_CASE("read_idx reads gzip files, recognised by content rather than name", "[idx]") {
  TempDir dir;
  const Bytes data = noise(3 * 28 * 28, 1);
  const Bytes raw = ubyte_idx({3, 28, 28}, data);
  write_file(dir / "images.gz", gzip(raw));
  write_file(dir / "images-no-suffix", gzip(raw));
  write_file(dir / "raw-with-gz-suffix.gz", raw);

  for (const char* name : {"images.gz", "images-no-suffix", "raw-with-gz-suffix.gz"}) {
    INFO(name);
    const ablate::IdxArray array = ablate::read_idx(dir / name);
    CHECK(array.dims == std::vector<uint32_t>{3, 28, 28});
    CHECK(array.data == data);
  }

  SECTION("a gzip file of several members reads as their concatenation, as gunzip does") {
    Bytes two_members = gzip(Bytes(raw.begin(), raw.begin() + 1000));
    const Bytes second = gzip(Bytes(raw.begin() + 1000, raw.end()));
    two_members.insert(two_members.end(), second.begin(), second.end());
    write_file(dir / "two-members.gz", two_members);
    CHECK(ablate::read_idx(dir / "two-members.gz").data == data);
  }
}

TEST_CASE("parse_idx reads raw and gzip bytes in memory", "[idx]") {
  const Bytes raw = ubyte_idx({2, 2, 3}, kPixels);
  const ablate::IdxArray from_raw = ablate::parse_idx(raw.data(), raw.size(), "mem");
  CHECK(from_raw.dims == std::vector<uint32_t>{2, 2, 3});
  CHECK(from_raw.data == kPixels);
  const Bytes gz = gzip(raw);
  const ablate::IdxArray from_gz = ablate::parse_idx(gz.data(), gz.size(), "mem.gz");
  CHECK(from_gz.dims == from_raw.dims);
  CHECK(from_gz.data == kPixels);
  // A null pointer is an empty input, not a crash.
  CHECK_THAT(data_error_message([] { ablate::parse_idx(nullptr, 5, "null"); }),
             Contains("null: the file is empty"));
}

TEST_CASE("a zero dimension is a well-formed empty array, but not a data set", "[idx]") {
  // The IDX format allows it; whether an empty array is usable is the caller's business.
  TempDir dir;
  write_file(dir / "images", ubyte_idx({0, 28, 28}, {}));
  write_file(dir / "labels", ubyte_idx({0}, {}));
  const ablate::IdxArray empty = ablate::read_idx(dir / "images");
  CHECK(empty.dims == std::vector<uint32_t>{0, 28, 28});
  CHECK(empty.data.empty());
  // A zero among huge dimensions is still zero bytes, not an overflow.
  const Bytes zero_product = ubyte_idx({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0}, {});
  CHECK(ablate::parse_idx(zero_product.data(), zero_product.size(), "z").data.empty());

  const std::string message = data_error_message(
      [&] { ablate::read_labelled_images(dir / "images", dir / "labels"); });
  CHECK_THAT(message, Contains(dir / "images"));
  CHECK_THAT(message, Contains("holds no images"));

  write_file(dir / "flat-images", ubyte_idx({2, 0, 28}, {}));
  write_file(dir / "two-labels", ubyte_idx({2}, {1, 2}));
  const std::string flat = data_error_message(
      [&] { ablate::read_labelled_images(dir / "flat-images", dir / "two-labels"); });
  CHECK_THAT(flat, Contains(dir / "flat-images"));
  CHECK_THAT(flat, Contains("0 x 28 pixels are empty"));
}

TEST_CASE("malformed IDX files are rejected with the file name and the problem", "[idx]") {
  TempDir dir;
  check_rejected(dir, "empty", {}, {"the file is empty"});
  check_rejected(dir, "three-bytes", {0, 0, 8}, {"only 3 byte(s) long", "4-byte magic"});
  check_rejected(dir, "wrong-magic", {0x01, 0x00, 0x08, 0x01, 0, 0, 0, 1, 7},
                 {"not an IDX file", "bad magic number 01 00 08 01"});
  check_rejected(dir, "text-file", {'h', 'e', 'l', 'l', 'o', '\n'},
                 {"bad magic number 68 65 6c 6c"});
  check_rejected(dir, "float-type", idx_bytes(0x0D, {1}, {0, 0, 0, 0}),
                 {"unsupported IDX element type 0x0d (float32)", "type 0x08"});
  check_rejected(dir, "unknown-type", idx_bytes(0x42, {1}, {0}),
                 {"element type 0x42 (not an IDX type)"});
  check_rejected(dir, "zero-dims", {0, 0, 8, 0}, {"bad number of dimensions 0", "1 to 4"});
  check_rejected(dir, "five-dims", ubyte_idx({1, 1, 1, 1, 1}, {7}),
                 {"bad number of dimensions 5"});
  check_rejected(dir, "truncated-header", {0, 0, 8, 3, 0, 0, 0, 2, 0, 0},
                 {"header is truncated", "3 dimensions need a 16-byte header",
                  "ends after 10 bytes"});
  check_rejected(dir, "truncated-data", ubyte_idx({10}, {1, 2, 3, 4, 5, 6, 7}),
                 {"data is truncated", "promises 10 bytes", "only 7 follow"});
  check_rejected(dir, "trailing-bytes", ubyte_idx({3}, {1, 2, 3, 4, 5}),
                 {"2 unexpected trailing bytes after the 3 data bytes", "dimensions 3"});
  check_rejected(dir, "huge-dims", ubyte_idx({0xFFFFFFFF}, {}),
                 {"dimensions 4294967295 = 4294967295 bytes", "more than the limit of 2147483648"});
  check_rejected(dir, "overflowing-dims",
                 ubyte_idx({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, {}),
                 {"more than 2^64 bytes", "header is corrupt"});
  check_rejected(dir, "product-overflows-32-bits", ubyte_idx({65536, 65536}, {1}),
                 {"65536 x 65536 = 4294967296 bytes"});
}

TEST_CASE("a header that lies about its size allocates nothing large", "[idx]") {
  // Within the 2 GiB limit but far beyond the input: must be refused from sizes alone.
  const Bytes raw = ubyte_idx({1u << 30}, {1, 2, 3});
  const Bytes gz = gzip(ubyte_idx({1u << 30}, Bytes(10, 0)));
  // Allocating (and zero-filling) the promised 1 GiB would raise the peak by about that much.
  const uint64_t peak_before = peak_resident_bytes();
  CHECK_THAT(data_error_message([&] { ablate::parse_idx(raw.data(), raw.size(), "raw"); }),
             Contains("promises 1073741824 bytes after the 8-byte header but only 3 follow"));
  CHECK_THAT(data_error_message([&] { ablate::parse_idx(gz.data(), gz.size(), "gz"); }),
             Contains("more than this compressed file can possibly hold"));
  CHECK(peak_resident_bytes() - peak_before < (uint64_t{64} << 20));

  SECTION("max_bytes is the caller's limit") {
    const Bytes small = ubyte_idx({2, 2, 3}, kPixels);
    CHECK_THAT(data_error_message([&] { ablate::parse_idx(small.data(), small.size(), "s", 11); }),
               Contains("12 bytes of data, more than the limit of 11 bytes"));
    CHECK(ablate::parse_idx(small.data(), small.size(), "s", 12).data == kPixels);
  }
}

TEST_CASE("truncated, corrupt or padded gzip files are detected", "[idx]") {
  TempDir dir;
  const Bytes raw = ubyte_idx({4, 28, 28}, noise(4 * 28 * 28, 3));
  const Bytes gz = gzip(raw);
  REQUIRE(gz.size() > 1000);

  SECTION("cut in the middle of the deflate data") {
    check_rejected(dir, "half.gz", Bytes(gz.begin(), gz.begin() + gz.size() / 2),
                   {"gzip stream is truncated", "re-download"});
  }
  SECTION("only the 8-byte trailer (CRC and length) is missing") {
    check_rejected(dir, "no-trailer.gz", Bytes(gz.begin(), gz.end() - 8),
                   {"gzip stream is truncated", "ends after"});
  }
  SECTION("just the gzip magic") {
    check_rejected(dir, "magic-only.gz", {0x1f, 0x8b}, {"gzip stream is truncated"});
  }
  SECTION("bytes flipped in the middle of the deflate data") {
    Bytes corrupt = gz;
    for (size_t i = gz.size() / 2; i < gz.size() / 2 + 4; ++i) corrupt[i] ^= 0xFF;
    check_rejected(dir, "flipped.gz", corrupt, {"gzip data is corrupt", "re-download"});
  }
  SECTION("a wrong CRC in the trailer") {
    Bytes corrupt = gz;
    corrupt[gz.size() - 6] ^= 0x01;
    check_rejected(dir, "bad-crc.gz", corrupt, {"gzip data is corrupt", "incorrect data check"});
  }
  SECTION("a wrong length in the trailer") {
    Bytes corrupt = gz;
    corrupt[gz.size() - 4] ^= 0x01;
    check_rejected(dir, "bad-length.gz", corrupt,
                   {"gzip data is corrupt", "incorrect length check"});
  }
  SECTION("garbage after the gzip stream") {
    Bytes padded = gz;
    padded.insert(padded.end(), {'j', 'u', 'n', 'k'});
    check_rejected(dir, "junk-after.gz", padded,
                   {"unexpected trailing bytes after the end of the gzip stream"});
  }
  SECTION("a valid gzip stream holding a malformed IDX file") {
    check_rejected(dir, "trailing-inside.gz", gzip(ubyte_idx({3}, {1, 2, 3, 4})),
                   {"unexpected trailing bytes after the 3 data bytes"});
    check_rejected(dir, "short-inside.gz", gzip(ubyte_idx({3}, {1, 2})),
                   {"data is truncated", "promises 3 bytes but only 2 follow"});
    check_rejected(dir, "wrong-type-inside.gz", gzip(idx_bytes(0x0C, {1}, {0, 0, 0, 1})),
                   {"element type 0x0c (int32)"});
  }
}

TEST_CASE("files that cannot be opened are named with the reason", "[idx]") {
  TempDir dir;
  const std::string missing = dir / "no-such-file";
  const std::string message = read_idx_error(missing);
  CHECK_THAT(message, Contains(missing));
  CHECK_THAT(message, Contains("No such file or directory"));
  CHECK_THAT(read_idx_error(dir.str()), Contains("not a regular file"));
}

TEST_CASE("read_labelled_images pairs images with labels and checks them", "[idx]") {
  TempDir dir;
  write_file(dir / "images.gz", gzip(ubyte_idx({2, 2, 3}, kPixels)));
  write_file(dir / "labels", ubyte_idx({2}, kLabels));
  const ablate::LabelledImages set = ablate::read_labelled_images(dir / "images.gz", dir / "labels");
  CHECK(set.count == 2);
  CHECK(set.rows == 2);
  CHECK(set.cols == 3);
  CHECK(set.pixels == kPixels);
  CHECK(set.labels == kLabels);

  SECTION("a label out of range names the first bad index and value") {
    write_file(dir / "bad-labels", ubyte_idx({2}, {3, 10}));
    const std::string message = data_error_message(
        [&] { ablate::read_labelled_images(dir / "images.gz", dir / "bad-labels"); });
    CHECK_THAT(message, Contains(dir / "bad-labels"));
    CHECK_THAT(message, Contains("label 10 at index 1 is out of range 0..9"));
    // With more classes the same labels are fine; with fewer the first label already fails.
    CHECK(ablate::read_labelled_images(dir / "images.gz", dir / "bad-labels", 11).labels ==
          Bytes{3, 10});
    CHECK_THAT(data_error_message([&] {
                 ablate::read_labelled_images(dir / "images.gz", dir / "bad-labels", 3);
               }),
               Contains("label 3 at index 0 is out of range 0..2"));
  }
  SECTION("image and label counts must agree") {
    write_file(dir / "three-labels", ubyte_idx({3}, {1, 2, 3}));
    const std::string message = data_error_message(
        [&] { ablate::read_labelled_images(dir / "images.gz", dir / "three-labels"); });
    CHECK_THAT(message, Contains(dir / "three-labels"));
    CHECK_THAT(message, Contains("holds 3 labels but " + (dir / "images.gz") + " holds 2 images"));
  }
  SECTION("images and labels swapped") {
    const std::string message = data_error_message(
        [&] { ablate::read_labelled_images(dir / "labels", dir / "images.gz"); });
    CHECK_THAT(message, Contains(dir / "labels"));
    CHECK_THAT(message, Contains("expected an images file with 3 dimensions"));
    write_file(dir / "more-images", ubyte_idx({2, 2, 3}, kPixels));
    CHECK_THAT(data_error_message([&] {
                 ablate::read_labelled_images(dir / "images.gz", dir / "more-images");
               }),
               Contains("expected a labels file with 1 dimension (count), got dimensions 2 x 2 x 3"));
  }
  SECTION("num_classes must fit a byte") {
    CHECK_THROWS_AS(ablate::read_labelled_images(dir / "images.gz", dir / "labels", 0),
                    std::invalid_argument);
    CHECK_THROWS_AS(ablate::read_labelled_images(dir / "images.gz", dir / "labels", 257),
                    std::invalid_argument);
  }
}

TEST_CASE("the Fashion-MNIST search order is --data, ABLATE_DATA, then the defaults", "[idx]") {
  TempDir root;
  const std::string cli = root / "cli";
  const std::string env = root / "env";
  const std::string system = root / "system";
  const std::string local = root / "local";
  touch_fashion_files(cli);
  touch_fashion_files(env, /*gzipped=*/true);
  touch_fashion_files(system);
  touch_fashion_files(local);
  const std::vector<ablate::DataLocation> defaults = {{system, "debian package"},
                                                      {local, "./data"}};

  using ablate::locate_fashion_mnist_among;
  CHECK(locate_fashion_mnist_among(cli, env.c_str(), defaults).dir == cli);
  CHECK(locate_fashion_mnist_among(cli, env.c_str(), defaults).source == "--data");
  CHECK(locate_fashion_mnist_among("", env.c_str(), defaults).dir == env);
  CHECK(locate_fashion_mnist_among("", env.c_str(), defaults).source == "ABLATE_DATA");
  CHECK(locate_fashion_mnist_among("", nullptr, defaults).dir == system);
  CHECK(locate_fashion_mnist_among("", "", defaults).source == "debian package");

  SECTION("an incomplete default is skipped; a missing explicit choice is an error") {
    fs::remove(fs::path(system) / "t10k-labels-idx1-ubyte");
    CHECK(locate_fashion_mnist_among("", nullptr, defaults).dir == local);
    CHECK(locate_fashion_mnist_among("", nullptr, defaults).source == "./data");

    const std::string message =
        data_error_message([&] { locate_fashion_mnist_among(system, env.c_str(), defaults); });
    CHECK_THAT(message, Contains("--data " + system));
    CHECK_THAT(message, Contains("lacks t10k-labels-idx1-ubyte(.gz)"));
    CHECK_THAT(message, Contains("sudo apt-get install dataset-fashion-mnist"));
    CHECK_THAT(data_error_message([&] { locate_fashion_mnist_among("", system.c_str(), {}); }),
               Contains("ABLATE_DATA " + system));
  }
  SECTION("nothing found lists every place looked at and how to get the data") {
    const std::string message = data_error_message([&] {
      locate_fashion_mnist_among("", nullptr, {{root / "nowhere", "debian package"},
                                               {root / "cli/train-images-idx3-ubyte", "./data"}});
    });
    CHECK_THAT(message, Contains("Fashion-MNIST not found"));
    CHECK_THAT(message, Contains(root / "nowhere" + " (debian package): does not exist"));
    CHECK_THAT(message, Contains("(./data): is not a directory"));
    CHECK_THAT(message, Contains("sudo apt-get install dataset-fashion-mnist"));
    CHECK_THAT(message, Contains("--data DIR or set ABLATE_DATA=DIR"));
  }
  SECTION("uncompressed files win over .gz ones") {
    touch_fashion_files(cli, /*gzipped=*/true);
    CHECK(ablate::find_idx_file(cli, "train-images-idx3-ubyte") ==
          (fs::path(cli) / "train-images-idx3-ubyte").string());
    CHECK(ablate::find_idx_file(env, "train-images-idx3-ubyte") ==
          (fs::path(env) / "train-images-idx3-ubyte.gz").string());
    CHECK(ablate::find_idx_file(env, "no-such-name").empty());
  }
  SECTION("locate_fashion_mnist reads ABLATE_DATA from the environment") {
    EnvGuard guard("ABLATE_DATA");
    setenv("ABLATE_DATA", env.c_str(), 1);
    CHECK(ablate::locate_fashion_mnist(cli).dir == cli);
    CHECK(ablate::locate_fashion_mnist("").dir == env);
    unsetenv("ABLATE_DATA");
    if (fs::exists(ablate::kDebianFashionMnistDir)) {
      CHECK(ablate::locate_fashion_mnist("").dir == ablate::kDebianFashionMnistDir);
      CHECK(ablate::locate_fashion_mnist("").source == "debian package");
    }
  }
}

TEST_CASE("load_fashion_mnist reads a small data set written by the test", "[idx]") {
  TempDir dir;
  write_file(dir / "train-images-idx3-ubyte.gz", gzip(ubyte_idx({2, 2, 3}, kPixels)));
  write_file(dir / "train-labels-idx1-ubyte", ubyte_idx({2}, kLabels));
  write_file(dir / "t10k-images-idx3-ubyte", ubyte_idx({1, 2, 3}, {6, 5, 4, 3, 2, 1}));
  write_file(dir / "t10k-labels-idx1-ubyte.gz", gzip(ubyte_idx({1}, {4})));

  const ablate::FashionMnist data = ablate::load_fashion_mnist(dir.str());
  CHECK(data.dir == dir.str());
  CHECK(data.train.count == 2);
  CHECK(data.train.pixels == kPixels);
  CHECK(data.train.labels == kLabels);
  CHECK(data.test.count == 1);
  CHECK(data.test.pixels == Bytes{6, 5, 4, 3, 2, 1});
  CHECK(data.test.labels == Bytes{4});

  SECTION("train and test images must have the same size") {
    write_file(dir / "t10k-images-idx3-ubyte", ubyte_idx({1, 3, 2}, {6, 5, 4, 3, 2, 1}));
    const std::string message = data_error_message([&] { ablate::load_fashion_mnist(dir.str()); });
    CHECK_THAT(message, Contains(dir / "t10k-images-idx3-ubyte"));
    CHECK_THAT(message, Contains("test images are 3 x 2 pixels but training images are 2 x 3"));
  }
}

TEST_CASE("every fuzz seed parses or is rejected as its name says", "[idx]") {
  // bench/fuzz/corpus/idx/ holds the fuzzer's seeds, and any input it ever found a problem with:
  // files named valid-* must parse, every other one must fail with a DataError naming it.
  const char* source_dir = std::getenv("ABLATE_SOURCE_DIR");
  INFO("ctest sets ABLATE_SOURCE_DIR; when running test_idx by hand, set it to the repository");
  REQUIRE(source_dir != nullptr);
  const fs::path corpus = fs::path(source_dir) / "bench/fuzz/corpus/idx";
  REQUIRE(fs::is_directory(corpus));
  int valid = 0;
  int invalid = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(corpus)) {
    const std::string name = entry.path().filename().string();
    const Bytes bytes = read_file(entry.path().string());
    INFO(name);
    if (name.rfind("valid-", 0) == 0) {
      CHECK_NOTHROW(ablate::parse_idx(bytes.data(), bytes.size(), name));
      ++valid;
    } else {
      CHECK_THAT(data_error_message([&] { ablate::parse_idx(bytes.data(), bytes.size(), name); }),
                 Contains(name + ": "));
      ++invalid;
    }
  }
  CHECK(valid >= 5);
  CHECK(invalid >= 5);
}

TEST_CASE("the real Fashion-MNIST has its known shape and class balance", "[idx][data]") {
  INFO("needs the data set: sudo apt-get install dataset-fashion-mnist");
  const ablate::FashionMnist data = ablate::load_fashion_mnist(ablate::kDebianFashionMnistDir);
  CHECK(data.train.count == 60000);
  CHECK(data.test.count == 10000);
  for (const ablate::LabelledImages* set : {&data.train, &data.test}) {
    CHECK(set->rows == 28);
    CHECK(set->cols == 28);
    CHECK(set->pixels.size() == static_cast<size_t>(set->count * 28 * 28));
    CHECK(set->labels.size() == static_cast<size_t>(set->count));
  }
  std::vector<int> train_per_class(10, 0);
  std::vector<int> test_per_class(10, 0);
  for (uint8_t label : data.train.labels) ++train_per_class.at(label);
  for (uint8_t label : data.test.labels) ++test_per_class.at(label);
  CHECK(train_per_class == std::vector<int>(10, 6000));
  CHECK(test_per_class == std::vector<int>(10, 1000));

  // The first labels, and the pixel sum, as Python's gzip module reads them from the same files.
  CHECK(Bytes(data.train.labels.begin(), data.train.labels.begin() + 10) ==
        Bytes{9, 0, 0, 3, 0, 2, 7, 2, 5, 5});
  CHECK(Bytes(data.test.labels.begin(), data.test.labels.begin() + 10) ==
        Bytes{9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
  const uint64_t train_sum =
      std::accumulate(data.train.pixels.begin(), data.train.pixels.end(), uint64_t{0});
  CHECK(train_sum == 3431114169ull);
  // The published training-set mean, 0.2860 of full scale.
  CHECK(static_cast<double>(train_sum) / (60000.0 * 784 * 255) == Approx(0.2860).margin(5e-5));
  CHECK(std::string(ablate::kFashionClassNames[9]) == "Ankle boot");
}
