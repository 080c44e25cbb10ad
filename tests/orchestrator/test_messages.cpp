// Tests of orchestrator/messages: every message survives the wire bit for bit.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "orchestrator/messages.hpp"

using namespace ablate;

namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

EpochMetrics awkward_row() {
  EpochMetrics m;
  m.epoch = 7;
  m.train_loss = std::numeric_limits<double>::quiet_NaN();
  m.train_acc = 0.1 + 0.2;  // 0.30000000000000004: needs all 17 digits
  m.val_loss = std::numeric_limits<double>::infinity();
  m.val_acc = -std::numeric_limits<double>::infinity();
  m.test_loss = 1e-300;
  m.test_acc = std::numeric_limits<double>::denorm_min();
  m.lr = 0.05;
  m.epoch_seconds = 12345.678;
  m.images_per_second = 0;
  return m;
}

void require_same_row(const EpochMetrics& a, const EpochMetrics& b) {
  REQUIRE(a.epoch == b.epoch);
  for (auto field : {&EpochMetrics::train_loss, &EpochMetrics::train_acc, &EpochMetrics::val_loss,
                     &EpochMetrics::val_acc, &EpochMetrics::test_loss, &EpochMetrics::test_acc, &EpochMetrics::lr,
                     &EpochMetrics::epoch_seconds, &EpochMetrics::images_per_second})
    REQUIRE(same_bits(a.*field, b.*field));
}

}  // namespace

TEST_CASE("an epoch row crosses the wire bit for bit NaN and infinities included", "[orchestrator]") {
  const EpochMetrics row = awkward_row();
  const std::string text = encode_epoch("0123456789abcdef", row);
  CHECK(text.rfind("0123456789abcdef\n7 nan 0.30000000000000004 inf -inf 1e-300 ", 0) == 0);
  const auto [id, back] = decode_epoch(text);
  CHECK(id == "0123456789abcdef");
  require_same_row(row, back);
}

TEST_CASE("a result crosses the wire whole", "[orchestrator]") {
  TrainResult r;
  r.curves = {awkward_row(), awkward_row()};
  r.curves[1].epoch = 8;
  r.confusion_test.assign(100, 0);
  r.confusion_val.assign(100, 0);
  for (int i = 0; i < 100; ++i) r.confusion_test[i] = i * 1000003LL, r.confusion_val[i] = -i;
  r.per_class_acc = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0 / 3};
  r.best_epoch = 8;
  r.best_val_acc = 0.9123456789;
  r.final_test_acc = 0.91;
  r.test_acc_at_best_val = 2.0 / 3;
  r.parameter_count = 269322;
  r.train_seconds = 61.25;
  r.device = "cuda:0 (NVIDIA H100 80GB HBM3)";
  r.test_predictions = {9, 0, 3, 3, 7};

  const auto [id, back] = decode_done(encode_done("abc", r));
  CHECK(id == "abc");
  REQUIRE(back.curves.size() == 2);
  require_same_row(back.curves[0], r.curves[0]);
  require_same_row(back.curves[1], r.curves[1]);
  CHECK(back.confusion_test == r.confusion_test);
  CHECK(back.confusion_val == r.confusion_val);
  CHECK(back.per_class_acc == r.per_class_acc);
  CHECK(back.best_epoch == 8);
  CHECK(same_bits(back.best_val_acc, r.best_val_acc));
  CHECK(same_bits(back.test_acc_at_best_val, r.test_acc_at_best_val));
  CHECK(back.final_test_acc == 0.91);
  CHECK(back.parameter_count == 269322);
  CHECK(back.train_seconds == 61.25);
  CHECK(back.device == "cuda:0 (NVIDIA H100 80GB HBM3)");
  CHECK(back.test_predictions == std::vector<int8_t>{9, 0, 3, 3, 7});
}

TEST_CASE("an empty result (no curves no device) round-trips too", "[orchestrator]") {
  const auto [id, back] = decode_done(encode_done("x", TrainResult{}));
  CHECK(id == "x");
  CHECK(back.curves.empty());
  CHECK(back.confusion_test.empty());
  CHECK(back.device.empty());
  CHECK(back.test_predictions.empty());
}

TEST_CASE("assignments failures and hellos round-trip", "[orchestrator]") {
  const WorkItem item{"ffff0000ffff0000", R"({"epochs":3,"hidden":[256],"lr":0.1})"};
  const std::vector<WorkItem> back = decode_assignment(encode_assignment({item}));
  REQUIRE(back.size() == 1);
  CHECK(back[0].id == item.id);
  CHECK(back[0].config_text == item.config_text);

  const auto [id, error] = decode_failure(encode_failure("a1", "diverged at epoch 2, step 7:\nsecond line"));
  CHECK(id == "a1");
  CHECK(error == "diverged at epoch 2, step 7:\nsecond line");

  const Hello hello{"ablate 0.1.0 (commit abc), spec 00ff", "node7", "cuda:1", "2.3.1", 4, "no data", 1};
  const Hello h = decode_hello(encode_hello(hello));
  CHECK(h.fingerprint == hello.fingerprint);
  CHECK(h.host == "node7");
  CHECK(h.device == "cuda:1");
  CHECK(h.software == "2.3.1");
  CHECK(h.threads == 4);
  CHECK(h.error == "no data");
  CHECK(h.exit_code == 1);
}

TEST_CASE("malformed messages are refused with a MessageError naming the problem", "[orchestrator]") {
  CHECK_THROWS_WITH(decode_epoch("no newline"), Catch::Contains("no newline"));
  CHECK_THROWS_WITH(decode_epoch("id\n3 0.5 x"), Catch::Contains("expected a number at 'x'"));
  CHECK_THROWS_AS(decode_epoch("id\n3 0.5"), MessageError);  // too few numbers
  CHECK_THROWS_WITH(decode_done("id\ncurves 0\nconfusion_val 0\n"), Catch::Contains("malformed result message"));
  CHECK_THROWS_WITH(decode_done("id\n{\"best_epoch\": 1}"), Catch::Contains("(best_val_acc)"));
  std::string wrong_count = encode_done("x", TrainResult{});
  wrong_count.replace(wrong_count.find("\n0 \n0\n"), 6, "\n0 \n2 1 2\n");  // device "", then confusion_test
  CHECK_THROWS_WITH(decode_done(wrong_count), Catch::Contains("confusion_test must hold 100 values, got 2"));
  CHECK_THROWS_WITH(decode_done(encode_done("x", TrainResult{}) + "7"), Catch::Contains("more after the last"));
  CHECK_THROWS_WITH(decode_done("x\n0 0 0 0 0 0 0\n9 cpu"), Catch::Contains("device should be 9 characters"));
  CHECK_THROWS_WITH(decode_hello("{\"host\": 1}"), Catch::Contains("malformed hello"));
  CHECK_THROWS_AS(decode_assignment("just an id"), MessageError);
}
