// Bad outputs for `ablate run` (in-process, FakeWork): a results path that cannot be written,
// one that holds someone else's file, and a disk that fills up mid-sweep. Each must stop with
// a message naming the file and the fix, and leave every byte that was there before intact.
// The tests run as root in CI, where permissions stop nothing: read-only and full disks are
// real (small tmpfs mounts); without the right to mount, those sections WARN and pass.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "orchestrator/exit_codes.hpp"
#include "orchestrator/fake_work.hpp"
#include "orchestrator/results/journal.hpp"
#include "orchestrator/run_command.hpp"
#include "sweeps/sweep.hpp"
#include "orchestrator_test_support.hpp"
#include "test_journal_support.hpp"

using namespace ablate;

namespace {

// A tmpfs of `size` at `where` (created), read-only if asked; unmounted on scope exit.
class Tmpfs {
 public:
  Tmpfs(const std::string& where, const std::string& size, bool read_only = false) : where_(where) {
    std::filesystem::create_directories(where_);
    mounted_ = ::mount("tmpfs", where_.c_str(), "tmpfs", read_only ? MS_RDONLY : 0, ("size=" + size).c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string where_, error_;
  bool mounted_ = false;
};

// Writes `name` in `dir` until the file system refuses, then gives back `keep` bytes, so
// that exactly that much space (give or take a page) is left. Returns the filler's path.
std::string fill_leaving(const std::string& dir, size_t keep) {
  const std::string path = dir + "/filler";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  const std::string block(4096, 'x');
  while (::write(fd, block.data(), block.size()) > 0) {
  }
  while (::write(fd, block.data(), 1) > 0) {
  }
  const off_t size = ::lseek(fd, 0, SEEK_END);
  REQUIRE(::ftruncate(fd, std::max<off_t>(0, size - static_cast<off_t>(keep))) == 0);
  ::close(fd);
  return path;
}

// A sweep of `points` distinct configurations (one seed), `epochs` epochs each.
std::string sweep_text(int points, int epochs) {
  std::string lrs;
  for (int i = 0; i < points; ++i) lrs += fmt::format("{}{}", i ? ", " : "", 0.001 * (i + 1));
  return fmt::format("name = \"disk\"\nseeds = [0]\n[base]\nepochs = {}\n[grid]\nlr = [{}]\n", epochs, lrs);
}

RunOptions options_for(const std::string& spec, const std::string& results) {
  RunOptions options;
  options.spec_path = spec;
  options.results_path = results;
  options.progress = ProgressStyle::quiet;
  options.flush_interval_seconds = 0;
  return options;
}

// The message of the ResultsError that running the sweep throws (FAIL when none does).
template <class Error>
std::string run_error(const RunOptions& options, FakeWork& work) {
  test::TestCommunicator comm;
  std::ostringstream out;
  try {
    run_sweep(options, comm, work, out);
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("run_sweep did not throw the expected ResultsError; output:\n" << out.str());
  return "";
}

// Everything in `dir`, for "nothing was created".
std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("an output directory that cannot be written is named, and nothing is written", "[orchestrator][results]") {
  test::ScratchDir dir;
  const std::string spec = dir.file("fake.toml");
  std::ofstream(spec) << test::fake_sweep_text();
  FakeWork work;

  SECTION("a path under a regular file (ENOTDIR: root cannot write there either)") {
    const std::string notes = dir.file("notes.txt");
    std::ofstream(notes) << "not a directory\n";
    const std::string message = run_error<ResultsIoError>(options_for(spec, notes + "/results.h5"), work);
    CHECK(message == "cannot use results file '" + notes + "/results.h5': '" + notes +
                         "' is not a directory; choose a results path inside a directory");
    CHECK(test::read_text(notes) == "not a directory\n");
    CHECK(listing(dir.path()) == std::vector<std::string>{"fake.toml", "notes.txt"});
  }
  SECTION("a missing directory") {
    const std::string message = run_error<ResultsIoError>(options_for(spec, dir.file("gone/results.h5")), work);
    CHECK_THAT(message, Catch::Contains("its directory '" + dir.file("gone") + "' is not accessible (No such file or "
                                       "directory); create it or choose another results path"));
    CHECK(listing(dir.path()) == std::vector<std::string>{"fake.toml"});
  }
  SECTION("a read-only file system (EROFS stops root too)") {
    Tmpfs read_only(dir.file("ro"), "64k", /*read_only=*/true);
    if (!read_only.mounted()) {
      WARN("cannot mount a read-only tmpfs (" << read_only.error() << "; needs root): skipping this section");
      return;
    }
    const std::string message = run_error<ResultsIoError>(options_for(spec, dir.file("ro/results.h5")), work);
    CHECK_THAT(message, Catch::StartsWith("cannot write in directory '" + dir.file("ro") + "' (Read-only file system)"));
    CHECK_THAT(message, Catch::Contains("choose a results path in a writable directory"));
    CHECK(listing(dir.file("ro")).empty());
  }
  CHECK(work.started().empty());
}

TEST_CASE("an output that is not an ablate file is refused and left byte-identical", "[orchestrator][results]") {
  test::ScratchDir dir;
  const std::string spec = dir.file("fake.toml");
  std::ofstream(spec) << test::fake_sweep_text();
  const std::string path = dir.file("results.h5");
  const std::string journal = path + ".journal";
  FakeWork work;

  SECTION("a text file") {
    std::ofstream(path) << "my thesis notes\n";
    const std::string message = run_error<ResultsRefusedError>(options_for(spec, path), work);
    CHECK_THAT(message, Catch::StartsWith("'" + path + "' exists but is not an ablate results file ("));
    CHECK_THAT(message, Catch::EndsWith("ablate will not overwrite it: choose another results path or move the file "
                                        "away"));
    CHECK(test::read_text(path) == "my thesis notes\n");
  }
  SECTION("an empty file") {
    std::ofstream{path};
    CHECK_THAT(run_error<ResultsRefusedError>(options_for(spec, path), work),
               Catch::Contains("exists but is not an ablate results file"));
    CHECK(std::filesystem::file_size(path) == 0);
  }
  SECTION("an HDF5 file with data, made with the HDF5 C API") {
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(file >= 0);
    const hsize_t count = 5;
    const double values[count] = {1.5, 2.5, 3.5, 4.5, 5.5};
    const hid_t space = H5Screate_simple(1, &count, nullptr);
    const hid_t data = H5Dcreate2(file, "/measurements", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(data >= 0);
    REQUIRE(H5Dwrite(data, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0);
    H5Dclose(data);
    H5Sclose(space);
    H5Fclose(file);
    const std::string before = test::read_text(path);
    const std::string message = run_error<ResultsRefusedError>(options_for(spec, path), work);
    CHECK(message == "'" + path +
                         "' exists but is not an ablate results file (it has no root attribute format = "
                         "\"ablate-results\"); ablate will not overwrite it: choose another results path or move the "
                         "file away");
    CHECK(test::read_text(path) == before);
  }
  SECTION("a directory") {
    std::filesystem::create_directory(path);
    CHECK(run_error<ResultsRefusedError>(options_for(spec, path), work) ==
          "results path '" + path + "' is a directory: give a file name such as '" + path + "/results.h5'");
    CHECK(std::filesystem::is_empty(path));
  }
  SECTION("a text file where the journal goes (the results file is new)") {
    std::ofstream(journal) << "line one\nline two\n";
    const std::string message = run_error<ResultsRefusedError>(options_for(spec, path), work);
    CHECK(message == "'" + journal +
                         "' exists but is not an ablate results journal (its 18 bytes hold no journal record); "
                         "ablate will not overwrite it: move it away or choose another results path");
    CHECK(test::read_text(journal) == "line one\nline two\n");
    CHECK_FALSE(test::file_exists(path));
  }
  SECTION("a text file where the journal of an existing results file goes") {
    {
      test::TestCommunicator comm;
      std::ostringstream out;
      FakeWork first;
      REQUIRE(run_sweep(options_for(spec, path), comm, first, out) == kExitOk);
    }
    std::ofstream(journal) << "notes, not a journal";
    const std::string results_before = test::read_text(path);
    CHECK_THAT(run_error<ResultsRefusedError>(options_for(spec, path), work),
               Catch::StartsWith("'" + journal + "' exists but is not an ablate results journal"));
    CHECK(test::read_text(journal) == "notes, not a journal");
    CHECK(test::read_text(path) == results_before);
  }
  CHECK(work.started().empty());
  CHECK_FALSE(test::file_exists(path + ".tmp"));
}

TEST_CASE("a journal whose first record was torn by a crash starts afresh", "[orchestrator][results]") {
  test::ScratchDir dir;
  const std::string path = dir.file("results.h5");
  const std::string header = encode_journal_line({{"t", "ledger"}, {"format", "x"}});
  SECTION("cut before its newline") { std::ofstream(path + ".journal") << header.substr(0, 20); }
  SECTION("zeros left by a power cut") { std::ofstream(path + ".journal") << std::string(4096, '\0'); }
  std::vector<std::string> warnings;
  {
    ResultsFile results(path, test::test_sweep(), test::quiet_options(&warnings));
    results.plan(test::test_points(1));
  }
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("ignored a torn or damaged end"));
  ResultsFile reopened(path, test::test_sweep(), test::quiet_options());
  CHECK(reopened.status("p0000") == PointStatus::pending);
}

TEST_CASE("a disk that fills up mid-sweep: a clear error, every durable record kept, the rerun finishes",
          "[orchestrator][results]") {
  constexpr int kPoints = 40, kEpochs = 20;  // the epochs make the journal outgrow the .h5
  test::ScratchDir dir;
  const std::string spec = dir.file("disk.toml");
  std::ofstream(spec) << sweep_text(kPoints, kEpochs);

  const sweeps::Sweep sweep = sweeps::load_sweep(spec);
  const SweepIdentity identity{sweep.name, sweep.source_path, sweep.spec_text};

  // The ledger's footprint once planned and once complete, measured on a roomy disk, so that
  // the small one can be left with room for the plan and about half the training records.
  size_t empty_results = 0, planned_results = 0, planned_journal = 0, final_journal = 0;
  {
    test::TestCommunicator comm;
    std::ostringstream out;
    FakeWork work;
    RunOptions options = options_for(spec, dir.file("complete.h5"));
    options.flush_interval_seconds = 10;
    REQUIRE(run_sweep(options, comm, work, out) == kExitOk);
    final_journal = std::filesystem::file_size(options.results_path + ".journal");
    {
      ResultsFile planned(dir.file("planned.h5"), identity, test::quiet_options());
      empty_results = std::filesystem::file_size(dir.file("planned.h5"));
      std::vector<PlannedPoint> points;
      for (const auto& p : sweep.points) points.push_back({p.id, p.config_text, p.case_name, p.seed, p.trial, p.suggested_by});
      planned.plan(points);
    }
    planned_results = std::filesystem::file_size(dir.file("planned.h5"));
    planned_journal = std::filesystem::file_size(dir.file("planned.h5.journal"));
  }

  const std::string small = dir.file("small");
  Tmpfs disk(small, "4m");
  if (!disk.mounted()) {
    WARN("cannot mount a small tmpfs (" << disk.error() << "; needs root): skipping the full-disk test");
    return;
  }
  const std::string path = small + "/results.h5";
  RunOptions options = options_for(spec, path);
  // The journal is fsync'd per finished point; the .h5 is rewritten at most every 10 s, so
  // here the journal meets the full disk first, after about half the points.
  options.flush_interval_seconds = 10;
  // Planning writes the new .h5 beside the empty one; training then appends to the journal.
  const size_t keep =
      empty_results + planned_results + planned_journal + (final_journal - planned_journal) / 2 + 4096;
  INFO("empty .h5 " << empty_results << " B, planned .h5 " << planned_results << " B, planned journal "
                    << planned_journal << " B, complete journal " << final_journal << " B: " << keep
                    << " B left free");
  const std::string filler = fill_leaving(small, keep);
  FakeWork first;
  const std::string message = run_error<ResultsIoError>(options, first);
  INFO(message);
  CHECK_THAT(message, Catch::StartsWith("cannot write results journal '" + path + ".journal': "));
  CHECK_THAT(message, Catch::Contains("No space left on device (the disk is full)"));
  CHECK_THAT(message, Catch::EndsWith("The records written before are durable; free the cause and resume the sweep."));

  // No partial damage: the .h5 still opens, and the journal holds whole records only.
  { test::RawFile file(path); }
  const auto durable_done = test::journal_counts(path + ".journal", "done");
  INFO(durable_done.size() << " points were durably done when the disk filled");
  CHECK(durable_done.size() > 0);
  CHECK(durable_done.size() < static_cast<size_t>(kPoints));

  // Space again: the ledger reopens without a damaged record, every durable point done.
  std::filesystem::remove(filler);
  std::vector<std::string> warnings;
  {
    ResultsFile reopened(path, identity, test::quiet_options(&warnings));
    for (const auto& [id, n] : durable_done) CHECK(reopened.status(id) == PointStatus::done);
  }
  for (const auto& warning : warnings) CHECK_THAT(warning, !Catch::Contains("damaged"));

  // The rerun trains only what was not durably done, each point once.
  FakeWork second;
  test::TestCommunicator comm;
  std::ostringstream out;
  CHECK(run_sweep(options, comm, second, out) == kExitOk);
  for (const auto& id : second.started()) CHECK(durable_done.count(id) == 0);
  CHECK(second.started().size() == kPoints - durable_done.size());
  const auto done = test::journal_counts(path + ".journal", "done");
  CHECK(done.size() == static_cast<size_t>(kPoints));
  for (const auto& [id, n] : done) CHECK(n == 1);
  test::RawFile file(path);
  for (const auto& [id, n] : done) CHECK(test::raw_point_status(file.id, id) == "done");
}
