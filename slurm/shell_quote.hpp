// Quoting for the two languages of a batch script: bash words and #SBATCH directive values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ablate::slurm {

// One bash word that expands to exactly `text`, whatever it holds: 'text' with each ' written
// as '\''. Spaces, quotes, $, backticks, backslashes, globs and newlines stay literal.
// Throws SlurmError for a NUL byte (no bash word can hold one); `what` names the input.
std::string bash_quote(std::string_view text, std::string_view what);

// The words of `words`, each bash_quote'd, separated by spaces ("" for none).
std::string bash_quote_words(const std::vector<std::string>& words, std::string_view what);

// The value of `#SBATCH --<option>=<value>` so that sbatch reads back exactly `value`: as is
// when it holds only [A-Za-z0-9._:@+,=/%-], else in double quotes with \ and " escaped (sbatch
// groups quoted text and honours backslash escapes). sbatch reads a directive up to the end of
// its line, so control characters (newline above all) cannot be carried: SlurmError naming
// `option` (e.g. "--job-name").
std::string sbatch_value(std::string_view option, std::string_view value);

// A path for --output/--error with Slurm's filename patterns (%j, %x, ...) made literal:
// each % doubled. Throws SlurmError for a backslash, which makes Slurm ignore every pattern.
std::string slurm_filename_literal(std::string_view path, std::string_view what);

}  // namespace ablate::slurm
