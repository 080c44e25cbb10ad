// Tests of core/result_codec: curve rows through JSON, old rows without train_eval_* or pack_members.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "core/curve_fields.hpp"
#include "core/result_codec.hpp"

using nlohmann::json;

namespace {
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

ablate::EpochMetrics sample_row() {
  ablate::EpochMetrics m;
  m.epoch = 7;
  double value = 0.125;
  for (const auto& field : ablate::kCurveFields) m.*field.member = (value *= 1.5);  // every column distinct
  m.train_eval_acc = std::nan("");
  m.lr = 0.1 / 3;  // not exactly representable: must come back bitwise
  return m;
}
}  // namespace

TEST_CASE("a curve row round-trips through JSON bitwise, train_eval_* then pack_members last", "[codec]") {
  const auto row = sample_row();
  const json encoded = ablate::epoch_to_json(row);
  REQUIRE(encoded.size() == 13);
  CHECK(encoded[10].get<double>() == row.train_eval_loss);
  CHECK(encoded[11] == "nan");
  CHECK(encoded[12].get<double>() == row.pack_members);
  const auto back = ablate::epoch_from_json(json::parse(encoded.dump()));
  CHECK(back.epoch == 7);
  for (const auto& field : ablate::kCurveFields) {
    INFO(field.name);
    CHECK(same_bits(back.*field.member, row.*field.member));
  }
  CHECK(std::string(ablate::kCurveFields[9].name) == "train_eval_loss");
  CHECK(std::string(ablate::kCurveFields[10].name) == "train_eval_acc");
  CHECK(std::string(ablate::kCurveFields[11].name) == "pack_members");
  CHECK(ablate::EpochMetrics{}.pack_members == 1);  // a lone run's rows, unless a pack says otherwise
}

TEST_CASE("a row journaled before pack_members existed reads with it NaN", "[codec]") {
  // Journal version 4: epoch and eleven numbers.
  const json old_row = json::parse("[3, 0.5, 0.8, 0.6, 0.78, 0.61, 0.77, 0.05, 1.5, 40000, 0.4, 0.85]");
  const auto back = ablate::epoch_from_json(old_row);
  CHECK(back.train_eval_acc == 0.85);
  CHECK(std::isnan(back.pack_members));
}

TEST_CASE("a row journaled before train_eval_* existed reads with them NaN", "[codec]") {
  // Journal version 3 and older: epoch and nine numbers.
  const json old_row = json::parse("[3, 0.5, 0.8, 0.6, 0.78, 0.61, 0.77, 0.05, 1.5, 40000]");
  const auto back = ablate::epoch_from_json(old_row);
  CHECK(back.epoch == 3);
  CHECK(back.train_acc == 0.8);
  CHECK(back.images_per_second == 40000);
  CHECK(std::isnan(back.train_eval_loss));
  CHECK(std::isnan(back.train_eval_acc));
  // The result codec's curves go through the same reader.
  json result = ablate::result_to_json(ablate::TrainResult{}, /*with_curves=*/false);
  result["curves"] = json::array({old_row});
  const auto decoded = ablate::result_from_json(result);
  REQUIRE(decoded.curves.size() == 1);
  CHECK(std::isnan(decoded.curves[0].train_eval_acc));
}

TEST_CASE("a curve row of the wrong length is refused with both lengths named", "[codec]") {
  for (const char* text : {"[1, 2, 3]", "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]", "{\"epoch\": 1}"}) {
    INFO(text);
    try {
      ablate::epoch_from_json(json::parse(text));
      FAIL("expected std::invalid_argument");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find("an epoch row must be an array of 13 numbers (10 before train_eval_*)") == 0);
    }
  }
}

TEST_CASE("JSON text written directly reads back as the same strings and numbers", "[codec]") {
  for (const std::string& text : {std::string(""), std::string("plain"), std::string(R"({"a":[1,"b\\c"]})"),
                                 std::string("tab\tnewline\ncontrol\x01"), std::string("caf\xc3\xa9")}) {
    std::string out;
    ablate::append_json_string(out, text);
    CHECK(json::parse(out).get<std::string>() == text);
  }
  for (const double value : {0.0, -0.0, 1.0, 0.1, 1e-300, 1e300, 2.0 / 3, -12345678.0}) {
    std::string out;
    ablate::append_json_number(out, value);
    const json back = json::parse(out);
    CHECK(back.is_number_float());
    CHECK(same_bits(back.get<double>(), value));
  }
  std::string nan_text;
  ablate::append_json_number(nan_text, std::nan(""));
  CHECK(nan_text == "\"nan\"");
}

TEST_CASE("per_class_accuracy is each true class's diagonal count over its row, 0 for an empty row", "[metrics]") {
  std::vector<int64_t> confusion(ablate::kNumClasses * ablate::kNumClasses, 0);
  confusion[0 * 10 + 0] = 3, confusion[0 * 10 + 6] = 1;  // T-shirts: 3 right, 1 taken for a shirt
  confusion[6 * 10 + 0] = 2, confusion[6 * 10 + 6] = 2;  // shirts: half right
  confusion[9 * 10 + 9] = 5;                            // ankle boots: all right; class 1 has no images
  const std::vector<double> accuracy = ablate::per_class_accuracy(confusion);
  REQUIRE(accuracy.size() == 10);
  CHECK(accuracy[0] == 0.75);
  CHECK(accuracy[6] == 0.5);
  CHECK(accuracy[9] == 1.0);
  CHECK(accuracy[1] == 0.0);
  CHECK_THROWS_WITH(ablate::per_class_accuracy(std::vector<int64_t>(99, 1)), Catch::Contains("100 cells, this one 99"));
}
