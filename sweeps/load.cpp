// load_sweep / parse_sweep: read a spec file, parse it, expand it.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sweeps/expand.hpp"
#include "sweeps/spec.hpp"
#include "sweeps/sweep.hpp"

namespace ablate::sweeps {

Sweep parse_sweep(std::string_view text, const std::string& source_name) {
  return expand_spec(parse_spec(text, source_name));
}

Sweep load_sweep(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw SpecError(path, {}, "is a directory, not a sweep file: name a .toml file inside it");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw SpecError(path, {},
                    std::string("cannot open the sweep file: ") + std::strerror(errno) +
                        " (check the path; shipped studies live in sweeps/*.toml)");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw SpecError(path, {}, "cannot read the sweep file (I/O error)");
  return parse_sweep(text.str(), path);
}

}  // namespace ablate::sweeps
