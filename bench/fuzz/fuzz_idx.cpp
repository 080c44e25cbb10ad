// libFuzzer target for the IDX reader: parse_idx on arbitrary bytes, raw or gzip, must either
// return an array consistent with its header or throw a DataError that names the input.
// A crash, a sanitizer report, any other exception or a broken invariant is a finding.
// Built and run by bench/fuzz.sh, which reads the two lines below.
// fuzz-sources: trainer/idx.cpp
// fuzz-libs: -lfmt -lz
#include "trainer/idx.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

// Small enough that a gzip bomb stays far below libFuzzer's 2 GB memory limit.
constexpr size_t kFuzzMaxBytes = size_t{64} << 20;
constexpr const char* kInputName = "fuzz-input";

[[noreturn]] void violated(const char* invariant) {
  std::fprintf(stderr, "fuzz_idx: invariant violated: %s\n", invariant);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  try {
    const ablate::IdxArray array = ablate::parse_idx(bytes, size, kInputName, kFuzzMaxBytes);
    if (array.dims.empty() || array.dims.size() > 4) violated("1 to 4 dimensions");
    unsigned __int128 elements = 1;
    for (uint32_t dim : array.dims) elements *= dim;
    if (elements != array.data.size()) violated("data size == product of dims");
    if (array.data.size() > kFuzzMaxBytes) violated("data size <= max_bytes");
    const bool gzipped = size >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
    if (!gzipped) {
      // A raw file is exactly header + data, and the data is its tail.
      const size_t header = 4 + 4 * array.dims.size();
      if (size != header + array.data.size()) violated("raw size == header + data");
      if (!array.data.empty() && std::memcmp(bytes + header, array.data.data(), array.data.size()) != 0) {
        violated("raw data == input tail");
      }
    }
  } catch (const ablate::DataError& error) {
    const std::string_view message = error.what();
    if (message.substr(0, std::strlen(kInputName) + 2) != std::string(kInputName) + ": ") {
      violated("a DataError message starts with the input's name");
    }
    if (error.file() != kInputName) violated("DataError::file() is the input's name");
  }
  return 0;
}
