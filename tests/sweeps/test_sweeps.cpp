// Tests of sweeps/: spec parsing, validation messages, expansion, random search,
// point IDs, cost estimate, plan output and the shipped study files.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "sweeps/random_search.hpp"
#include "sweeps/sweep.hpp"
#include "core/config.hpp"
#include "core/families/families.hpp"

using namespace ablate::sweeps;
using nlohmann::json;

namespace {

// The SpecError of parsing `text`, which the caller expects to be refused.
SpecError error_of(const std::string& text) {
  try {
    parse_sweep(text, "bad.toml");
  } catch (const SpecError& e) {
    return e;
  }
  FAIL("expected a SpecError for:\n" << text);
  throw std::logic_error("unreachable");
}

std::vector<std::string> ids(const Sweep& sweep) {
  std::vector<std::string> out;
  for (const auto& p : sweep.points) out.push_back(p.id);
  return out;
}

std::filesystem::path source_dir() {
  if (const char* dir = std::getenv("ABLATE_SOURCE_DIR")) return dir;
  return ABLATE_SOURCE_DIR_DEFAULT;
}

}  // namespace

TEST_CASE("a cases x grid file expands in file order with seeds innermost", "[sweeps]") {
  const Sweep sweep = parse_sweep(R"(
name = "demo"
description = "cases times grid"
seeds = [3, 5]

[base]
epochs = 2

[[cases]]
name = "relu"

[[cases]]
name = "tanh"
activation = "tanh"

[grid]
lr = [0.01, 0.1]
hidden = [[256], [256, 256]]
)",
                                  "specs/demo.toml");
  CHECK(sweep.name == "demo");
  CHECK(sweep.description == "cases times grid");
  CHECK(sweep.source_path == "specs/demo.toml");
  CHECK(sweep.seeds == std::vector<int>{3, 5});
  CHECK(sweep.collapsed_duplicates == 0);
  REQUIRE(sweep.points.size() == 2 * 2 * 2 * 2);
  CHECK(sweep.varied_keys == std::vector<std::string>{"activation", "lr", "hidden"});

  // Order: case, then lr (first axis), then hidden (last axis, fastest), then seed.
  struct Expected {
    const char* case_name;
    double lr;
    std::vector<int> hidden;
    int seed;
  };
  const std::vector<Expected> expected = {
      {"relu", 0.01, {256}, 3}, {"relu", 0.01, {256}, 5}, {"relu", 0.01, {256, 256}, 3}, {"relu", 0.01, {256, 256}, 5},
      {"relu", 0.1, {256}, 3},  {"relu", 0.1, {256}, 5},  {"relu", 0.1, {256, 256}, 3},  {"relu", 0.1, {256, 256}, 5},
      {"tanh", 0.01, {256}, 3}, {"tanh", 0.01, {256}, 5}, {"tanh", 0.01, {256, 256}, 3}, {"tanh", 0.01, {256, 256}, 5},
      {"tanh", 0.1, {256}, 3},  {"tanh", 0.1, {256}, 5},  {"tanh", 0.1, {256, 256}, 3},  {"tanh", 0.1, {256, 256}, 5}};
  for (size_t i = 0; i < expected.size(); ++i) {
    const SweepPoint& p = sweep.points[i];
    INFO("point " << i);
    CHECK(p.case_name == expected[i].case_name);
    CHECK(p.config.at("lr").get<double>() == expected[i].lr);
    CHECK(p.config.at("hidden").get<std::vector<int>>() == expected[i].hidden);
    CHECK(p.seed == expected[i].seed);
    CHECK(p.config.at("seed") == expected[i].seed);
    CHECK(p.config.at("epochs") == 2);
    CHECK(p.config.at("activation") == (i < 8 ? "relu" : "tanh"));
    // The point carries the full canonical config, its text and its hash.
    CHECK(p.config == ablate::canonicalize_config(p.config));
    CHECK(p.config.size() == ablate::config_keys().size());
    CHECK(p.config_text == ablate::canonical_text(p.config));
    CHECK(p.id == ablate::config_id(p.config));
    CHECK(p.varied ==
          json{{"activation", expected[i].case_name}, {"lr", expected[i].lr}, {"hidden", expected[i].hidden}});
  }
}

TEST_CASE("defaults: one seed, name from the file stem, one unnamed case", "[sweeps]") {
  const Sweep sweep = parse_sweep("[base]\nepochs = 3\n", "some/dir/my_study.toml");
  CHECK(sweep.name == "my_study");
  CHECK(sweep.description.empty());
  CHECK(sweep.seeds == std::vector<int>{0});
  REQUIRE(sweep.points.size() == 1);
  CHECK(sweep.points[0].case_name.empty());
  CHECK(sweep.points[0].seed == 0);
  CHECK(sweep.points[0].varied == json::object());
  CHECK(sweep.varied_keys.empty());
  CHECK(sweep.spec_text == "[base]\nepochs = 3\n");
}

TEST_CASE("expansion counts for grid, cases, cases x grid, random, seeds and repeats", "[sweeps]") {
  const std::string cases3 =
      "[[cases]]\nname = \"a\"\n[[cases]]\nname = \"b\"\nepochs = 2\n[[cases]]\nname = "
      "\"c\"\nepochs = 3\n";
  const std::string grid2x3 = "[grid]\nlr = [0.01, 0.1]\nbatch_size = [32, 64, 128]\n";
  const std::string random4 = "[random]\nsamples = 4\nmomentum = { dist = \"uniform\", low = 0.5, high = 0.9 }\n";
  CHECK(parse_sweep(grid2x3, "g.toml").points.size() == 6);
  CHECK(parse_sweep(cases3, "c.toml").points.size() == 3);
  CHECK(parse_sweep(cases3 + grid2x3, "cg.toml").points.size() == 18);
  CHECK(parse_sweep(random4, "r.toml").points.size() == 4);
  CHECK(parse_sweep(cases3 + grid2x3 + random4, "cgr.toml").points.size() == 72);
  CHECK(parse_sweep("seeds = [0, 1, 2, 7]\n" + grid2x3, "s.toml").points.size() == 24);

  const Sweep repeated = parse_sweep("repeats = 5\n" + cases3, "rep.toml");
  CHECK(repeated.seeds == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(repeated.points.size() == 15);
  std::set<int> seeds_of_case_a;
  for (const auto& p : repeated.points)
    if (p.case_name == "a") seeds_of_case_a.insert(p.seed);
  CHECK(seeds_of_case_a == std::set<int>{0, 1, 2, 3, 4});
}

TEST_CASE("merge order: defaults < base < case < grid < random < seed", "[sweeps]") {
  const Sweep sweep = parse_sweep(R"(
seeds = [4]
[base]
lr = 0.2
momentum = 0.5
epochs = 7
batch_size = 32
[[cases]]
name = "override"
epochs = 9
[grid]
batch_size = [16]
[random]
samples = 1
momentum = { dist = "choice", values = [0.8] }
)",
                                  "merge.toml");
  REQUIRE(sweep.points.size() == 1);
  const json& c = sweep.points[0].config;
  CHECK(c.at("weight_decay") == 0.0);  // TrainConfig default
  CHECK(c.at("lr") == 0.2);            // base
  CHECK(c.at("epochs") == 9);          // case over base
  CHECK(c.at("batch_size") == 16);     // grid over base
  CHECK(c.at("momentum") == 0.8);      // random over base
  CHECK(c.at("seed") == 4);            // seeds
  // Only keys that differ between points are "varied"; a one-point sweep has none.
  CHECK(sweep.varied_keys.empty());
}

TEST_CASE("values are canonicalised: an integral float for an int key is an int", "[sweeps]") {
  const Sweep sweep = parse_sweep("[base]\nepochs = 4.0\nlr = 1\n", "canon.toml");
  REQUIRE(sweep.points.size() == 1);
  CHECK(sweep.points[0].config.at("epochs").is_number_integer());
  CHECK(sweep.points[0].config.at("lr").is_number_float());
  CHECK(sweep.points[0].config_text.find("\"epochs\":4,") != std::string::npos);
}

TEST_CASE("varied excludes seed and keys that end up equal everywhere", "[sweeps]") {
  const Sweep sweep = parse_sweep(R"(
repeats = 2
[[cases]]
name = "a"
lr = 0.05
momentum = 0.5
[[cases]]
name = "b"
lr = 0.05
momentum = 0.7
)",
                                  "v.toml");
  CHECK(sweep.varied_keys == std::vector<std::string>{"momentum"});
  REQUIRE(sweep.points.size() == 4);
  CHECK(sweep.points[3].varied == json{{"momentum", 0.7}});
}

TEST_CASE("duplicate points collapse, keeping the first", "[sweeps]") {
  SECTION("repeated grid values, including 1 and 1.0 for a float key") {
    const Sweep sweep = parse_sweep("seeds = [0, 1]\n[grid]\nlr = [1, 0.5, 1.0, 0.5]\n", "dup.toml");
    CHECK(sweep.points.size() == 4);
    CHECK(sweep.collapsed_duplicates == 4);
    CHECK(sweep.points[0].config.at("lr") == 1.0);
    CHECK(sweep.points[2].config.at("lr") == 0.5);
  }
  SECTION("two cases with the same config: the first case's name is kept") {
    const Sweep sweep = parse_sweep(R"(
[[cases]]
name = "explicit_default"
lr = 0.05
[[cases]]
name = "implicit_default"
[[cases]]
name = "other"
lr = 0.1
)",
                                    "dup.toml");
    REQUIRE(sweep.points.size() == 2);
    CHECK(sweep.collapsed_duplicates == 1);
    CHECK(sweep.points[0].case_name == "explicit_default");
    CHECK(sweep.points[1].case_name == "other");
    const auto point_ids = ids(sweep);
    std::set<std::string> unique(point_ids.begin(), point_ids.end());
    CHECK(unique.size() == sweep.points.size());
  }
}

// Golden IDs: a point's ID is its name in the results file, so it must change only
// when its config does. The first four are FNV-1a 64 (plus the splitmix64 finaliser) of the canonical non-default
// text, computed independently (by a few lines of Python); the random-search ones
// were computed once by this code and are frozen here. If one of these fails, a
// change has renamed existing results: revert it, unless the config really changed.
TEST_CASE("golden point IDs", "[sweeps]") {
  SECTION("hand-computed") {
    CHECK(parse_sweep("[base]\n", "g.toml").points.at(0).id == "fe0c740aae1f6f24");               // "{}"
    CHECK(parse_sweep("[base]\nlr = 0.1\n", "g.toml").points.at(0).id == "b789a03ebddda8da");     // {"lr":0.1}
    CHECK(parse_sweep("seeds = [1]\n[base]\n", "g.toml").points.at(0).id == "d7fa17d9d6dc13b2");  // {"seed":1}
    const Sweep s = parse_sweep("seeds = [2]\n[base]\nhidden = []\nlr = 0.1\n", "g.toml");
    CHECK(s.points.at(0).id == "6f8d06fbbbbc95dd");  // {"hidden":[],"lr":0.1,"seed":2}
  }
  SECTION("random search") {
    const Sweep s = parse_sweep(R"(
[base]
optimizer = "adamw"
[random]
samples = 3
seed = 42
lr = { dist = "log_uniform", low = 1e-4, high = 1e-1 }
dropout = { dist = "uniform", low = 0.0, high = 0.5 }
)",
                                "g.toml");
    REQUIRE(s.points.size() == 3);
    CHECK(ids(s) == std::vector<std::string>{"8543f4b3e18233ae", "6c951532eb516cb5", "2e20048567b8749f"});
  }
}

TEST_CASE("SplitMix64 and the bits-to-double mapping give known answers", "[sweeps]") {
  // Reference outputs of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
  SplitMix64 rng(0);
  CHECK(rng.next() == 0xe220a8397b1dcdafull);
  CHECK(rng.next() == 0x6e789e6aa1b965f4ull);
  CHECK(rng.next() == 0x06c45d188009454full);
  CHECK(unit_interval(0) == 0.0);
  CHECK(unit_interval(~uint64_t{0}) == 1.0 - 0x1.0p-53);
  CHECK(unit_interval(uint64_t{1} << 63) == 0.5);
  CHECK(round_significant(0.123456789, 6) == 0.123457);
  CHECK(round_significant(123456789.0, 6) == 123457000.0);
  CHECK(round_significant(-2.5e-7, 6) == -2.5e-7);
  CHECK(round_significant(0.0, 6) == 0.0);
}

TEST_CASE("random search is deterministic and stays within bounds", "[sweeps]") {
  const std::string spec = R"(
[base]
optimizer = "adamw"
[random]
samples = 200
seed = 7
lr = { dist = "log_uniform", low = 1e-4, high = 1e-1 }
dropout = { dist = "uniform", low = 0.1, high = 0.5 }
batch_size = { dist = "int_uniform", low = 32, high = 35 }
activation = { dist = "choice", values = ["relu", "tanh", "gelu"] }
hidden = { dist = "choice", values = [[64], [128, 128]] }
)";
  const Sweep a = parse_sweep(spec, "r.toml");
  const Sweep b = parse_sweep(spec, "r.toml");
  CHECK(ids(a) == ids(b));
  REQUIRE(a.points.size() == 200);

  std::set<int> batch_sizes;
  std::set<std::string> activations;
  std::set<std::vector<int>> hiddens;
  double lr_min = 1, lr_max = 0;
  int lr_below_1e3 = 0;
  for (const auto& p : a.points) {
    const double lr = p.config.at("lr"), dropout = p.config.at("dropout");
    CHECK(lr >= 1e-4);
    CHECK(lr <= 1e-1);
    CHECK(dropout >= 0.1);
    CHECK(dropout <= 0.5);
    CHECK(round_significant(lr, 6) == lr);  // 6 significant digits, as promised
    CHECK(round_significant(dropout, 6) == dropout);
    lr_min = std::min(lr_min, lr), lr_max = std::max(lr_max, lr);
    lr_below_1e3 += lr < 1e-3;
    batch_sizes.insert(p.config.at("batch_size").get<int>());
    activations.insert(p.config.at("activation").get<std::string>());
    hiddens.insert(p.config.at("hidden").get<std::vector<int>>());
  }
  // Log-uniform over three decades puts about a third of the draws in the first
  // decade; a plain uniform would put 0.9% there.
  CHECK(lr_below_1e3 > 40);
  CHECK(lr_below_1e3 < 95);
  CHECK(lr_min < 2e-4);
  CHECK(lr_max > 5e-2);
  CHECK(batch_sizes == std::set<int>{32, 33, 34, 35});  // inclusive bounds, all reached
  CHECK(activations == std::set<std::string>{"relu", "tanh", "gelu"});
  CHECK(hiddens == std::set<std::vector<int>>{{64}, {128, 128}});

  SECTION("another sweep seed draws other values") {
    std::string other = spec;
    other.replace(other.find("seed = 7"), 8, "seed = 8");
    CHECK(ids(parse_sweep(other, "r.toml")) != ids(a));
  }
  SECTION("adding a key leaves the other keys' draws alone") {
    const Sweep more = parse_sweep(spec + "momentum = { dist = \"uniform\", low = 0.5, high = 0.9 }\n", "r.toml");
    REQUIRE(more.points.size() == a.points.size());
    for (size_t i = 0; i < a.points.size(); ++i) {
      CHECK(more.points[i].config.at("lr") == a.points[i].config.at("lr"));
      CHECK(more.points[i].config.at("dropout") == a.points[i].config.at("dropout"));
    }
  }
  SECTION("every case x grid combination gets the same samples") {
    const Sweep combined = parse_sweep(spec + "[grid]\nepochs = [3, 4]\n", "r.toml");
    REQUIRE(combined.points.size() == 400);
    for (size_t i = 0; i < 200; ++i) {
      CHECK(combined.points[i].config.at("lr") == a.points[i].config.at("lr"));
      CHECK(combined.points[200 + i].config.at("lr") == a.points[i].config.at("lr"));
      CHECK(combined.points[200 + i].config.at("epochs") == 4);
    }
  }
}

// Frozen once: the same (seed, sample, key) must draw the same value on every
// compiler and standard library, or re-running a sweep elsewhere renames its points.
TEST_CASE("random draws have known values on every platform", "[sweeps]") {
  Distribution uniform{Distribution::Kind::kUniform, 0.0, 1.0, {}};
  Distribution log_uniform{Distribution::Kind::kLogUniform, 1e-4, 1e-1, {}};
  Distribution int_uniform{Distribution::Kind::kIntUniform, 1, 100, {}};
  CHECK(draw_value(uniform, 0, 0, "dropout").get<double>() == 0.174414);
  CHECK(draw_value(uniform, 0, 1, "dropout").get<double>() == 0.347712);
  CHECK(draw_value(log_uniform, 0, 0, "lr").get<double>() == 0.000903767);
  CHECK(draw_value(int_uniform, 0, 0, "epochs").get<int>() == 6);
}

TEST_CASE("bad specs are refused with file:line:column and a fix", "[sweeps]") {
  struct Bad {
    const char* what;
    std::string text;
    int line, column;
    std::string message;  // a substring of the message
  };
  const std::vector<Bad> catalogue = {
      {"TOML syntax", "[base]\nlr = 0.1\nepochs = [\n", 3, 12, "TOML syntax error: Error while parsing array"},
      {"redefined key", "[base]\nlr = 0.1\nlr = 0.2\n", 3, 6, "TOML syntax error"},
      {"misspelt key", "[base]\nlrr = 0.1\n", 2, 1, "unknown training key 'lrr' in [base] (did you mean 'lr'?)"},
      {"unknown key, nothing close", "[base]\nzzzzzz = 1\n", 2, 1,
       "unknown training key 'zzzzzz' in [base]; the keys are: model, hidden,"},
      {"wrong type", "[base]\nlr = \"fast\"\n", 2, 6, "lr = \"fast\" has the wrong type: lr must be a number"},
      {"out of range", "[base]\nlr = -0.5\n", 2, 6, "lr = -0.5 is out of range: lr must be in [1e-08, 100]"},
      {"nan", "[base]\nlr = nan\n", 2, 6, "nan is not allowed here: training values must be finite numbers"},
      {"inf", "[base]\ndropout = inf\n", 2, 11, "inf is not allowed here"},
      {"unknown choice", "[base]\nmodel = \"transformer\"\n", 2, 9,
       "model = \"transformer\" is not one of: linear, mlp, cnn, resnet"},
      {"date", "[base]\nlr = 1979-05-27\n", 2, 6, "a date/time is not a training value"},
      {"table value", "[base]\nlr = { x = 1 }\n", 2, 6, "a table is not a training value here"},
      {"base not a table", "base = 3\n", 1, 8, "[base] must be a table"},
      {"seed in base", "[base]\nseed = 3\n", 2, 1,
       "seed cannot be set in [base]: each point's seed comes from the top-level list: write seeds = [0, 1, 2]"},
      {"seed in grid", "[grid]\nseed = [1, 2]\n", 2, 1, "seed cannot be set in [grid]"},
      {"seed in a case", "[[cases]]\nname = \"a\"\nseed = 1\n", 3, 1, "seed cannot be set in case 'a'"},
      {"seed at top level", "seed = [1]\n[base]\n", 1, 1, "seed cannot be set here"},
      {"training key at top level", "lr = 0.1\n", 1, 1, "'lr' is a training key: put it under [base]"},
      {"unknown section", "[gird]\nlr = [0.1]\n", 1, 2, "unknown top-level key 'gird' (did you mean 'grid'?)"},
      {"empty name", "name = \"\"\n[base]\n", 1, 8, "name must not be empty"},
      {"empty sweep", "# nothing\nname = \"x\"\n", 1, 1, "empty sweep: the file trains nothing"},
      {"grid axis not an array", "[grid]\nlr = 0.1\n", 2, 6,
       "grid axis lr must be an array of the values to try, e.g. lr = [value1, value2]; to use one value in every "
       "point, put it under [base]"},
      {"empty grid axis", "[grid]\nlr = []\n", 2, 6, "grid axis lr is empty"},
      {"list key axis of scalars", "[grid]\nhidden = [256, 512]\n", 2, 11,
       "hidden takes a list, so each listed value is itself a list: hidden = [[256], [256, 256]]"},
      {"bad grid value", "[grid]\nlr = [0.1, -1.0]\n", 2, 12, "lr = -1.0 is out of range"},
      {"seeds and repeats", "seeds = [0, 1]\nrepeats = 3\n[base]\n", 2, 11,
       "set either seeds = [...] or repeats = N, not both"},
      {"empty seeds", "seeds = []\n[base]\n", 1, 9, "seeds is empty"},
      {"duplicate seed", "seeds = [0, 0]\n[base]\n", 1, 13, "seed 0 is listed twice in seeds"},
      {"negative seed", "seeds = [2, -1]\n[base]\n", 1, 13, "seeds must be integers in [0, 2147483647]"},
      {"zero repeats", "repeats = 0\n[base]\n", 1, 11, "repeats = 0 is out of range: it must be in [1, 10000]"},
      {"duplicate case name", "[[cases]]\nname = \"a\"\n[[cases]]\nname = \"a\"\n", 4, 8,
       "case name 'a' is already used at line 2: case names must be unique"},
      {"case without name", "[base]\n\n[[cases]]\nlr = 0.1\n", 3, 1, "this [[cases]] entry has no name"},
      {"cases as a table", "[cases]\nname = \"a\"\n", 1, 1, "cases must be an array of tables"},
      {"case key also a grid axis", "[[cases]]\nname = \"a\"\nlr = 0.3\n[grid]\nlr = [0.1, 0.2]\n", 3, 6,
       "case 'a' sets lr, but the [grid] axis (line 5) overrides it in every point"},
      {"grid key also random",
       "[grid]\nlr = [0.1]\n[random]\nsamples = 2\nlr = { dist = \"uniform\", low = 0.01, "
       "high = 0.2 }\n",
       5, 6, "lr is both a [grid] axis (line 2) and drawn in [random]"},
      {"low >= high", "[random]\nsamples = 2\nlr = { dist = \"uniform\", low = 0.5, high = 0.1 }\n", 3, 44,
       "high = 0.1 must be greater than low = 0.5"},
      {"log_uniform from zero", "[random]\nsamples = 2\nlr = { dist = \"log_uniform\", low = 0.0, high = 0.1 }\n", 3,
       36, "log_uniform needs low > 0 (found 0): use uniform to include zero"},
      {"unknown dist", "[random]\nsamples = 2\nlr = { dist = \"gaussian\", low = 0.0, high = 0.1 }\n", 3, 15,
       "unknown dist \"gaussian\"; use one of: uniform, log_uniform, int_uniform, choice"},
      {"misspelt dist", "[random]\nsamples = 2\nlr = { dist = \"unifrom\", low = 0.0, high = 0.1 }\n", 3, 15,
       "unknown dist \"unifrom\" (did you mean 'uniform'?)"},
      {"no samples", "[random]\nlr = { dist = \"uniform\", low = 0.01, high = 0.1 }\n", 1, 1,
       "[random] needs samples = N"},
      {"zero samples", "[random]\nsamples = 0\nlr = { dist = \"uniform\", low = 0.01, high = 0.1 }\n", 2, 11,
       "samples = 0 is out of range"},
      {"nothing drawn", "[random]\nsamples = 3\n", 1, 1, "[random] draws nothing"},
      {"plain value in random", "[random]\nsamples = 3\nlr = 0.1\n", 3, 6,
       "lr in [random] must be a distribution table"},
      {"misspelt dist field", "[random]\nsamples = 3\nlr = { dist = \"uniform\", lo = 0.01, high = 0.1 }\n", 3, 26,
       "unknown field 'lo' in the distribution of lr (did you mean 'low'?)"},
      {"missing high", "[random]\nsamples = 3\nlr = { dist = \"uniform\", low = 0.01 }\n", 3, 6,
       "uniform needs both low and high"},
      {"uniform on an int key", "[random]\nsamples = 3\nepochs = { dist = \"uniform\", low = 1, high = 10 }\n", 3, 19,
       "epochs takes integers: use dist = \"int_uniform\""},
      {"int_uniform with a float bound",
       "[random]\nsamples = 3\nepochs = { dist = \"int_uniform\", low = 1.5, "
       "high = 10 }\n",
       3, 40, "int_uniform bounds must be integers"},
      {"bound out of the key's range",
       "[random]\nsamples = 3\ndropout = { dist = \"uniform\", low = 0.0, high = 2.0 "
       "}\n",
       3, 49, "dropout = 2.0 is out of range: dropout must be in [0, 0.95]"},
      {"choice of scalars for a list key",
       "[random]\nsamples = 3\nhidden = { dist = \"choice\", values = [256, 512] "
       "}\n",
       3, 39, "hidden takes a list, so each listed value is itself a list"},
      {"empty choice", "[random]\nsamples = 3\nlr = { dist = \"choice\", values = [] }\n", 3, 34,
       "values must be a non-empty array"},
      {"choice with bounds", "[random]\nsamples = 3\nlr = { dist = \"choice\", values = [0.1], low = 1.0 }\n", 3, 47,
       "a choice has values = [...], not low/high"},
      {"unknown key in random", "[random]\nsamples = 3\nsmaples = 3\n", 3, 1,
       "unknown key 'smaples' in [random] (did you mean 'samples'?)"},
      // Cross-key problems surface per merged point, at the value that caused them.
      {"dropout without hidden layer (base + case)",
       "[base]\ndropout = 0.5\n[[cases]]\nname = \"deep\"\nhidden = [256]\n[[cases]]\nname = \"linear\"\nhidden = []\n",
       2, 11, "dropout > 0 needs a hidden layer: set hidden = [256] or dropout = 0 (in the point with case 'linear')"},
      {"dropout without hidden layer (grid)",
       "[[cases]]\nname = \"linear\"\nhidden = []\n[grid]\ndropout = [0.0, 0.5]\n", 5, 17,
       "(in the point with case 'linear', dropout = 0.5)"},
      {"cross-key error on a default key points at [base]", "[base]\nschedule = \"warmup_cosine\"\nepochs = 1\n", 2, 12,
       "warmup_epochs = 1 must be smaller than epochs = 1"},
  };
  for (const Bad& bad : catalogue) {
    INFO(bad.what << ":\n" << bad.text);
    const SpecError e = error_of(bad.text);
    CHECK(e.file() == "bad.toml");
    CHECK(e.line() == bad.line);
    CHECK(e.column() == bad.column);
    CHECK_THAT(e.message(), Catch::Contains(bad.message));
    CHECK(std::string(e.what()) ==
          "bad.toml:" + std::to_string(bad.line) + ":" + std::to_string(bad.column) + ": " + e.message());
  }
}

TEST_CASE("bad values in every place: empty files, NaN, negatives, wrong types, huge counts", "[sweeps]") {
  struct Bad {
    const char* what;
    std::string text;
    int line, column;
    std::string message;  // a substring of the message
  };
  const std::string empty_sweep = "empty sweep: the file trains nothing; add a [base] table";
  const std::string lr_draw = "lr = { dist = \"uniform\", low = 0.01, high = 0.1 }\n";
  const std::vector<Bad> catalogue = {
      {"empty file", "", 1, 1, empty_sweep},
      {"blank lines only", "\n\n  \n", 1, 1, empty_sweep},
      {"nan in a grid", "[grid]\nlr = [0.1, nan]\n", 2, 12, "nan is not allowed here: training values must be finite"},
      {"nan as a bound", "[random]\nsamples = 2\nlr = { dist = \"uniform\", low = nan, high = 0.1 }\n", 3, 32,
       "low must be a finite number"},
      {"negative bound", "[random]\nsamples = 2\nweight_decay = { dist = \"uniform\", low = -0.1, high = 0.1 }\n", 3,
       42, "weight_decay = -0.1 is out of range: weight_decay must be in [0, 1]"},
      {"negative value in a case", "[[cases]]\nname = \"a\"\nweight_decay = -0.1\n", 3, 16,
       "weight_decay = -0.1 is out of range: weight_decay must be in [0, 1]"},
      {"negative integer in a grid", "[grid]\nepochs = [3, -3]\n", 2, 14,
       "epochs = -3 is out of range: epochs must be in [1, 100000]"},
      {"float repeats", "repeats = 2.5\n[base]\n", 1, 11, "repeats must be an integer, e.g. repeats = 3; found a float"},
      {"seeds as a string", "seeds = \"0, 1\"\n[base]\n", 1, 9,
       "seeds must be an array of integers, e.g. seeds = [0, 1, 2]; found a string"},
      {"float seed", "seeds = [0.5]\n[base]\n", 1, 10, "seeds must be integers in [0, 2147483647]"},
      {"seed beyond int", "seeds = [2147483648]\n[base]\n", 1, 10, "seeds must be integers in [0, 2147483647]"},
      {"samples as a string", "[random]\nsamples = \"3\"\n" + lr_draw, 2, 11,
       "samples must be an integer, e.g. samples = 12; found a string"},
      {"negative random seed", "[random]\nsamples = 3\nseed = -1\n" + lr_draw, 3, 8,
       "the [random] seed = -1 is out of range: it must be in [0, 9223372036854775807]"},
      {"name as a number", "name = 3\n[base]\n", 1, 8, "name must be a string, e.g. name = \"depth\"; found an integer"},
      {"description as a boolean", "description = true\n[base]\n", 1, 15, "description must be a string"},
      {"integer for a boolean", "[base]\nbatchnorm = 1\n", 2, 13,
       "batchnorm = 1 has the wrong type: batchnorm must be true or false"},
      {"fraction in an int list", "[base]\nhidden = [256.5]\n", 2, 10,
       "hidden = [256.5] has the wrong type: hidden must be a list of integers"},
      {"a string among a grid's numbers", "[grid]\nepochs = [2, \"ten\"]\n", 2, 14,
       "epochs = \"ten\" has the wrong type: epochs must be an integer"},
      {"unknown key in a case", "[[cases]]\nname = \"a\"\nlrr = 0.1\n", 3, 1,
       "unknown training key 'lrr' in case 'a' (did you mean 'lr'?)"},
      {"a million samples", "[random]\nsamples = 1000000\n" + lr_draw, 2, 11,
       "samples = 1000000 is out of range: it must be in [1, 100000]"},
      {"a hundred thousand repeats", "repeats = 100000\n[base]\n", 1, 11,
       "repeats = 100000 is out of range: it must be in [1, 10000]"},
      {"samples x seeds over the limit", "seeds = [0, 1]\n[random]\nsamples = 100000\n" + lr_draw, 2, 1,
       "this sweep would have 200000 points (100000 random samples x 2 seeds), more than the limit of 100000"},
  };
  for (const Bad& bad : catalogue) {
    INFO(bad.what << ":\n" << bad.text);
    const SpecError e = error_of(bad.text);
    CHECK(e.line() == bad.line);
    CHECK(e.column() == bad.column);
    CHECK_THAT(e.message(), Catch::Contains(bad.message));
  }
}

// Regressions of bench/fuzz/fuzz_spec.cpp's findings (their inputs are also in
// bench/fuzz/corpus/spec/bad-crash-*). toml++ 3.3 reaches __builtin_unreachable() when it
// asks whether many non-ASCII characters are whitespace: sweeps/toml_guard.cpp refuses
// those inputs first. Columns count characters, not bytes.
TEST_CASE("inputs found by the spec fuzzer are refused with a position, not a crash", "[sweeps]") {
  const std::string e_acute = "\xc3\xa9";  // é, U+00E9
  const std::string outside = "TOML syntax error: '" + e_acute +
                              "' (U+00E9) outside a quoted string or a comment: TOML names, numbers and booleans "
                              "are plain ASCII; put text in quotes (\"...\") or remove the character";
  struct Bad {
    const char* what;
    std::string text;
    int line, column;
    std::string message;  // the whole message
  };
  const std::vector<Bad> catalogue = {
      {"after a number", "[base]\nlr = 0.1" + e_acute + "\n", 2, 9, outside},
      {"as a key", "[base]\n" + e_acute + " = 1\n", 2, 1, outside},
      {"in a table header", "[base " + e_acute + "]\n", 1, 7, outside},
      {"a quote glued to a number is part of the value", "[base]\nlr =0\"" + e_acute + "\"\n", 2, 7, outside},
      {"in an array's element on a later line", "[grid]\nlr = [0.1,\n  3\"" + e_acute + "\"]\n", 3, 5, outside},
      {"a date, a space and a time", "[base]\nlr = 1979-05-27 0" + e_acute + "\n", 2, 18, outside},
      {"the fuzzer's first input (a key)",
       std::string("[base]\ndropout = 0#0.5\nhidde\xd1\xb7\x00\x00@a\x00\x00se]", 39), 3, 6,
       "TOML syntax error: '\xd1\xb7' (U+0477) outside a quoted string or a comment: TOML names, numbers and "
       "booleans are plain ASCII; put text in quotes (\"...\") or remove the character"},
      {"a byte that is not UTF-8", "[base]\nlr = 0.1\xff\n", 2, 9,
       "TOML syntax error: byte 0xff, which is not UTF-8 (save the file as UTF-8) outside a quoted string or a "
       "comment: TOML names, numbers and booleans are plain ASCII; put text in quotes (\"...\") or remove the "
       "character"},
      // Never echoed: messages travel in JSON, which must be valid UTF-8.
      {"an overlong UTF-8 form", "[base]\nlr = 0.1\xc0\x80\n", 2, 9,
       "TOML syntax error: byte 0xc0, which is not UTF-8 (save the file as UTF-8) outside a quoted string or a "
       "comment: TOML names, numbers and booleans are plain ASCII; put text in quotes (\"...\") or remove the "
       "character"},
      {"a byte that cannot start a UTF-8 sequence, found by the fuzzer", "[base]\n\xfb\xa4\xa4\x9c = 1\n", 2, 1,
       "TOML syntax error: byte 0xfb, which is not UTF-8 (save the file as UTF-8) outside a quoted string or a "
       "comment: TOML names, numbers and booleans are plain ASCII; put text in quotes (\"...\") or remove the "
       "character"},
      {"a UTF-16 surrogate", "[base]\nlr = 0.1\xed\xa0\x80\n", 2, 9,
       "TOML syntax error: byte 0xed, which is not UTF-8 (save the file as UTF-8) outside a quoted string or a "
       "comment: TOML names, numbers and booleans are plain ASCII; put text in quotes (\"...\") or remove the "
       "character"},
      {"a backslash before a non-ASCII character in a \"\"\" string",
       "description = \"\"\"\\" + e_acute + "\"\"\"\n[base]\n", 1, 19,
       "TOML syntax error: invalid escape sequence: a backslash followed by '" + e_acute +
           "' (U+00E9) in a \"\"\" string; write a backslash as \\\\"},
      {"a continued \"\"\" string line starting with a non-ASCII character",
       "description = \"\"\"one \\\n  " + e_acute + "tude\"\"\"\n[base]\n", 2, 3,
       "TOML syntax error: a \"\"\" string continued by a line-ending backslash goes on with '" + e_acute +
           "' (U+00E9), which the TOML library (toml++ 3.3) cannot read there: remove the backslash at the end of "
           "the line before, or start the line with an ASCII character"},
      // A 2^53 + 1 bound made toml++'s value<double>() empty: "bad optional access", no position.
      {"an integer bound above 2^53 (int key)",
       "[random]\nsamples = 2\nepochs = { dist = \"int_uniform\", low = 1, high = 9007199254740993 }\n", 3, 50,
       "epochs = 9007199254740993 is out of range: epochs must be in [1, 100000]"},
      {"an integer bound above 2^53 (float key)",
       "[random]\nsamples = 2\nlr = { dist = \"uniform\", low = 9007199254740993, high = 9007199254740995 }\n", 3, 32,
       "lr = 9007199254740993 is out of range: lr must be in [1e-08, 100]"},
      // These broke debug assertions inside toml++ (compiled out in Debian's library, which then reports them).
      {"a table header without a name", "[&\n", 1, 2,
       "TOML syntax error: Error while parsing key: expected bare key starting character or string delimiter, "
       "saw '&'"},
      {"three brackets", "[[[1]]]\n", 1, 3,
       "TOML syntax error: Error while parsing key: expected bare key starting character or string delimiter, "
       "saw '['"},
      {"a broken time", "[base]\nlr = 1979-05-27Tn00e0:t2d=15*32::00caseeed=07*32:*32:00caseeed=07*32:0000caseZ\n", 2,
       17, "TOML syntax error: Error while parsing time: expected 2-digit hour, saw 'n'"},
  };
  for (const Bad& bad : catalogue) {
    INFO(bad.what << ":\n" << bad.text);
    const SpecError e = error_of(bad.text);
    CHECK(e.line() == bad.line);
    CHECK(e.column() == bad.column);
    CHECK(e.message() == bad.message);
  }
}

TEST_CASE("non-ASCII text in strings, comments and quoted keys is read as written", "[sweeps]") {
  const std::string e_acute = "\xc3\xa9", yi = "\xe4\xb8\x80";  // é U+00E9, 一 U+4E00
  SECTION("strings and comments") {
    const Sweep sweep = parse_sweep("description = \"caf" + e_acute + " " + yi + " \\u00e9\" # r" + e_acute +
                                        "sum" + e_acute + "\n[base]\nactivation = 'tanh' # " + e_acute + "\n",
                                    "accents.toml");
    CHECK(sweep.description == "caf" + e_acute + " " + yi + " " + e_acute);
    CHECK(sweep.points.at(0).config.at("activation") == "tanh");
  }
  SECTION("\"\"\" strings: after an escaped backslash, and on a continued line starting with ASCII") {
    const Sweep escaped = parse_sweep("description = \"\"\"\\\\" + e_acute + "\n" + e_acute + "t" + e_acute +
                                          "\"\"\"\n[base]\n",
                                      "ml.toml");
    CHECK(escaped.description == "\\" + e_acute + "\n" + e_acute + "t" + e_acute);
    const Sweep continued = parse_sweep("description = \"\"\"one \\\n  two " + e_acute + "\"\"\"\n[base]\n", "ml.toml");
    CHECK(continued.description == "one two " + e_acute);
  }
  SECTION("a byte order mark") {
    CHECK(parse_sweep("\xef\xbb\xbf[base]\nepochs = 2\n", "bom.toml").points.at(0).config.at("epochs") == 2);
  }
  SECTION("a quoted non-ASCII key reaches the spec checks") {
    const SpecError e = error_of("[base]\n\"" + e_acute + "\" = 1\n");
    CHECK(e.line() == 2);
    CHECK(e.column() == 1);
    CHECK_THAT(e.message(), Catch::StartsWith("unknown training key '" + e_acute + "' in [base]"));
  }
}

TEST_CASE("every spec fuzz seed parses or is refused as its name says", "[sweeps]") {
  // bench/fuzz/corpus/spec/ holds the fuzzer's seeds and every input it found a problem with:
  // files named valid-* must expand, every other one must be refused with a SpecError naming it.
  const auto corpus = source_dir() / "bench/fuzz/corpus/spec";
  REQUIRE(std::filesystem::is_directory(corpus));
  int valid = 0, invalid = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    const std::string name = entry.path().filename().string();
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(name);
    if (name.rfind("valid-", 0) == 0) {
      const Sweep sweep = parse_sweep(text, name);
      CHECK((!sweep.points.empty() || sweep.search));  // a [search] sweep's points come later
      ++valid;
    } else {
      try {
        parse_sweep(text, name);
        FAIL("accepted");
      } catch (const SpecError& e) {
        CHECK(e.file() == name);
        CHECK_THAT(std::string(e.what()), Catch::StartsWith(name + ":"));
      }
      ++invalid;
    }
  }
  CHECK(valid >= 10);
  CHECK(invalid >= 10);
}

TEST_CASE("the size guard refuses more than 100000 points before expanding", "[sweeps]") {
  const std::string ten_lrs = "[grid]\nlr = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]\n";
  // 10 x 10000 = 100000: exactly at the limit, allowed.
  CHECK(parse_sweep("repeats = 10000\n" + ten_lrs, "ok.toml").points.size() == 100000);

  const SpecError over = error_of(
      "repeats = 10000\n[grid]\nlr = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, "
      "1.0, 1.1]\nepochs = [1]\n");
  CHECK(over.line() == 3);  // the longest axis
  CHECK(over.column() == 6);
  CHECK(over.message() ==
        "this sweep would have 110000 points (grid 11 lr x 1 epochs x 10000 seeds), more than the limit of 100000: "
        "shorten the longest grid axes, replace the grid by [random] with fewer samples, use fewer seeds, or split "
        "the study into several files");

  // A product that overflows 64 bits is reported, not wrapped around to a small number.
  std::string huge =
      "[[cases]]\nname = \"a\"\n[[cases]]\nname = \"b\"\n[random]\nsamples = 100000\nlr = { dist = "
      "\"uniform\", low = 0.01, high = 0.1 }\n[grid]\n";
  const std::vector<std::string> keys = {"epochs",      "batch_size",    "fc_width", "resnet_width",
                                         "step_epochs", "warmup_epochs", "val_size", "train_limit"};
  for (const auto& key : keys) {
    huge += key + " = [";
    for (int v = 1; v <= 400; ++v) huge += std::to_string(v) + (v < 400 ? ", " : "]\n");
  }
  const SpecError overflow = error_of(huge);
  CHECK_THAT(overflow.message(), Catch::StartsWith("this sweep would have more than 10^19 points (2 cases x grid 400 "
                                                   "epochs x 400 batch_size"));
  CHECK_THAT(overflow.message(), Catch::Contains("x 100000 random samples x 1 seed)"));
}

TEST_CASE("load_sweep reads files and names missing ones", "[sweeps]") {
  const auto dir = std::filesystem::temp_directory_path() / "ablate_test_sweeps";
  std::filesystem::create_directories(dir);
  const auto path = (dir / "from_disk.toml").string();
  {
    std::ofstream out(path);
    out << "seeds = [0, 1]\n[base]\nepochs = 2\n";
  }
  const Sweep sweep = load_sweep(path);
  CHECK(sweep.name == "from_disk");
  CHECK(sweep.source_path == path);
  CHECK(sweep.spec_text == "seeds = [0, 1]\n[base]\nepochs = 2\n");
  CHECK(sweep.points.size() == 2);

  const auto missing = (dir / "no_such_sweep.toml").string();
  try {
    load_sweep(missing);
    FAIL("a missing file must throw");
  } catch (const SpecError& e) {
    CHECK(e.file() == missing);
    CHECK(e.line() == 0);
    CHECK(std::string(e.what()) == missing +
                                       ": cannot open the sweep file: No such file or directory (check the "
                                       "path; shipped studies live in sweeps/*.toml)");
  }
  CHECK_THROWS_WITH(load_sweep(dir.string()), Catch::Contains("is a directory, not a sweep file"));

  // Errors in a loaded file name the path as given.
  {
    std::ofstream out(path);
    out << "[base]\n\nepochs = 0\n";
  }
  CHECK_THROWS_WITH(load_sweep(path), path + ":3:10: epochs = 0 is out of range: epochs must be in [1, 100000]");
  std::filesystem::remove_all(dir);
}

TEST_CASE("estimate_point_cost counts FLOPs by hand-computed formulas", "[sweeps]") {
  auto cost = [](json partial) { return estimate_point_cost(ablate::canonicalize_config(partial)); };
  // Images per epoch with the defaults: 3 x 55000 training + 5000 validation + 10000 test
  // + 10000 for the clean train accuracy.
  const double images = 3 * 55000 + 5000 + 10000 + 10000;
  CHECK(cost({{"model", "linear"}, {"epochs", 10}}) == 2.0 * 784 * 10 * 10 * images);
  CHECK(cost({{"model", "mlp"}, {"hidden", json::array()}, {"epochs", 10}}) == 2.0 * 7840 * 10 * images);
  // 784*256 + 256*256 + 256*10 = 268800 multiply-adds
  CHECK(cost({{"hidden", {256, 256}}, {"epochs", 10}}) == 2.0 * 268800 * 10 * images);
  // conv 28*28*1*32*9 = 225792, conv 14*14*32*64*9 = 3612672, fc 64*7*7*128 = 401408, head 1280
  CHECK(cost({{"model", "cnn"}, {"channels", {32, 64}}, {"fc_width", 128}, {"epochs", 1}}) ==
        2.0 * (225792 + 3612672 + 401408 + 1280) * images);
  // conv 28*28*8*9 = 56448, then 8*14*14 = 1568 features straight to 10 classes
  CHECK(cost({{"model", "cnn"}, {"channels", {8}}, {"fc_width", 0}, {"epochs", 1}}) == 2.0 * (56448 + 15680) * images);
  // stem 112896; stage 16ch@28: 2*784*16*16*9 = 3612672; stage 32ch@14: 903168 + 1806336 + 100352 (1x1
  // shortcut); stage 64ch@7: the same 2809856; head 64*10
  CHECK(cost({{"model", "resnet"}, {"resnet_width", 16}, {"resnet_blocks", {1, 1, 1}}, {"epochs", 1}}) ==
        2.0 * (112896 + 3612672 + 2809856 + 2809856 + 640) * images);
  // train_limit caps the training images; one larger than the split changes nothing.
  CHECK(cost({{"model", "linear"}, {"epochs", 1}, {"train_limit", 20000}}) == 2.0 * 7840 * (60000 + 25000));
  CHECK(cost({{"model", "linear"}, {"epochs", 1}, {"train_limit", 100000}}) == 2.0 * 7840 * images);
  CHECK(cost({{"model", "linear"}, {"epochs", 1}, {"val_size", 0}}) == 2.0 * 7840 * (3 * 60000 + 20000));
  // The clean-train subset is never larger than the training split.
  CHECK(cost({{"model", "linear"}, {"epochs", 1}, {"train_limit", 4000}}) == 2.0 * 7840 * (12000 + 15000 + 4000));
  // eval_flip evaluates every image and its mirror: the evaluation passes cost twice.
  CHECK(cost({{"model", "linear"}, {"epochs", 1}, {"eval_flip", true}}) == 2.0 * 7840 * (3 * 55000 + 2 * 25000));
}

TEST_CASE("estimate_model_size reads every family's layer plan", "[sweeps]") {
  auto size = [](json partial) { return ablate::sweeps::estimate_model_size(ablate::canonicalize_config(partial)); };
  // conv 1->8 without bias (BatchNorm follows: + 2*8), then 8*14*14 = 1568 features to 10 classes.
  const auto cnn = size({{"model", "cnn"}, {"channels", {8}}, {"fc_width", 0}, {"batchnorm", true}});
  CHECK(cnn.forward_macs == 56448 + 15680);
  CHECK(cnn.convolution_macs == 56448);
  CHECK(cnn.parameters == 9 * 8 + 2 * 8 + 15680 + 10);
  CHECK(cnn.activations == 3 * (28 * 28 * 8) + 3 * 10);  // convolution and linear outputs, three copies each
  // stem 1->8 (no bias) + BatchNorm; block 8->8 at 28x28; block 8->16 stride 2 at 14x14 with its 1x1
  // shortcut; every convolution bias-free and followed by BatchNorm.
  const auto resnet = size({{"model", "resnet"}, {"resnet_width", 8}, {"resnet_blocks", {1, 1}}});
  CHECK(resnet.forward_macs == 56448 + 784 * (2 * 8 * 8 * 9) + 196 * (8 * 16 * 9 + 16 * 16 * 9 + 8 * 16) + 16 * 10);
  CHECK(resnet.convolution_macs == resnet.forward_macs - 16 * 10);
  CHECK(size({{"model", "mlp"}, {"hidden", {256}}}).convolution_macs == 0);
  CHECK(resnet.parameters == (72 + 16) + (2 * 576 + 32) + (1152 + 2304 + 64 + 128 + 32) + 170);
  CHECK(resnet.activations == 3 * (784 * 8) + 2 * 3 * (784 * 8) + 2 * 3 * (196 * 16) + 3 * 10);
  // Every registered family costs something: none is scheduled last for being unknown.
  for (const auto& name : ablate::model_family_names()) {
    CAPTURE(name);
    const auto s = size({{"model", name}});
    CHECK(s.forward_macs >= 7840);
    CHECK(s.parameters >= 7850);
    CHECK(estimate_point_cost(ablate::canonicalize_config({{"model", name}})) > 0);
  }
  // A family nobody registered is an error, not a zero cost.
  CHECK_THROWS_AS(ablate::sweeps::estimate_model_size({{"model", "transformer"}}), ablate::ConfigError);
}

TEST_CASE("format_plan prints one row per point, then count and cost", "[sweeps]") {
  const Sweep sweep = parse_sweep(R"(name = "tiny"
description = "Tiny plan test"
seeds = [0, 1]
[base]
epochs = 2
[[cases]]
name = "linear"
hidden = []
[[cases]]
name = "wide"
hidden = [512]
[grid]
lr = [0.01, 0.1]
)",
                                  "tiny.toml");
  // First ID: FNV-1a of {"epochs":2,"hidden":[],"lr":0.01}. Cost: linear 2*7840 FLOP/image, wide
  // 2*(784*512 + 5120) = 813056, times 2 epochs x 190000 images x 4 points each: 23.8 + 1235.9 GFLOP;
  // 1260 GFLOP / 20 GFLOP/s = 63 s.
  CHECK(format_plan(sweep) == R"(Sweep 'tiny' (tiny.toml)
Tiny plan test

ID                case    varied                seed
1a76b52fb17e2340  linear  hidden=[] lr=0.01        0
a163639b4a2d5274  linear  hidden=[] lr=0.01        1
365e2cd5a384c290  linear  hidden=[] lr=0.1         0
c5c999424339406b  linear  hidden=[] lr=0.1         1
2a85510eb64a0f9a  wide    hidden=[512] lr=0.01     0
89bacf4ab406733f  wide    hidden=[512] lr=0.01     1
2ec7684774ccff73  wide    hidden=[512] lr=0.1      0
daac4077a676ff5a  wide    hidden=[512] lr=0.1      1

8 points: 4 configurations x 2 seeds.
Estimated compute: 1260 GFLOP, about 63 s at an assumed 20 GFLOP/s (a few CPU cores; a GPU is much faster). Rough: matrix products only, training plus per-epoch evaluation.
)");
}

TEST_CASE("format_plan of a wide sweep shows only departures from the common values", "[sweeps]") {
  const Sweep sweep = parse_sweep(R"(
[[cases]]
name = "baseline"
[[cases]]
name = "cnn"
model = "cnn"
epochs = 12
augment_shift = 2
augment_flip = true
augment_erase = 0.5
label_smoothing = 0.1
[[cases]]
name = "tanh"
activation = "tanh"
)",
                                  "wide.toml");
  const std::string plan = format_plan(sweep);
  CHECK_THAT(plan, Catch::Contains("Most points use model=mlp epochs=10 augment_shift=0 augment_flip=false "
                                   "augment_erase=0.0 label_smoothing=0.0 activation=relu; 'varied' shows where a "
                                   "point differs.\n"));
  CHECK_THAT(plan, Catch::Contains("  tanh      activation=tanh  "));
  CHECK_THAT(plan, Catch::Contains("1 seed"));
}

TEST_CASE("every shipped study parses and expands", "[sweeps]") {
  const auto dir = source_dir() / "sweeps";
  // Expected point counts: a change here should be a deliberate change of a study.
  const std::map<std::string, size_t> expected = {
      {"activations", 15}, {"anchors", 12},       {"anchor_cnn_tuning", 4}, {"augmentation", 15},  {"cnn_vs_mlp", 6}, {"depth", 12},          {"hparam_search", 36}, {"hparam_search_tpe", 0}, {"hparam_search_asha", 81},
      {"modern", 15},      {"normalization", 36}, {"quickstart", 3}, {"regularization", 21}, {"seed_study", 81},
      {"test_time_flip", 6}};
  std::map<std::string, Sweep> studies;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".toml") continue;
    INFO(entry.path());
    const Sweep sweep = load_sweep(entry.path().string());
    CHECK(sweep.name == entry.path().stem().string());
    CHECK_FALSE(sweep.description.empty());
    CHECK(sweep.collapsed_duplicates == 0);
    // One seed where the study is about a budget or a quick look (a screen before three seeds),
    // three where it compares settings.
    const bool one_seed =
        sweep.name == "quickstart" || sweep.name == "hparam_search_asha" || sweep.name == "anchor_cnn_tuning";
    CHECK(sweep.seeds == (one_seed ? std::vector<int>{0} : std::vector<int>{0, 1, 2}));
    CHECK_FALSE(format_plan(sweep).empty());
    studies.emplace(sweep.name, sweep);
  }
  std::map<std::string, size_t> counts;
  for (const auto& [name, sweep] : studies) counts[name] = sweep.points.size();
  CHECK(counts == expected);

  // The tuning screen's first case is the CNN anchor itself: its point is the anchor's seed 0.
  const auto anchor_ids = ids(studies.at("anchors"));
  CHECK(std::count(anchor_ids.begin(), anchor_ids.end(), studies.at("anchor_cnn_tuning").points.front().id) == 1);
  // ... and the case it chose on validation is the tuned anchor: its seed 0 is the screen's point.
  const Sweep& screen = studies.at("anchor_cnn_tuning");
  const auto chosen = std::find_if(screen.points.begin(), screen.points.end(),
                                   [](const SweepPoint& p) { return p.case_name == "erase_20_no_dropout"; });
  REQUIRE(chosen != screen.points.end());
  const auto& anchors = studies.at("anchors").points;
  const auto tuned = std::find_if(anchors.begin(), anchors.end(), [](const SweepPoint& p) {
    return p.case_name == "cnn_bn_aug_tuned" && p.seed == 0;
  });
  REQUIRE(tuned != anchors.end());
  CHECK(tuned->id == chosen->id);

  // seed_study repeats the other studies' configurations exactly, so they share point IDs (and results).
  const auto seed_study_ids = ids(studies.at("seed_study"));
  std::set<std::string> all(seed_study_ids.begin(), seed_study_ids.end());
  for (const char* name : {"depth", "activations", "regularization", "cnn_vs_mlp", "augmentation", "modern"})
    for (const auto& point : studies.at(name).points) {
      INFO(name << " case '" << point.case_name << "' " << point.config_text);
      CHECK(all.count(point.id) == 1);
    }
}

TEST_CASE("command-line overrides (--set) apply to every point last, change IDs and are recorded in the spec text", "[sweeps]") {
  const std::string text = R"(seeds = [0, 1]
[base]
model = "mlp"
epochs = 15
[[cases]]
name = "shallow"
hidden = [256]
[[cases]]
name = "long"
epochs = 30
)";
  const Sweep plain = parse_sweep(text, "study.toml");
  const Sweep cheap = parse_sweep(text, "study.toml", {"train_limit=20000", "epochs=4"});
  REQUIRE(cheap.points.size() == plain.points.size());
  for (size_t i = 0; i < cheap.points.size(); ++i) {
    CHECK(cheap.points[i].config.at("train_limit") == 20000);
    CHECK(cheap.points[i].config.at("epochs") == 4);  // over [base] and the case's own epochs = 30
    CHECK(cheap.points[i].seed == plain.points[i].seed);
    CHECK(cheap.points[i].case_name == plain.points[i].case_name);
    CHECK(cheap.points[i].id != plain.points[i].id);  // another configuration, another ID
  }
  // What is set for everyone is not a swept factor any more.
  CHECK(std::find(plain.varied_keys.begin(), plain.varied_keys.end(), "epochs") != plain.varied_keys.end());
  CHECK(std::find(cheap.varied_keys.begin(), cheap.varied_keys.end(), "epochs") == cheap.varied_keys.end());
  CHECK(cheap.spec_text.rfind(text, 0) == 0);
  CHECK(cheap.spec_text.find("# ablate --set \"train_limit=20000\"\n# ablate --set \"epochs=4\"") !=
        std::string::npos);
  CHECK(plain.spec_text == text);

  // Setting every point to the same value can make points identical: they collapse.
  const Sweep same = parse_sweep(text, "study.toml", {"hidden=256", "epochs=15"});
  CHECK(same.points.size() == 2);
  CHECK(same.collapsed_duplicates == 2);
}

TEST_CASE("bad --set overrides name the override and the fix", "[sweeps]") {
  const std::string text = "[base]\nmodel = \"mlp\"\n";
  auto message_of = [&](const std::string& assignment) {
    try {
      parse_sweep(text, "study.toml", {assignment});
    } catch (const SpecError& e) {
      return std::string(e.what());
    }
    FAIL("expected a SpecError for --set " << assignment);
    return std::string();
  };
  CHECK_THAT(message_of("epoch=3"), Catch::Contains("--set epoch=3") && Catch::Contains("did you mean 'epochs'"));
  CHECK_THAT(message_of("lr"), Catch::Contains("key=value"));
  CHECK_THAT(message_of("lr=fast"), Catch::Contains("--set lr=fast") && Catch::Contains("cannot read 'fast'"));
  CHECK_THAT(message_of("seed=3"), Catch::Contains("seeds") && Catch::Contains("edit that list"));
  CHECK_THAT(message_of("lr=-1"), Catch::Contains("lr") && Catch::Contains("--set lr="));
}
