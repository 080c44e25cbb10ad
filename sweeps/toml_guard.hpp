// refuse_toml_parser_traps: a pre-check of spec text for the inputs on which toml++ 3.3
// (Debian's) reaches undefined behaviour, so they are refused with a SpecError instead.
#pragma once

#include <string>
#include <string_view>

namespace ablate::sweeps {

// toml++ 3.3.0's whitespace test reaches __builtin_unreachable() for many non-ASCII characters
// (most of Latin-1, Greek, Cyrillic, ...) wherever its parser looks for whitespace: outside
// strings and comments, right after a backslash in a """ string, and at the start of a line
// continued by a line-ending backslash in a """ string (found by bench/fuzz/fuzz_spec.cpp;
// fixed upstream after 3.3). All of these are invalid TOML but the last, which is rare in a
// sweep file and refused too. Non-ASCII text in strings and comments is fine.
// Throws SpecError (file:line:column, columns counted in characters) at the character.
void refuse_toml_parser_traps(std::string_view text, const std::string& source_name);

}  // namespace ablate::sweeps
