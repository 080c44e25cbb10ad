// Line-oriented text for the scheduler's messages; every decoder checks its input.
#include "orchestrator/messages.hpp"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "core/curve_fields.hpp"
#include "core/number_text.hpp"
#include "core/result_codec.hpp"
#include <vector>

namespace ablate {
namespace {

// Splits "head\nrest" at the first newline; a message without one is malformed.
std::pair<std::string_view, std::string_view> split_first_line(std::string_view text, const char* what) {
  const size_t newline = text.find('\n');
  if (newline == std::string_view::npos)
    throw MessageError(fmt::format("malformed {} message (no newline): '{}'", what, text.substr(0, 80)));
  return {text.substr(0, newline), text.substr(newline + 1)};
}

// Reads whitespace-separated numbers off the front of a string_view.
class NumberReader {
 public:
  NumberReader(std::string_view text, const char* what) : text_(text), what_(what) {}

  // `field` names the number in the error, when given.
  template <typename T>
  T next(const char* field = nullptr) {
    skip_space();
    T value{};
    const auto [end, error] = std::from_chars(text_.data(), text_.data() + text_.size(), value);
    if (error != std::errc())
      throw MessageError(fmt::format("malformed {} message: expected a number{} at '{}'", what_,
                                     field ? fmt::format(" ({})", field) : "", text_.substr(0, 40)));
    text_.remove_prefix(static_cast<size_t>(end - text_.data()));
    return value;
  }

  // The `bytes` characters after the one space that follows the number before them.
  std::string_view next_text(size_t bytes, const char* field) {
    if (text_.empty() || text_.front() != ' ' || text_.size() - 1 < bytes)
      throw MessageError(fmt::format("malformed {} message: {} should be {} characters, {} came", what_, field, bytes,
                                     text_.empty() ? 0 : text_.size() - 1));
    const std::string_view out = text_.substr(1, bytes);
    text_.remove_prefix(1 + bytes);
    return out;
  }

  bool at_end() {
    skip_space();
    return text_.empty();
  }

 private:
  void skip_space() {
    while (!text_.empty() && (text_.front() == ' ' || text_.front() == '\n')) text_.remove_prefix(1);
  }

  std::string_view text_;
  const char* what_;
};

// append_number writes the shortest text that reads back to the same double; NaN
// and infinities come out as "nan", "inf", "-inf", which from_chars reads back.
void append_row(std::string& out, const EpochMetrics& m) {
  append_number(out, m.epoch);
  for (const auto& field : kCurveFields) {
    out += ' ';
    append_number(out, m.*field.member);
  }
  out += '\n';
}

EpochMetrics read_row(NumberReader& in) {
  EpochMetrics m;
  m.epoch = in.next<int>();
  for (const auto& field : kCurveFields) m.*field.member = in.next<double>();
  return m;
}

}  // namespace

std::string encode_hello(const Hello& hello) {
  return nlohmann::json{{"fingerprint", hello.fingerprint}, {"host", hello.host},       {"device", hello.device},
                        {"software", hello.software},       {"threads", hello.threads}, {"error", hello.error},
                        {"exit_code", hello.exit_code}}
      .dump();
}

Hello decode_hello(std::string_view text) {
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  try {
    if (json.is_discarded()) throw std::invalid_argument("not JSON");
    Hello hello;
    hello.fingerprint = json.at("fingerprint").get<std::string>();
    hello.host = json.at("host").get<std::string>();
    hello.device = json.at("device").get<std::string>();
    hello.software = json.at("software").get<std::string>();
    hello.threads = json.at("threads").get<int>();
    hello.error = json.at("error").get<std::string>();
    hello.exit_code = json.at("exit_code").get<int>();
    return hello;
  } catch (const std::exception& e) {
    throw MessageError(fmt::format("malformed hello message ({}): '{}'", e.what(), text.substr(0, 200)));
  }
}

std::string encode_assignment(const std::vector<WorkItem>& pack) {
  std::string out;
  for (const auto& item : pack)
    fmt::format_to(std::back_inserter(out), "{} {} {} {}\n{}", item.id, item.until, item.verdict_each_epoch ? 1 : 0,
                   item.config_text.size(), item.config_text);
  return out;
}

std::vector<WorkItem> decode_assignment(std::string_view text) {
  std::vector<WorkItem> pack;
  do {
    const auto [head, rest] = split_first_line(text, "assignment");
    const size_t space = head.find(' ');
    if (space == std::string_view::npos || space == 0)
      throw MessageError(fmt::format("malformed assignment message: '{}'", head.substr(0, 80)));
    NumberReader in(head.substr(space + 1), "assignment");
    WorkItem item;
    item.id = std::string(head.substr(0, space));
    item.until = in.next<int>();
    item.verdict_each_epoch = in.next<int>() != 0;
    const auto bytes = in.next<size_t>();
    if (bytes > rest.size())
      throw MessageError(fmt::format("malformed assignment message: point {} has {} bytes of config, {} came",
                                     item.id, bytes, rest.size()));
    item.config_text = std::string(rest.substr(0, bytes));
    text = rest.substr(bytes);
    pack.push_back(std::move(item));
  } while (!text.empty());
  return pack;
}

std::string encode_verdict(EpochVerdict verdict) { return to_string(verdict); }

EpochVerdict decode_verdict(std::string_view text) {
  for (EpochVerdict v : {EpochVerdict::go_on, EpochVerdict::pause, EpochVerdict::stop})
    if (text == to_string(v)) return v;
  throw MessageError(fmt::format("malformed verdict message: '{}'", text.substr(0, 40)));
}

std::string encode_point_verdict(const std::string& id, EpochVerdict verdict) {
  return id + '\n' + encode_verdict(verdict);
}

std::pair<std::string, EpochVerdict> decode_point_verdict(std::string_view text) {
  const auto [id, verdict] = split_first_line(text, "verdict");
  return {std::string(id), decode_verdict(verdict)};
}

std::string encode_epoch(const std::string& id, const EpochMetrics& row) {
  std::string out = id + '\n';
  append_row(out, row);
  return out;
}

std::pair<std::string, EpochMetrics> decode_epoch(std::string_view text) {
  const auto [id, rest] = split_first_line(text, "epoch");
  NumberReader in(rest, "epoch");
  return {std::string(id), read_row(in)};
}

// The result travels as plain numbers, like the epochs: rank 0 reads one per
// point, and nlohmann's JSON parser took ~28 us for the ~800 bytes of a
// one-epoch result, the largest cost of a zero-work point on rank 0. The fields
// are the codec's table (core/result_codec.hpp), in its order:
//   id
//   <kResultScalars, space-separated>
//   <bytes> <device>
//   <n> <confusion_test...>       n = 100 or 0 (a result without them), also for
//   <n> <confusion_val...>        confusion_val and (n = 10) per_class_acc
//   <n> <per_class_acc...>
//   <n> <test_predictions, one digit per image>
//   <rows>
//   <curve row>...                as encode_epoch writes them
namespace {

template <typename T>
void append_list(std::string& out, const std::vector<T>& values) {
  append_number(out, values.size());
  for (const T& v : values) {
    out += ' ';
    append_number(out, v);
  }
  out += '\n';
}

template <typename T>
std::vector<T> read_list(NumberReader& in, const char* name, size_t expected) {
  const auto count = in.next<size_t>(name);
  if (count != expected && count != 0)  // none: a result without them
    throw MessageError(fmt::format("malformed result message: {} must hold {} values, got {}", name, expected, count));
  std::vector<T> values(count);
  for (T& v : values) v = in.next<T>(name);
  return values;
}

}  // namespace

std::string encode_done(const std::string& id, const TrainResult& result) {
  std::string out = id + '\n';
  const char* separator = "";
  for (const auto& scalar : kResultScalars) {
    out += separator;
    std::visit([&](auto member) { append_number(out, result.*member); }, scalar.member);
    separator = " ";
  }
  out += '\n';
  append_number(out, result.device.size());
  out += ' ' + result.device + '\n';
  append_list(out, result.confusion_test);
  append_list(out, result.confusion_val);
  append_list(out, result.per_class_acc);
  append_number(out, result.test_predictions.size());
  out += ' ' + predictions_to_digits(result.test_predictions) + '\n';
  append_number(out, result.curves.size());
  out += '\n';
  for (const auto& row : result.curves) append_row(out, row);
  return out;
}

std::pair<std::string, TrainResult> decode_done(std::string_view text) {
  const auto [id, rest] = split_first_line(text, "result");
  NumberReader in(rest, "result");
  TrainResult result;
  for (const auto& scalar : kResultScalars)
    std::visit(
        [&](auto member) {
          using Value = std::remove_reference_t<decltype(result.*member)>;
          result.*member = in.next<Value>(scalar.name);
        },
        scalar.member);
  result.device = std::string(in.next_text(in.next<size_t>("device"), "device"));
  constexpr size_t kCells = kNumClasses * kNumClasses;
  result.confusion_test = read_list<int64_t>(in, "confusion_test", kCells);
  result.confusion_val = read_list<int64_t>(in, "confusion_val", kCells);
  result.per_class_acc = read_list<double>(in, "per_class_acc", kNumClasses);
  const std::string_view digits = in.next_text(in.next<size_t>("test_predictions"), "test_predictions");
  try {
    result.test_predictions = predictions_from_digits(digits);
  } catch (const std::invalid_argument& e) {
    throw MessageError(fmt::format("malformed result message: {}", e.what()));
  }
  result.curves.resize(in.next<size_t>("curves"));
  for (auto& row : result.curves) row = read_row(in);
  if (!in.at_end()) throw MessageError("malformed result message: more after the last curve row");
  return {std::string(id), std::move(result)};
}

std::string encode_failure(const std::string& id, const std::string& error) { return id + '\n' + error; }

std::pair<std::string, std::string> decode_failure(std::string_view text) {
  const auto [id, error] = split_first_line(text, "failure");
  return {std::string(id), std::string(error)};
}

}  // namespace ablate
