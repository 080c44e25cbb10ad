// A minimal template filler for job scripts: {{name}} placeholders, nothing else.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace ablate::slurm {

// `text` with each {{name}} replaced by values.at(name). Values are inserted as given (quote
// them first). Every placeholder must have a value and every value a placeholder, so a
// template and its filler cannot drift apart silently: std::logic_error names the mismatch and
// `template_name`.
std::string fill_template(std::string_view text, const std::map<std::string, std::string>& values,
                          std::string_view template_name);

}  // namespace ablate::slurm
