// `ablate plan` and `ablate status`: thin layers over sweeps/ and the results summary.
#include "orchestrator/plan_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/config.hpp"
#include "orchestrator/exit_codes.hpp"
#include "orchestrator/pack_size.hpp"
#include "orchestrator/results/pareto_front.hpp"
#include "orchestrator/results/results_summary.hpp"
#include "sweeps/sweep.hpp"

#include <cstdint>

namespace ablate {

namespace {

// "model=mlp hidden=[256,256]": the shape keys that tell this shape from the sweep's others.
std::string shape_text(const nlohmann::json& shape, const std::set<std::string>& differing) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : shape.items())
    if (differing.count(key)) parts.push_back(key + "=" + (value.is_string() ? value.get<std::string>() : value.dump()));
  return parts.empty() ? "every point" : fmt::format("{}", fmt::join(parts, " "));
}

}  // namespace

std::string format_pack_plan(const sweeps::Sweep& sweep, int pack, const std::string& device) {
  const std::string option = pack == kPackAuto ? fmt::format("auto, sized for {}", device) : std::to_string(pack);
  if (sweep.search)
    return fmt::format("packs (--pack {}): a [search] sweep's points are suggested while it runs; each pack takes "
                       "the points suggested so far that share its first point's shape\n",
                       option);
  // Shapes in the run's order: most expensive point first.
  struct Shape {
    nlohmann::json keys;
    int points = 0, size = 1;
  };
  std::vector<std::pair<double, const sweeps::SweepPoint*>> order;
  for (const auto& p : sweep.points) order.push_back({p.cost, &p});
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> keys;
  std::map<std::string, Shape> shapes;
  for (const auto& [cost, p] : order) {
    const std::string key = pack_key(p->config);
    auto [it, fresh] = shapes.try_emplace(key);
    if (fresh) {
      keys.push_back(key);
      it->second.keys = nlohmann::json::parse(key);
      it->second.size = pack_size_for(pack, p->config, device);
    }
    ++it->second.points;
  }
  std::set<std::string> differing;  // shape keys whose values differ between shapes
  for (const auto& key : keys)
    for (const auto& [name, value] : shapes.at(key).keys.items())
      if (value != shapes.at(keys.front()).keys.at(name)) differing.insert(name);
  std::string text;
  int packs = 0;
  for (const auto& key : keys) {
    const Shape& shape = shapes.at(key);
    const int full = shape.points / shape.size, rest = shape.points % shape.size;
    packs += full + (rest > 0 ? 1 : 0);
    std::string made = full > 0 ? fmt::format("{} pack{} of {}", full, full == 1 ? "" : "s", shape.size) : "";
    if (rest > 0) made += fmt::format("{}1 pack of {}", made.empty() ? "" : " + ", rest);
    text += fmt::format("  {:<40} {:>5} point{}  -> {}\n", shape_text(shape.keys, differing), shape.points,
                        shape.points == 1 ? " " : "s", made);
  }
  return fmt::format("packs (--pack {}): {} points in {} shape{} (equal shape keys) -> {} pack{}{}\n", option,
                     sweep.points.size(), keys.size(), keys.size() == 1 ? "" : "s", packs, packs == 1 ? "" : "s",
                     sweep.early_stopping ? "; early stopping regroups them at its rungs" : "") +
         text;
}

int run_plan_command(const std::string& spec_path, const std::vector<std::string>& overrides, std::ostream& out,
                     int pack, const std::string& device) {
  if (pack != kPackAuto && (pack < 1 || pack > kMaxPack))
    throw OptionError(fmt::format("--pack {}: use 1 to {} points per pack, or auto", pack, kMaxPack));
  if (device != "cpu" && device != "cuda") throw OptionError(fmt::format("--device {}: use cpu or cuda", device));
  const sweeps::Sweep sweep = sweeps::load_sweep(spec_path, overrides);
  out << sweeps::format_plan(sweep);
  if (pack != 1) out << "\n" << format_pack_plan(sweep, pack, device);
  out.flush();
  return kExitOk;
}

int run_status_command(const std::string& results_path, int top, std::ostream& out, bool json, bool pareto) {
  if (top < 0) throw OptionError("--top " + std::to_string(top) + ": use 0 or more");
  if (json && pareto) throw OptionError("--pareto prints text: leave out --json (or --pareto)");
  if (pareto)
    out << format_pareto_fronts(read_pareto_fronts(results_path));
  else if (json)  // every failed point's error: a script should not have to open the file for them
    out << results_summary_json(read_results_summary(results_path, static_cast<size_t>(top), SIZE_MAX)).dump(2)
        << "\n";
  else
    out << format_results_summary(read_results_summary(results_path, static_cast<size_t>(top)));
  out.flush();
  return kExitOk;
}

}  // namespace ablate
