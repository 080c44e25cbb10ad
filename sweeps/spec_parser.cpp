// Reads a TOML sweep spec into a SweepSpec, checking every value where it is written.
#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "sweeps/spec.hpp"
#include "sweeps/toml_guard.hpp"
#include "core/config.hpp"
#include "core/curve_fields.hpp"

namespace ablate::sweeps {
namespace {

using nlohmann::json;

constexpr int64_t kMaxSeed = 2147483647;  // TrainConfig::seed is an int
constexpr int64_t kMaxRepeats = 10000;
constexpr int64_t kMaxSamples = 100000;

const std::vector<std::string> kTopLevelKeys = {"name", "description", "seeds", "repeats", "base",
                                                "grid", "cases",       "random", "early_stopping", "search"};
const std::vector<std::string> kEarlyStoppingKeys = {"method", "metric", "min_epochs", "reduction_factor"};
const std::vector<std::string> kSearchKeys = {"method", "trials", "startup_trials", "seed"};
const std::vector<std::string> kDistributionFields = {"dist", "low", "high", "values"};
constexpr const char* kSeedHint =
    "each point's seed comes from the top-level list: write seeds = [0, 1, 2] (or repeats = 3) above the "
    "first table";

SourcePos pos_of(const toml::source_region& region) {
  return {static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}

// The closest of `known` to `word`, or "" when nothing is close enough to be a typo.
std::string closest(const std::string& word, const std::vector<std::string>& known) {
  return closest_name(word, known);
}

std::string did_you_mean(const std::string& hint) {
  return hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint);
}

bool is_int_key(const ConfigKey& key) { return std::holds_alternative<int TrainConfig::*>(key.field); }
bool is_double_key(const ConfigKey& key) { return std::holds_alternative<double TrainConfig::*>(key.field); }
bool is_list_key(const ConfigKey& key) { return std::holds_alternative<std::vector<int> TrainConfig::*>(key.field); }

struct Entry {
  std::string name;
  SourcePos key_pos;
  const toml::node* node;
};

// toml++ keeps tables sorted by key; specs are read (and grid axes nested) in file order.
std::vector<Entry> in_file_order(const toml::table& table) {
  std::vector<Entry> entries;
  for (const auto& [key, node] : table) entries.push_back({std::string(key.str()), pos_of(key.source()), &node});
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::pair(a.key_pos.line, a.key_pos.column) < std::pair(b.key_pos.line, b.key_pos.column);
  });
  return entries;
}

class SpecParser {
 public:
  SpecParser(std::string_view text, std::string source_name) : text_(text), source_(std::move(source_name)) {}

  SweepSpec parse() {
    refuse_toml_parser_traps(text_, source_);
    toml::table root;
    try {
      root = toml::parse(text_, source_);
    } catch (const toml::parse_error& e) {
      fail(pos_of(e.source()), fmt::format("TOML syntax error: {}", e.description()));
    }
    SweepSpec spec;
    spec.source_name = source_;
    spec.text = std::string(text_);
    spec.name = std::filesystem::path(source_).stem().string();
    bool has_content = false;
    std::optional<SourcePos> seeds_at, repeats_at;
    for (const Entry& entry : in_file_order(root)) {
      const toml::node& node = *entry.node;
      const SourcePos at = pos_of(node.source());
      if (entry.name == "name") {
        spec.name = string_value(node, "name", "name = \"depth\"");
        if (spec.name.empty()) fail(at, "name must not be empty (or leave it out to use the file name)");
      } else if (entry.name == "description") {
        spec.description = string_value(node, "description", "description = \"Does depth help?\"");
      } else if (entry.name == "seeds") {
        seeds_at = at;
        spec.seeds = parse_seeds(node);
        spec.seeds_pos = at;
      } else if (entry.name == "repeats") {
        repeats_at = at;
        const int64_t n = integer_value(node, "repeats", 1, kMaxRepeats, "repeats = 3");
        spec.seeds.clear();
        for (int64_t s = 0; s < n; ++s) spec.seeds.push_back(static_cast<int>(s));
        spec.seeds_pos = at;
      } else if (entry.name == "base") {
        has_content = true;
        spec.base = parse_overrides(table_value(node, "[base]", "[base]\nepochs = 10"), "[base]");
      } else if (entry.name == "grid") {
        has_content = true;
        spec.grid_pos = at;
        spec.grid = parse_grid(table_value(node, "[grid]", "[grid]\nlr = [0.01, 0.1]"));
      } else if (entry.name == "cases") {
        has_content = true;
        spec.cases = parse_cases(node);
      } else if (entry.name == "random") {
        has_content = true;
        spec.random = parse_random(node);
      } else if (entry.name == "early_stopping") {
        spec.early_stopping = parse_early_stopping(node);
      } else if (entry.name == "search") {
        has_content = true;  // so a [search] without [random] hears what it lacks
        spec.search = parse_search(node);
      } else if (find_config_key(entry.name) || entry.name == "seed") {
        fail(entry.key_pos, entry.name == "seed"
                                ? fmt::format("seed cannot be set here: {}", kSeedHint)
                                : fmt::format("'{}' is a training key: put it under [base] (same for every "
                                              "point), [grid] or [[cases]]",
                                              entry.name));
      } else {
        fail(entry.key_pos, fmt::format("unknown top-level key '{}'{}; a sweep file has: name, description, "
                                        "seeds or repeats, [base], [grid], [[cases]], [random], [search], "
                                        "[early_stopping]",
                                        entry.name, did_you_mean(closest(entry.name, kTopLevelKeys))));
      }
    }
    if (seeds_at && repeats_at) {
      const SourcePos later =
          std::pair(seeds_at->line, seeds_at->column) > std::pair(repeats_at->line, repeats_at->column) ? *seeds_at
                                                                                                        : *repeats_at;
      fail(later, "set either seeds = [...] or repeats = N, not both");
    }
    if (spec.seeds.empty()) spec.seeds = {0};
    if (!has_content)
      fail({1, 1},
           "empty sweep: the file trains nothing; add a [base] table (e.g. epochs = 10), a [grid], "
           "[[cases]] or [random]");
    check_random_budget(spec);
    check_conflicts(spec);
    return spec;
  }

 private:
  [[noreturn]] void fail(SourcePos pos, const std::string& message) const { throw SpecError(source_, pos, message); }

  static std::string type_name(const toml::node& node) {
    switch (node.type()) {
      case toml::node_type::string:
        return "a string";
      case toml::node_type::integer:
        return "an integer";
      case toml::node_type::floating_point:
        return "a float";
      case toml::node_type::boolean:
        return "a boolean";
      case toml::node_type::array:
        return "an array";
      case toml::node_type::table:
        return "a table";
      default:
        return "a date/time";
    }
  }

  std::string string_value(const toml::node& node, const std::string& what, const std::string& example) const {
    if (!node.is_string())
      fail(pos_of(node.source()),
           fmt::format("{} must be a string, e.g. {}; found {}", what, example, type_name(node)));
    return std::string(node.as_string()->get());
  }

  int64_t integer_value(const toml::node& node, const std::string& what, int64_t min, int64_t max,
                        const std::string& example) const {
    if (!node.is_integer())
      fail(pos_of(node.source()),
           fmt::format("{} must be an integer, e.g. {}; found {}", what, example, type_name(node)));
    const int64_t value = node.as_integer()->get();
    if (value < min || value > max)
      fail(pos_of(node.source()),
           fmt::format("{} = {} is out of range: it must be in [{}, {}]", what, value, min, max));
    return value;
  }

  const toml::table& table_value(const toml::node& node, const std::string& what, const std::string& example) const {
    if (!node.is_table())
      fail(pos_of(node.source()),
           fmt::format("{} must be a table, e.g.\n{}\nfound {}", what, example, type_name(node)));
    return *node.as_table();
  }

  std::vector<int> parse_seeds(const toml::node& node) const {
    const SourcePos at = pos_of(node.source());
    if (!node.is_array())
      fail(at, fmt::format("seeds must be an array of integers, e.g. seeds = [0, 1, 2]; found {}", type_name(node)));
    const toml::array& array = *node.as_array();
    if (array.empty()) fail(at, "seeds is empty: list at least one seed, e.g. seeds = [0] (or leave it out)");
    std::vector<int> seeds;
    for (const toml::node& element : array) {
      if (!element.is_integer() || element.as_integer()->get() < 0 || element.as_integer()->get() > kMaxSeed)
        fail(pos_of(element.source()),
             fmt::format("seeds must be integers in [0, {}], e.g. seeds = [0, 1, 2]", kMaxSeed));
      const int64_t seed = element.as_integer()->get();
      if (std::find(seeds.begin(), seeds.end(), seed) != seeds.end())
        fail(pos_of(element.source()), fmt::format("seed {} is listed twice in seeds", seed));
      seeds.push_back(static_cast<int>(seed));
    }
    return seeds;
  }

  json to_json(const toml::node& node) const {
    switch (node.type()) {
      case toml::node_type::string:
        return node.as_string()->get();
      case toml::node_type::integer:
        return node.as_integer()->get();
      case toml::node_type::floating_point: {
        const double value = node.as_floating_point()->get();
        if (!std::isfinite(value))
          fail(pos_of(node.source()),
               fmt::format("{} is not allowed here: training values must be finite numbers", value));
        return value;
      }
      case toml::node_type::boolean:
        return node.as_boolean()->get();
      case toml::node_type::array: {
        json out = json::array();
        for (const toml::node& element : *node.as_array()) out.push_back(to_json(element));
        return out;
      }
      case toml::node_type::table:
        fail(pos_of(node.source()), "a table is not a training value here; write a number, string, boolean or list");
      default:
        fail(pos_of(node.source()), "a date/time is not a training value; write a number, string, boolean or list");
    }
  }

  // The table entry for a training key; seed and unknown keys are refused where the key is written.
  const ConfigKey& training_key(const Entry& entry, const std::string& where) const {
    if (entry.name == "seed") fail(entry.key_pos, fmt::format("seed cannot be set in {}: {}", where, kSeedHint));
    const ConfigKey* key = find_config_key(entry.name);
    if (!key) {
      const std::string hint = suggest_config_key(entry.name);
      if (!hint.empty())
        fail(entry.key_pos,
             fmt::format("unknown training key '{}' in {} (did you mean '{}'?)", entry.name, where, hint));
      std::vector<std::string> names;
      for (const auto& k : config_keys())
        if (std::string(k.name) != "seed") names.push_back(k.name);
      fail(entry.key_pos,
           fmt::format("unknown training key '{}' in {}; the keys are: {}", entry.name, where, fmt::join(names, ", ")));
    }
    return *key;
  }

  SpecValue checked_value(const ConfigKey& key, const toml::node& node) const {
    SpecValue value{key.name, to_json(node), pos_of(node.source())};
    try {
      validate_config_value(key, value.value);
    } catch (const ConfigError& e) {
      fail(value.pos, e.what());
    }
    return value;
  }

  // A value listed in [grid] or `choice`: list-valued keys need a list per value.
  SpecValue listed_value(const ConfigKey& key, const toml::node& node, const std::string& example) const {
    if (is_list_key(key) && !node.is_array())
      fail(pos_of(node.source()),
           fmt::format("{} takes a list, so each listed value is itself a list: {}", key.name, example));
    return checked_value(key, node);
  }

  std::vector<SpecValue> parse_overrides(const toml::table& table, const std::string& where,
                                         const std::string& skip = "") const {
    std::vector<SpecValue> values;
    for (const Entry& entry : in_file_order(table)) {
      if (entry.name == skip) continue;
      values.push_back(checked_value(training_key(entry, where), *entry.node));
    }
    return values;
  }

  std::vector<GridAxis> parse_grid(const toml::table& table) const {
    std::vector<GridAxis> axes;
    for (const Entry& entry : in_file_order(table)) {
      const ConfigKey& key = training_key(entry, "[grid]");
      const SourcePos at = pos_of(entry.node->source());
      const std::string example = is_list_key(key) ? fmt::format("{} = [[256], [256, 256]]", key.name)
                                                   : fmt::format("{} = [value1, value2]", key.name);
      if (!entry.node->is_array())
        fail(at, fmt::format("grid axis {} must be an array of the values to try, e.g. {}; to use one value in every "
                             "point, put it under [base]",
                             key.name, example));
      const toml::array& array = *entry.node->as_array();
      if (array.empty())
        fail(at, fmt::format("grid axis {} is empty: list at least one value, e.g. {}", key.name, example));
      GridAxis axis{key.name, at, {}};
      for (const toml::node& element : array) axis.values.push_back(listed_value(key, element, example));
      axes.push_back(std::move(axis));
    }
    return axes;
  }

  std::vector<CaseSpec> parse_cases(const toml::node& node) const {
    const SourcePos at = pos_of(node.source());
    if (!node.is_array() || !node.as_array()->is_array_of_tables() || node.as_array()->empty())
      fail(at, "cases must be an array of tables: write each case as\n[[cases]]\nname = \"deep\"\nhidden = [256, 256]");
    std::vector<CaseSpec> cases;
    std::map<std::string, SourcePos> seen;
    for (const toml::node& element : *node.as_array()) {
      const toml::table& table = *element.as_table();
      const toml::node* name_node = table.get("name");
      if (!name_node)
        fail(pos_of(table.source()), "this [[cases]] entry has no name: add name = \"...\" (names label results)");
      CaseSpec c;
      c.name = string_value(*name_node, "a case name", "name = \"deep\"");
      c.pos = pos_of(name_node->source());
      if (c.name.empty()) fail(c.pos, "a case name must not be empty");
      if (auto it = seen.find(c.name); it != seen.end())
        fail(c.pos, fmt::format("case name '{}' is already used at line {}: case names must be unique", c.name,
                                it->second.line));
      seen.emplace(c.name, c.pos);
      c.overrides = parse_overrides(table, fmt::format("case '{}'", c.name), /*skip=*/"name");
      cases.push_back(std::move(c));
    }
    return cases;
  }

  double finite_number(const toml::node& node, const std::string& what) const {
    if (!node.is_number())
      fail(pos_of(node.source()), fmt::format("{} must be a number; found {}", what, type_name(node)));
    // Not node.value<double>(): it is empty for an integer a double cannot hold exactly (above 2^53).
    const double value = node.is_integer() ? static_cast<double>(node.as_integer()->get())
                                           : node.as_floating_point()->get();
    if (!std::isfinite(value)) fail(pos_of(node.source()), fmt::format("{} must be a finite number", what));
    return value;
  }

  Distribution parse_distribution(const ConfigKey& key, const toml::node& node) const {
    const SourcePos at = pos_of(node.source());
    const std::string example = fmt::format("{} = {{ dist = \"uniform\", low = 0.1, high = 0.5 }}", key.name);
    if (!node.is_table())
      fail(at, fmt::format("{} in [random] must be a distribution table, e.g. {}; to use one value in every point, put "
                           "it under [base]",
                           key.name, example));
    const toml::table& table = *node.as_table();
    for (const Entry& field : in_file_order(table))
      if (std::find(kDistributionFields.begin(), kDistributionFields.end(), field.name) == kDistributionFields.end())
        fail(field.key_pos, fmt::format("unknown field '{}' in the distribution of {}{}; a distribution has dist, "
                                        "low, high (uniform, log_uniform, int_uniform) or values (choice)",
                                        field.name, key.name, did_you_mean(closest(field.name, kDistributionFields))));
    const toml::node* dist_node = table.get("dist");
    if (!dist_node)
      fail(at, fmt::format("the distribution of {} has no dist: add dist = \"uniform\", \"log_uniform\", "
                           "\"int_uniform\" or \"choice\"",
                           key.name));
    const std::string dist_name = string_value(*dist_node, "dist", "dist = \"log_uniform\"");
    const auto& names = distribution_names();
    const auto found = std::find(names.begin(), names.end(), dist_name);
    if (found == names.end())
      fail(pos_of(dist_node->source()), fmt::format("unknown dist \"{}\"{}; use one of: {}", dist_name,
                                                    did_you_mean(closest(dist_name, names)), fmt::join(names, ", ")));
    Distribution dist;
    dist.kind = static_cast<Distribution::Kind>(found - names.begin());
    const toml::node* low = table.get("low");
    const toml::node* high = table.get("high");
    const toml::node* values = table.get("values");

    if (dist.kind == Distribution::Kind::kChoice) {
      if (low || high)
        fail(pos_of((low ? low : high)->source()), "a choice has values = [...], not low/high: remove low and high");
      if (!values)
        fail(at, fmt::format("a choice needs values, e.g. {} = {{ dist = \"choice\", values = [...] }}", key.name));
      if (!values->is_array() || values->as_array()->empty())
        fail(pos_of(values->source()), "values must be a non-empty array of the values to choose from");
      const std::string choice_example = fmt::format("{} = {{ dist = \"choice\", values = [[256], [512]] }}", key.name);
      for (const toml::node& element : *values->as_array())
        dist.values.push_back(listed_value(key, element, choice_example).value);
      return dist;
    }

    if (values)
      fail(pos_of(values->source()),
           fmt::format("values belongs to dist = \"choice\"; {} takes low and high", dist_name));
    if (dist.kind == Distribution::Kind::kIntUniform) {
      if (!is_int_key(key) && !is_double_key(key))
        fail(pos_of(dist_node->source()),
             fmt::format("{} is not a number: draw it with dist = \"choice\", values = [...]", key.name));
    } else if (is_int_key(key)) {
      fail(pos_of(dist_node->source()),
           fmt::format("{} takes integers: use dist = \"int_uniform\" (or \"choice\")", key.name));
    } else if (!is_double_key(key)) {
      fail(pos_of(dist_node->source()),
           fmt::format("{} is not a number: draw it with dist = \"choice\", values = [...]", key.name));
    }
    if (!low || !high) fail(at, fmt::format("{} needs both low and high, e.g. {}", dist_name, example));
    dist.low = finite_number(*low, "low");
    dist.high = finite_number(*high, "high");
    if (dist.kind == Distribution::Kind::kIntUniform) {
      if (!low->is_integer()) fail(pos_of(low->source()), "int_uniform bounds must be integers");
      if (!high->is_integer()) fail(pos_of(high->source()), "int_uniform bounds must be integers");
    }
    if (dist.low >= dist.high)
      fail(pos_of(high->source()),
           fmt::format("high = {} must be greater than low = {} (to fix {} for every point, put "
                       "it under [base])",
                       dist.high, dist.low, key.name));
    if (dist.kind == Distribution::Kind::kLogUniform && dist.low <= 0)
      fail(pos_of(low->source()),
           fmt::format("log_uniform needs low > 0 (found {}): use uniform to include zero", dist.low));
    checked_value(key, *low);
    checked_value(key, *high);
    return dist;
  }

  EarlyStopping parse_early_stopping(const toml::node& node) const {
    constexpr const char* kExample = "[early_stopping]\nmethod = \"asha\"";
    const toml::table& table = table_value(node, "[early_stopping]", kExample);
    EarlyStopping early;
    early.pos = pos_of(node.source());
    bool has_method = false;
    for (const Entry& entry : in_file_order(table)) {
      const SourcePos at = pos_of(entry.node->source());
      if (entry.name == "method") {
        early.method = string_value(*entry.node, "method", "method = \"asha\"");
        has_method = true;
        if (std::find(kEarlyStoppingMethods.begin(), kEarlyStoppingMethods.end(), early.method) ==
            kEarlyStoppingMethods.end())
          fail(at, fmt::format("unknown early-stopping method \"{}\"{}; use one of: {}", early.method,
                               did_you_mean(closest(early.method, kEarlyStoppingMethods)),
                               fmt::join(kEarlyStoppingMethods, ", ")));
      } else if (entry.name == "metric") {
        early.metric = string_value(*entry.node, "metric", "metric = \"val_acc\"");
        std::vector<std::string> columns;
        for (const auto& field : kCurveFields) columns.push_back(field.name);
        if (std::find(columns.begin(), columns.end(), early.metric) == columns.end())
          fail(at, fmt::format("metric \"{}\" is not a curve column{}; use one of: {}", early.metric,
                               did_you_mean(closest(early.metric, columns)), fmt::join(columns, ", ")));
        early.maximize = !early.metric.ends_with("_loss");
      } else if (entry.name == "min_epochs") {
        early.min_epochs = static_cast<int>(integer_value(*entry.node, "min_epochs", 1, 100000, "min_epochs = 1"));
      } else if (entry.name == "reduction_factor") {
        early.reduction_factor =
            static_cast<int>(integer_value(*entry.node, "reduction_factor", 2, 1000, "reduction_factor = 3"));
      } else {
        fail(entry.key_pos, fmt::format("unknown key '{}' in [early_stopping]{}; it has: {}", entry.name,
                                        did_you_mean(closest(entry.name, kEarlyStoppingKeys)),
                                        fmt::join(kEarlyStoppingKeys, ", ")));
      }
    }
    if (!has_method)
      fail(early.pos, fmt::format("[early_stopping] needs method = one of: {}", fmt::join(kEarlyStoppingMethods, ", ")));
    return early;
  }

  RandomSpec parse_random(const toml::node& node) const {
    const toml::table& table = table_value(
        node, "[random]", "[random]\nsamples = 12\nlr = { dist = \"log_uniform\", low = 1e-4, high = 1e-1 }");
    RandomSpec random;
    random.pos = pos_of(node.source());
    for (const Entry& entry : in_file_order(table)) {
      if (entry.name == "samples") {
        random.samples = static_cast<int>(integer_value(*entry.node, "samples", 1, kMaxSamples, "samples = 12"));
        random.samples_pos = pos_of(entry.node->source());
      } else if (entry.name == "seed") {
        random.seed_pos = entry.key_pos;
        random.seed = static_cast<uint64_t>(
            integer_value(*entry.node, "the [random] seed", 0, std::numeric_limits<int64_t>::max(), "seed = 0"));
      } else {
        const ConfigKey* key = find_config_key(entry.name);
        if (!key) {
          std::vector<std::string> known = {"samples", "seed"};
          for (const auto& k : config_keys()) known.push_back(k.name);
          fail(entry.key_pos, fmt::format("unknown key '{}' in [random]{}; [random] has samples, seed and one "
                                          "distribution per training key",
                                          entry.name, did_you_mean(closest(entry.name, known))));
        }
        random.keys.push_back({key->name, pos_of(entry.node->source()), parse_distribution(*key, *entry.node)});
      }
    }
    if (random.keys.empty())
      fail(random.pos,
           "[random] draws nothing: add a distribution, e.g. lr = { dist = \"log_uniform\", low = 1e-4, "
           "high = 1e-1 }");
    return random;
  }

  SearchSettings parse_search(const toml::node& node) const {
    const toml::table& table =
        table_value(node, "[search]", "[search]\nmethod = \"tpe\"\ntrials = 64\nstartup_trials = 10\nseed = 0");
    SearchSettings search;
    search.pos = pos_of(node.source());
    std::optional<SourcePos> startup_at;
    bool has_method = false;
    for (const Entry& entry : in_file_order(table)) {
      const SourcePos at = pos_of(entry.node->source());
      if (entry.name == "method") {
        search.method = string_value(*entry.node, "method", "method = \"tpe\"");
        has_method = true;
        if (std::find(kSearchMethods.begin(), kSearchMethods.end(), search.method) == kSearchMethods.end())
          fail(at, fmt::format("unknown search method \"{}\"{}; use one of: {}", search.method,
                               did_you_mean(closest(search.method, kSearchMethods)), fmt::join(kSearchMethods, ", ")));
      } else if (entry.name == "trials") {
        search.trials = static_cast<int>(integer_value(*entry.node, "trials", 1, kMaxSamples, "trials = 64"));
        search.trials_pos = at;
      } else if (entry.name == "startup_trials") {
        search.startup_trials =
            static_cast<int>(integer_value(*entry.node, "startup_trials", 0, kMaxSamples, "startup_trials = 10"));
        startup_at = at;
      } else if (entry.name == "seed") {
        search.seed = static_cast<uint64_t>(
            integer_value(*entry.node, "the [search] seed", 0, std::numeric_limits<int64_t>::max(), "seed = 0"));
      } else {
        fail(entry.key_pos, fmt::format("unknown key '{}' in [search]{}; it has: {}", entry.name,
                                        did_you_mean(closest(entry.name, kSearchKeys)), fmt::join(kSearchKeys, ", ")));
      }
    }
    if (!has_method)
      fail(search.pos, fmt::format("[search] needs method = one of: {} (\"random\" draws every trial, \"tpe\" "
                                   "learns from the trials so far)",
                                   fmt::join(kSearchMethods, ", ")));
    if (search.trials_pos.line == 0)
      fail(search.pos, "[search] needs trials = N: how many configurations to try (each over every seed)");
    if (startup_at && search.startup_trials > search.trials)
      fail(*startup_at, fmt::format("startup_trials = {} is more than trials = {}: the random start is part of the "
                                    "budget; lower startup_trials or raise trials",
                                    search.startup_trials, search.trials));
    search.startup_trials = std::min(search.startup_trials, search.trials);
    return search;
  }

  // [random] alone draws `samples` configurations; under [search] the search
  // suggests `trials` from its distributions, with its own seed.
  void check_random_budget(const SweepSpec& spec) const {
    if (!spec.search) {
      if (spec.random && spec.random->samples_pos.line == 0)
        fail(spec.random->pos, "[random] needs samples = N: how many random configurations to draw");
      return;
    }
    const SearchSettings& search = *spec.search;
    if (!spec.random)
      fail(search.pos,
           "[search] searches the distributions of a [random] table, and there is none: add one, e.g.\n[random]\n"
           "lr = { dist = \"log_uniform\", low = 1e-4, high = 1e-1 }");
    if (spec.random->samples_pos.line != 0)
      fail(spec.random->samples_pos,
           fmt::format("samples is not used with [search]: the search runs trials = {} configurations (line {}); "
                       "remove samples",
                       search.trials, search.trials_pos.line));
    if (spec.random->seed_pos.line != 0)
      fail(spec.random->seed_pos, fmt::format("the seed of a [search] sweep is set in [search] (line {}): remove "
                                              "seed from [random]",
                                              search.pos.line));
    if (!spec.grid.empty())
      fail(spec.grid_pos, "[grid] cannot be combined with [search]: the search chooses every searched value; put "
                          "fixed values in [base], or draw the key in [random] (dist = \"choice\" for a list)");
    if (!spec.cases.empty())
      fail(spec.cases.front().pos, "[[cases]] cannot be combined with [search]: run one search per case (one file "
                                   "each), or draw the differing key in [random] with dist = \"choice\"");
    if (spec.early_stopping &&
        (spec.early_stopping->method == "successive_halving" || spec.early_stopping->method == "hyperband"))
      fail(spec.early_stopping->pos,
           fmt::format("[early_stopping] method = \"{}\" cannot be combined with [search]: its synchronous rungs "
                       "need every point up front, and a search suggests them one trial at a time; use method = "
                       "\"asha\" (TPE + ASHA is the BOHB recipe) or \"median\"",
                       spec.early_stopping->method));
    std::vector<SearchedKey> keys;
    for (const auto& k : spec.random->keys) keys.push_back({k.key, k.dist});
    if (const auto size = discrete_space_size(keys); size && *size < static_cast<uint64_t>(search.trials))
      fail(search.trials_pos, fmt::format("trials = {} is more than the {} distinct configurations [random] can "
                                          "make: lower trials to at most {} (or use a [grid] to run them all)",
                                          search.trials, *size, *size));
  }

  // Later layers override earlier ones, so a key set both in a case and in [grid] or
  // [random] would silently lose its case value: refuse that rather than surprise.
  void check_conflicts(const SweepSpec& spec) const {
    std::map<std::string, SourcePos> grid_keys, random_keys;
    for (const auto& axis : spec.grid) grid_keys.emplace(axis.key, axis.pos);
    if (spec.random)
      for (const auto& k : spec.random->keys) {
        random_keys.emplace(k.key, k.pos);
        if (auto it = grid_keys.find(k.key); it != grid_keys.end())
          fail(k.pos, fmt::format("{} is both a [grid] axis (line {}) and drawn in [random]: keep one of them", k.key,
                                  it->second.line));
      }
    for (const auto& c : spec.cases)
      for (const auto& v : c.overrides) {
        for (const auto* layer : {&grid_keys, &random_keys})
          if (auto it = layer->find(v.key); it != layer->end())
            fail(v.pos,
                 fmt::format("case '{}' sets {}, but {} (line {}) overrides it in every point: set it in one "
                             "place only",
                             c.name, v.key, layer == &grid_keys ? "the [grid] axis" : "[random]", it->second.line));
      }
  }

  std::string_view text_;
  std::string source_;
};

}  // namespace

SweepSpec parse_spec(std::string_view text, const std::string& source_name) {
  return SpecParser(text, source_name).parse();
}

}  // namespace ablate::sweeps
