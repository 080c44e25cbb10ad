// append_number: a number's shortest text that reads back bitwise (std::to_chars),
// appended to a string; for the text written per point (messages, journal records),
// where fmt::format_to through a back_inserter cost ~50 ns a character.
#pragma once

#include <charconv>
#include <string>
#include <system_error>

namespace ablate {

// Integers in decimal; doubles in their shortest round-trip form ("0.1", "1e-07",
// "1" for 1.0, "nan", "-nan", "inf", "-inf"), which std::from_chars reads back bitwise.
template <typename T>
void append_number(std::string& out, T value) {
  char text[32];
  const auto [end, error] = std::to_chars(text, text + sizeof text, value);
  if (error == std::errc()) out.append(text, end);
}

}  // namespace ablate
