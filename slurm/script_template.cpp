// Fills {{name}} placeholders; see script_template.hpp.
#include "slurm/script_template.hpp"

#include <fmt/format.h>

#include <set>
#include <stdexcept>

namespace ablate::slurm {

std::string fill_template(std::string_view text, const std::map<std::string, std::string>& values,
                          std::string_view template_name) {
  constexpr std::string_view kOpen = "{{";
  constexpr std::string_view kClose = "}}";
  std::string filled;
  std::set<std::string> used;
  size_t position = 0;
  while (true) {
    const size_t open = text.find(kOpen, position);
    if (open == std::string_view::npos) break;
    const size_t close = text.find(kClose, open + kOpen.size());
    if (close == std::string_view::npos) {
      throw std::logic_error(fmt::format("template {}: '{{{{' at byte {} is never closed", template_name, open));
    }
    const std::string name(text.substr(open + kOpen.size(), close - open - kOpen.size()));
    const auto value = values.find(name);
    if (value == values.end()) {
      throw std::logic_error(fmt::format("template {}: no value for placeholder {{{{{}}}}}", template_name, name));
    }
    filled.append(text.substr(position, open - position));
    filled += value->second;
    used.insert(name);
    position = close + kClose.size();
  }
  filled.append(text.substr(position));
  for (const auto& [name, value] : values) {
    if (!used.count(name)) {
      throw std::logic_error(fmt::format("template {}: value for {{{{{}}}}} but no such placeholder", template_name, name));
    }
  }
  return filled;
}

}  // namespace ablate::slurm
