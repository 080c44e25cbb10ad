// load_sweep / parse_sweep: read a spec file, parse it, add command-line overrides, expand it.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sweeps/expand.hpp"
#include "core/config.hpp"
#include "sweeps/spec.hpp"
#include "sweeps/sweep.hpp"

namespace ablate::sweeps {

namespace {

// Each "key=value" becomes a typed spec value (read by the key's kind, as
// `ablate train` reads it) and a comment line of the recorded spec text.
void add_command_line_overrides(SweepSpec& spec, const std::vector<std::string>& overrides) {
  for (const auto& assignment : overrides) {
    const std::string where = "--set " + assignment;
    nlohmann::json one = nlohmann::json::object();
    try {
      apply_override(one, assignment);
    } catch (const ConfigError& e) {
      throw SpecError(where, {}, e.what());
    }
    const std::string key = one.begin().key();
    if (key == "seed")
      throw SpecError(where, {},
                      "the seed cannot be overridden: every point runs each seed of the spec's `seeds` list "
                      "(edit that list instead)");
    spec.command_line.push_back({key, one.begin().value(), SourcePos{}});
    spec.text += "\n# ablate --set " + nlohmann::json(assignment).dump();
  }
  if (!overrides.empty()) spec.text += "\n";
}

}  // namespace

Sweep parse_sweep(std::string_view text, const std::string& source_name, const std::vector<std::string>& overrides) {
  SweepSpec spec = parse_spec(text, source_name);
  add_command_line_overrides(spec, overrides);
  return expand_spec(spec);
}

namespace {

std::string read_spec_file(const std::string& path) {
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
  return text.str();
}

}  // namespace

Sweep load_sweep(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_sweep(read_spec_file(path), path, overrides);
}

std::string load_spec_text(const std::string& path, const std::vector<std::string>& overrides) {
  SweepSpec spec = parse_spec(read_spec_file(path), path);
  add_command_line_overrides(spec, overrides);
  return spec.text;
}

}  // namespace ablate::sweeps
