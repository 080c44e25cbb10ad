// Parses Slurm time limits; see time_limit.hpp.
#include "slurm/time_limit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "slurm/slurm_error.hpp"

namespace ablate::slurm {
namespace {

constexpr long long kMinute = 60;
constexpr long long kHour = 60 * kMinute;
constexpr long long kDay = 24 * kHour;
// Far beyond any real limit, and small enough that sums of fields cannot overflow.
constexpr long long kLargestField = 100000000;

[[noreturn]] void refuse(std::string_view text, std::string_view why) {
  throw SlurmError(fmt::format(
      "--time '{}' {}; write minutes (90), hours:minutes:seconds (02:00:00) or "
      "days-hours:minutes:seconds (1-12:00:00), or UNLIMITED",
      text, why));
}

long long parse_field(std::string_view text, std::string_view field) {
  if (field.empty() || field.size() > 9 ||
      !std::all_of(field.begin(), field.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    refuse(text, fmt::format("has '{}' where a number belongs", field));
  }
  const long long value = std::stoll(std::string(field));
  if (value > kLargestField) refuse(text, "is far too long");
  return value;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

}  // namespace

std::optional<long long> parse_time_limit(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  if (upper == "UNLIMITED" || upper == "INFINITE") return std::nullopt;
  if (text.empty()) refuse(text, "is empty");

  long long days = 0;
  std::string_view clock = text;
  const size_t dash = text.find('-');
  const bool has_days = dash != std::string_view::npos;
  if (has_days) {
    days = parse_field(text, text.substr(0, dash));
    clock = text.substr(dash + 1);
  }
  const auto fields = split(clock, ':');
  if (fields.size() > 3) refuse(text, "has more than three ':'-separated fields");
  std::vector<long long> values;
  for (const auto field : fields) values.push_back(parse_field(text, field));

  long long seconds = 0;
  if (has_days) {
    // days-hours[:minutes[:seconds]]
    seconds = days * kDay + values[0] * kHour;
    if (values.size() > 1) seconds += values[1] * kMinute;
    if (values.size() > 2) seconds += values[2];
  } else if (values.size() == 1) {
    seconds = values[0] * kMinute;  // minutes
  } else if (values.size() == 2) {
    seconds = values[0] * kMinute + values[1];  // minutes:seconds
  } else {
    seconds = values[0] * kHour + values[1] * kMinute + values[2];  // hours:minutes:seconds
  }
  if (seconds == 0) return std::nullopt;  // Slurm: a limit of 0 means none
  return seconds;
}

}  // namespace ablate::slurm
