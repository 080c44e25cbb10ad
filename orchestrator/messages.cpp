// Line-oriented text for the scheduler's messages; every decoder checks its input.
#include "orchestrator/messages.hpp"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>
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

  template <typename T>
  T next() {
    while (!text_.empty() && (text_.front() == ' ' || text_.front() == '\n')) text_.remove_prefix(1);
    T value{};
    const auto [end, error] = std::from_chars(text_.data(), text_.data() + text_.size(), value);
    if (error != std::errc())
      throw MessageError(fmt::format("malformed {} message: expected a number at '{}'", what_, text_.substr(0, 40)));
    text_.remove_prefix(static_cast<size_t>(end - text_.data()));
    return value;
  }
  // The rest of the current line, without its newline.
  std::string_view line() {
    while (!text_.empty() && text_.front() == ' ') text_.remove_prefix(1);
    const size_t newline = text_.find('\n');
    const std::string_view out = text_.substr(0, newline);
    text_.remove_prefix(newline == std::string_view::npos ? text_.size() : newline + 1);
    return out;
  }
  void expect(std::string_view word) {
    while (!text_.empty() && (text_.front() == ' ' || text_.front() == '\n')) text_.remove_prefix(1);
    if (text_.substr(0, word.size()) != word)
      throw MessageError(fmt::format("malformed {} message: expected '{}' at '{}'", what_, word, text_.substr(0, 40)));
    text_.remove_prefix(word.size());
  }

 private:
  std::string_view text_;
  const char* what_;
};

// fmt's "{}" is the shortest text that reads back to the same double; NaN and
// infinities come out as "nan", "inf", "-inf", which from_chars reads back.
void append_row(std::string& out, const EpochMetrics& m) {
  fmt::format_to(std::back_inserter(out), "{} {} {} {} {} {} {} {} {} {}\n", m.epoch, m.train_loss, m.train_acc,
                 m.val_loss, m.val_acc, m.test_loss, m.test_acc, m.lr, m.epoch_seconds, m.images_per_second);
}

EpochMetrics read_row(NumberReader& in) {
  EpochMetrics m;
  m.epoch = in.next<int>();
  for (double* field : {&m.train_loss, &m.train_acc, &m.val_loss, &m.val_acc, &m.test_loss, &m.test_acc, &m.lr,
                        &m.epoch_seconds, &m.images_per_second})
    *field = in.next<double>();
  return m;
}

template <typename T>
void append_list(std::string& out, const char* name, const std::vector<T>& values) {
  fmt::format_to(std::back_inserter(out), "{} {}", name, values.size());
  for (const T& v : values) fmt::format_to(std::back_inserter(out), " {}", v);
  out += '\n';
}

template <typename T>
std::vector<T> read_list(NumberReader& in, const char* name) {
  in.expect(name);
  const size_t count = in.next<size_t>();
  if (count > 1'000'000) throw MessageError(fmt::format("malformed result message: {} claims {} values", name, count));
  std::vector<T> values(count);
  for (T& v : values) v = in.next<T>();
  return values;
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

std::string encode_assignment(const WorkItem& item) { return item.id + '\n' + item.config_text; }

WorkItem decode_assignment(std::string_view text) {
  const auto [id, config] = split_first_line(text, "assignment");
  return {std::string(id), std::string(config)};
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

std::string encode_done(const std::string& id, const TrainResult& r) {
  std::string out = id + '\n';
  fmt::format_to(std::back_inserter(out), "curves {}\n", r.curves.size());
  for (const auto& row : r.curves) append_row(out, row);
  append_list(out, "confusion_test", r.confusion_test);
  append_list(out, "confusion_val", r.confusion_val);
  append_list(out, "per_class_acc", r.per_class_acc);
  fmt::format_to(std::back_inserter(out), "summary {} {} {} {} {} {}\n", r.best_epoch, r.best_val_acc, r.final_test_acc,
                 r.test_acc_at_best_val, r.parameter_count, r.train_seconds);
  out += "predictions " + predictions_to_digits(r.test_predictions) + '\n';
  out += "device " + r.device + '\n';
  return out;
}

std::pair<std::string, TrainResult> decode_done(std::string_view text) {
  const auto [id, rest] = split_first_line(text, "result");
  NumberReader in(rest, "result");
  TrainResult r;
  in.expect("curves");
  const size_t rows = in.next<size_t>();
  if (rows > 1'000'000) throw MessageError(fmt::format("malformed result message: {} curve rows", rows));
  for (size_t i = 0; i < rows; ++i) r.curves.push_back(read_row(in));
  r.confusion_test = read_list<int64_t>(in, "confusion_test");
  r.confusion_val = read_list<int64_t>(in, "confusion_val");
  r.per_class_acc = read_list<double>(in, "per_class_acc");
  in.expect("summary");
  r.best_epoch = in.next<int>();
  r.best_val_acc = in.next<double>();
  r.final_test_acc = in.next<double>();
  r.test_acc_at_best_val = in.next<double>();
  r.parameter_count = in.next<int64_t>();
  r.train_seconds = in.next<double>();
  in.line();  // the end of the summary line
  in.expect("predictions");
  r.test_predictions = predictions_from_digits(in.line());
  in.expect("device");
  r.device = std::string(in.line());
  return {std::string(id), std::move(r)};
}

std::string encode_failure(const std::string& id, const std::string& error) { return id + '\n' + error; }

std::pair<std::string, std::string> decode_failure(std::string_view text) {
  const auto [id, error] = split_first_line(text, "failure");
  return {std::string(id), std::string(error)};
}

}  // namespace ablate
