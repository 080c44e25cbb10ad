// Tests of the results journal (orchestrator/results/journal): CRC framing,
// group commit, torn and damaged lines, the writer lock, and replay by the ledger.
#include "orchestrator/results/journal.hpp"
#include "orchestrator/results/journal_records.hpp"
#include "orchestrator/results/results_error.hpp"
#include "test_journal_support.hpp"

#include <sys/stat.h>

#include <cmath>
#include <functional>

using namespace ablate;
using namespace ablate::test;

namespace {

uint64_t file_size(const std::string& path) { return std::filesystem::file_size(path); }

void append_raw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::app) << bytes;
}

// Rewrites every record of a journal with `change` (as another ablate version
// would have written it) and returns the new journal's text.
std::string rewrite_journal(const std::string& journal_path, const std::function<void(nlohmann::json&)>& change) {
  std::stringstream lines(read_text(journal_path));
  std::string line, rewritten;
  while (std::getline(lines, line)) {
    auto record = decode_journal_line(line);
    REQUIRE(record);
    change(*record);
    rewritten += encode_journal_line(*record);
  }
  std::ofstream(journal_path, std::ios::binary | std::ios::trunc) << rewritten;
  return rewritten;
}

}  // namespace

TEST_CASE("a journal line is the CRC32 of its JSON text, a space, the JSON and a newline", "[results][journal]") {
  // zlib.crc32(b'{"a":1}') == 0x561bacaf
  CHECK(encode_journal_line({{"a", 1}}) == "561bacaf {\"a\":1}\n");
  const auto record = decode_journal_line("561bacaf {\"a\":1}");
  REQUIRE(record);
  CHECK((*record)["a"] == 1);

  CHECK_FALSE(decode_journal_line("561bacaf {\"a\":2}"));   // payload changed
  CHECK_FALSE(decode_journal_line("561bacae {\"a\":1}"));   // checksum changed
  CHECK_FALSE(decode_journal_line("561BACAF {\"a\":1}"));   // the digits are lowercase
  CHECK_FALSE(decode_journal_line("561bacaf{\"a\":1}"));    // no separator
  CHECK_FALSE(decode_journal_line("561bacaf {\"a\":"));     // torn
  CHECK_FALSE(decode_journal_line(""));
  const std::string array_line = encode_journal_line(nlohmann::json::array({1, 2}));
  CHECK_FALSE(decode_journal_line(array_line.substr(0, array_line.size() - 1)));  // records are objects
}

TEST_CASE("append buffers, write_out writes, sync also fdatasyncs, replay returns the records in order",
          "[results][journal]") {
  ScratchDir dir;
  const std::string path = dir.file("j.journal");
  const size_t a_bytes = encode_journal_line({{"t", "a"}, {"n", 1}}).size();
  const size_t b_bytes = encode_journal_line({{"t", "b"}, {"n", 2}}).size();
  {
    Journal journal(path);
    CHECK(journal.created());
    CHECK(journal.replay().entries.empty());
    journal.append({{"t", "a"}, {"n", 1}});
    CHECK(file_size(path) == 0);  // group commit: nothing written yet
    CHECK(journal.has_unsynced_records());
    journal.write_out();          // in the file (another process sees it), not yet durable
    CHECK(file_size(path) == a_bytes);
    CHECK(journal.durable_bytes() == 0);
    CHECK(journal.has_unsynced_records());
    journal.append({{"t", "b"}, {"n", 2}});
    journal.sync();
    CHECK_FALSE(journal.has_unsynced_records());
    CHECK(file_size(path) == journal.durable_bytes());
    CHECK(journal.durable_bytes() == a_bytes + b_bytes);
    journal.sync();  // nothing new: nothing happens
    CHECK(journal.durable_bytes() == a_bytes + b_bytes);
    journal.append({{"t", "c"}, {"n", 3}});
  }  // the destructor syncs what is buffered
  Journal journal(path);
  CHECK_FALSE(journal.created());
  const auto replay = journal.replay();
  CHECK(replay.warnings.empty());
  REQUIRE(replay.entries.size() == 3);
  CHECK(replay.record(replay.entries[2])["n"] == 3);
  CHECK(replay.entries[2].line == 3);
}

TEST_CASE("a torn last line is cut off with a warning, and appends continue on a clean line",
          "[results][journal]") {
  ScratchDir dir;
  const std::string path = dir.file("j.journal");
  {
    Journal journal(path);
    for (int n = 1; n <= 3; ++n) journal.append({{"n", n}});
  }
  const uint64_t intact = file_size(path);
  SECTION("cut before its newline") { append_raw(path, encode_journal_line({{"n", 4}}).substr(0, 12)); }
  SECTION("garbage with a newline (a block of zeros after a power cut)") {
    append_raw(path, std::string(100, '\0') + "\n" + std::string(20, '\0'));
  }
  {
    Journal journal(path);
    const auto replay = journal.replay();
    REQUIRE(replay.entries.size() == 3);
    REQUIRE(replay.warnings.size() == 1);
    CHECK(replay.warnings[0].find("torn or damaged end") != std::string::npos);
    CHECK(replay.warnings[0].find("from line 4") != std::string::npos);
    CHECK(file_size(path) == intact);
    journal.append({{"n", 5}});
  }
  Journal journal(path);
  const auto replay = journal.replay();
  CHECK(replay.warnings.empty());
  REQUIRE(replay.entries.size() == 4);
  CHECK(replay.record(replay.entries[3])["n"] == 5);
}

TEST_CASE("a line whose CRC matches text that is not JSON is refused when its record is read",
          "[results][journal]") {
  ScratchDir dir;
  const std::string path = dir.file("j.journal");
  append_raw(path, encode_journal_text(R"({"n":1})") + encode_journal_text("{not json}") +
                       encode_journal_text(R"({"n":3})"));
  Journal journal(path);
  const auto replay = journal.replay();
  CHECK(replay.warnings.empty());  // the scan checks CRCs only: the JSON is read with each record
  REQUIRE(replay.entries.size() == 3);
  CHECK(replay.record(replay.entries[0])["n"] == 1);
  CHECK_THROWS_WITH(replay.record(replay.entries[1]),
                    Catch::Contains("not one JSON object") && Catch::Contains("line 2 of '" + path + "'"));
  CHECK(replay.record(replay.entries[2])["n"] == 3);
}

TEST_CASE("a damaged line between good ones is skipped with a warning naming it", "[results][journal]") {
  ScratchDir dir;
  const std::string path = dir.file("j.journal");
  {
    Journal journal(path);
    for (int n = 1; n <= 3; ++n) journal.append({{"n", n}});
  }
  std::string text = read_text(path);
  const size_t second_line = text.find('\n') + 1;
  text[second_line + 14] = '7';  // {"n":2} -> {"n":7}: the CRC no longer matches
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;

  Journal journal(path);
  const auto replay = journal.replay();
  REQUIRE(replay.entries.size() == 2);
  CHECK(replay.record(replay.entries[0])["n"] == 1);
  CHECK(replay.record(replay.entries[1])["n"] == 3);
  CHECK(replay.entries[1].line == 3);
  REQUIRE(replay.warnings.size() == 1);
  CHECK(replay.warnings[0].find("line 2 is damaged") != std::string::npos);
  CHECK(file_size(path) == text.size());  // kept as evidence, not cut
}

TEST_CASE("only one process writes a journal", "[results][journal]") {
  ScratchDir dir;
  const std::string path = dir.file("j.journal");
  Journal first(path);
  CHECK_THROWS_AS(Journal(path), ResultsRefusedError);
  first.close();
  Journal second(path);  // the lock went with the close
}

TEST_CASE("the ledger ignores a torn journal line and keeps every complete record", "[hdf5][results][journal]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  const auto points = test_points(2);
  {
    ResultsFile results(path, test_sweep(), quiet_options());
    results.plan(points);
    run_point(results, points[0], 0, 2);
  }
  // A done record for p0001 whose write was cut short by a kill.
  const std::string torn = encode_journal_line({{"t", "done"}, {"id", "p0001"}, {"at", "x"}});
  append_raw(path + ".journal", torn.substr(0, torn.size() / 2));

  std::vector<std::string> warnings;
  ResultsFile results(path, test_sweep(), quiet_options(&warnings));
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("torn or damaged end") != std::string::npos);
  CHECK(results.status("p0000") == PointStatus::done);
  CHECK(results.status("p0001") == PointStatus::pending);
  run_point(results, points[1], 1, 2);
  results.close();

  std::vector<std::string> again;
  ResultsFile reopened(path, test_sweep(), quiet_options(&again));
  CHECK(again.empty());
  CHECK(reopened.status("p0001") == PointStatus::done);
}

TEST_CASE("a journal that is not an ablate journal is refused", "[hdf5][results][journal]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  append_raw(path + ".journal", encode_journal_line({{"t", "something"}, {"else", 1}}));
  CHECK_THROWS_WITH(ResultsFile(path, test_sweep(), quiet_options()),
                    Catch::Contains("does not start with an ablate journal header"));
  CHECK_FALSE(file_exists(path));
}

TEST_CASE("a version-4 journal reopens: its rows without pack_members read NaN, its starts without threads 0",
          "[hdf5][results][journal]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  const auto points = test_points(2);
  {
    ResultsFile results(path, test_sweep(), quiet_options());
    results.plan(points);
    run_point(results, points[0], 0, 2);
    results.start_point(points[1].id, {"node01", "cpu", "2.3.0", 2, 1});
    results.record_epoch(points[1].id, test_epoch(1, 1));
  }
  // The same events as version 4 wrote them: 12-number rows, starts without threads and ranks.
  rewrite_journal(path + ".journal", [](nlohmann::json& record) {
    if (record.at("t") == "ledger") record["version"] = 4;
    record.erase("threads");
    record.erase("ranks");
    if (record.contains("m")) record.at("m").erase(12);
    if (record.contains("curves"))
      for (auto& row : record.at("curves")) row.erase(12);
  });
  std::filesystem::remove(path);

  std::vector<std::string> warnings;
  ResultsFile results(path, test_sweep(), quiet_options(&warnings));
  CHECK(results.status(points[0].id) == PointStatus::done);
  CHECK(results.status(points[1].id) == PointStatus::pending);
  results.start_point(points[1].id, {"node02", "cpu", "2.3.0", 1, 2});  // appended as version 5 writes it
  results.record_epoch(points[1].id, test_epoch(1, 1));
  results.close();
  RawFile file(path);
  const auto curve = raw_curves(file.id, points[0].id);
  REQUIRE(curve.size() == 2);
  CHECK(curve[1].test_acc == test_epoch(0, 2).test_acc);
  CHECK(std::isnan(curve[0].pack_members));
  CHECK(std::isnan(raw_index_value<double>(file.id, points[0].id, "pack_members", H5T_NATIVE_DOUBLE)));
  CHECK(raw_index_value<int64_t>(file.id, points[0].id, "threads", H5T_NATIVE_INT64) == 0);
  CHECK(raw_index_value<int64_t>(file.id, points[1].id, "threads", H5T_NATIVE_INT64) == 1);
  CHECK(raw_index_value<int64_t>(file.id, points[1].id, "ranks", H5T_NATIVE_INT64) == 2);
  CHECK(raw_index_value<double>(file.id, points[1].id, "pack_members", H5T_NATIVE_DOUBLE) == 4);
}

TEST_CASE("a journal from a newer ablate is refused, named, and left as it was", "[hdf5][results][journal]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  {
    ResultsFile results(path, test_sweep(), quiet_options());
    results.plan(test_points(1));
  }
  const std::string newer = rewrite_journal(path + ".journal", [](nlohmann::json& record) {
    if (record.at("t") == "ledger") record["version"] = kJournalVersion + 1, record["ablate_version"] = "9.0.0";
  });
  std::filesystem::remove(path);
  CHECK_THROWS_WITH(ResultsFile(path, test_sweep(), quiet_options()),
                    Catch::Contains(path + ".journal") &&
                        Catch::Contains(fmt::format("journal version {}, written by a newer ablate (9.0.0)",
                                                    kJournalVersion + 1)) &&
                        Catch::Contains("run the newer ablate on it"));
  CHECK(read_text(path + ".journal") == newer);
  CHECK_FALSE(file_exists(path));
}
