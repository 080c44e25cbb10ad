// Durability of the results ledger: a writer killed with SIGKILL at many moments
// (after k finished points, mid-write) and a full disk. Linux only (fork, mount).
#include "orchestrator/results/journal.hpp"
#include "orchestrator/results/results_error.hpp"
#include "test_journal_support.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <random>
#include <set>

using namespace ablate;
using namespace ablate::test;

namespace {

constexpr int kCrashPoints = 8;
constexpr int kCrashEpochs = 3;

// The child: trains every point, telling the parent each ID once finish_point returned.
[[noreturn]] void crashing_writer(const std::string& path, double interval, int report_fd) {
  try {
    ResultsFile::Options options = quiet_options(nullptr, interval);
    // With the lazy .h5, outcomes are never fdatasync'd before the kill: written out
    // to the OS is what must survive a crash of the process.
    options.commit_interval_seconds = interval > 0 ? 1000 : 0;
    ResultsFile results(path, test_sweep(), options);
    const auto points = test_points(kCrashPoints);
    results.plan(points);
    for (int k = 0; k < kCrashPoints; ++k) {
      if (results.status(points[k].id) != PointStatus::pending) continue;
      run_point(results, points[k], k, kCrashEpochs);
      const std::string line = points[k].id + "\n";
      if (::write(report_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(3);
    }
    results.close();
  } catch (...) {
    ::_exit(2);
  }
  ::_exit(0);
}

// Runs the child, kills it after `finished_before_kill` reports plus `delay_us`; returns the reported IDs.
std::set<std::string> run_and_kill(const std::string& path, double interval, int finished_before_kill,
                                   int delay_us) {
  int report[2];
  REQUIRE(::pipe(report) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(report[0]);
    crashing_writer(path, interval, report[1]);
  }
  ::close(report[1]);
  std::set<std::string> finished;
  std::string pending;
  char buffer[256];
  while (static_cast<int>(finished.size()) < finished_before_kill) {
    const ssize_t n = ::read(report[0], buffer, sizeof buffer);
    if (n <= 0) break;  // the child finished everything first
    pending.append(buffer, static_cast<size_t>(n));
    for (size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1))
      finished.insert(pending.substr(0, nl));
  }
  if (delay_us > 0) ::usleep(static_cast<useconds_t>(delay_us));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  // Reports written just before the kill count too: their finish_point had returned.
  fcntl(report[0], F_SETFL, O_NONBLOCK);
  for (ssize_t n; (n = ::read(report[0], buffer, sizeof buffer)) > 0;) pending.append(buffer, static_cast<size_t>(n));
  for (size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1))
    finished.insert(pending.substr(0, nl));
  ::close(report[0]);
  INFO("child status " << status);
  REQUIRE((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)));
  return finished;
}

std::map<std::string, int> done_records(const std::string& journal_path) {
  std::map<std::string, int> count;
  std::stringstream lines(read_text(journal_path));
  std::string line;
  while (std::getline(lines, line))
    if (auto record = decode_journal_line(line); record && (*record)["t"] == "done") ++count[(*record)["id"]];
  return count;
}

}  // namespace

TEST_CASE("a writer killed at any moment leaves a journal with every finished point and an .h5 the next open rebuilds",
          "[hdf5][results][journal]") {
  struct Kill {
    double interval;
    int finished_before_kill;
    int delay_us;
  };
  std::vector<Kill> kills;
  std::mt19937 random(20240501);
  for (double interval : {0.0, 5.0}) {
    for (int finished_before_kill : {0, 1, 3, 7}) kills.push_back({interval, finished_before_kill, 0});
    // Then at random moments of a whole run, timed once here, to land inside writes.
    const auto begin = std::chrono::steady_clock::now();
    {
      ScratchDir dir;
      REQUIRE(run_and_kill(dir.file("results.h5"), interval, kCrashPoints, 0).size() == kCrashPoints);
    }
    const auto run_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                              begin).count();
    for (int i = 0; i < 8; ++i) kills.push_back({interval, 0, static_cast<int>(random() % (run_us + 1))});
  }

  int scenario = 0, killed_mid_write = 0, killed_mid_update = 0, unreadable = 0, torn_journal = 0;
  for (const auto& [interval, finished_before_kill, delay_us] : kills) {
    ScratchDir dir;
    const std::string path = dir.file("results.h5");
    INFO("scenario " << ++scenario << ": interval " << interval << " s, killed after " << finished_before_kill
                     << " finished points + " << delay_us << " us");
    const auto finished = run_and_kill(path, interval, finished_before_kill, delay_us);
    if (file_exists(path + ".tmp")) ++killed_mid_write;
    CHECK(static_cast<int>(finished.size()) >= std::min(finished_before_kill, kCrashPoints));

    // An .h5 that opens and is not marked mid-update never shows a point done that the journal
    // lacks; one killed mid-update is marked (journal_bytes = -1) or does not open: the open rebuilds it.
    if (file_exists(path)) {
      const auto journaled = done_records(path + ".journal");
      const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
      if (id < 0) {
        ++unreadable;
      } else {
        hid_t root = H5Gopen2(id, "/", H5P_DEFAULT);
        const int64_t journal_bytes = raw_int_attr(root, "journal_bytes");
        H5Gclose(root);
        if (journal_bytes == -1) ++killed_mid_update;
        hid_t index = journal_bytes == -1 ? -1 : H5Dopen2(id, "/index", H5P_DEFAULT);
        if (index >= 0) {
          CHECK(journal_bytes <= static_cast<int64_t>(std::filesystem::file_size(path + ".journal")));
          const auto ids = raw_string_column(index, "id");
          const auto status = raw_string_column(index, "status");
          for (size_t i = 0; i < ids.size(); ++i)
            if (status[i] == "done") CHECK(journaled.count(ids[i]) == 1);
          H5Dclose(index);
        }
        H5Fclose(id);
      }
    }

    // Resume: every point reported finished is done, and finishing the sweep does each point once.
    {
      std::vector<std::string> warnings;
      ResultsFile results(path, test_sweep(), quiet_options(&warnings));
      for (const auto& w : warnings) torn_journal += w.find("torn") != std::string::npos;
      const auto points = test_points(kCrashPoints);
      results.plan(points);
      for (const auto& id : finished) {
        CHECK(results.status(id) == PointStatus::done);
        CHECK(results.attempts(id) == 1);
      }
      for (int k = 0; k < kCrashPoints; ++k)
        if (results.status(points[k].id) == PointStatus::pending) run_point(results, points[k], k, kCrashEpochs);
      CHECK(results.ids_with(PointStatus::done).size() == kCrashPoints);
    }
    const auto journaled = done_records(path + ".journal");
    CHECK(journaled.size() == kCrashPoints);
    for (const auto& [id, count] : journaled) CHECK(count == 1);
    RawFile file(path);
    hid_t root = H5Gopen2(file.id, "/", H5P_DEFAULT);
    CHECK(raw_int_attr(root, "journal_bytes") == static_cast<int64_t>(std::filesystem::file_size(path + ".journal")));
    H5Gclose(root);
    for (int k = 0; k < kCrashPoints; ++k) {
      const auto id = test_point(k).id;
      const auto curves = raw_curves(file.id, id);
      REQUIRE(curves.size() == kCrashEpochs);  // an interrupted attempt left no extra rows
      CHECK(same_epoch(curves.back(), test_epoch(k, kCrashEpochs)));
    }
    CHECK_FALSE(file_exists(path + ".tmp"));
  }
  // Where the kills landed varies from run to run; shown so a reader can see the test bites.
  WARN(scenario << " kills: " << killed_mid_write << " during an .h5 rebuild, " << killed_mid_update
                << " during an update in place, " << unreadable << " left an .h5 HDF5 cannot open, " << torn_journal
                << " mid journal line");
}

namespace {

// A tiny tmpfs, so the disk fills up on purpose; unmounted on scope exit.
class SmallDisk {
 public:
  SmallDisk(const std::string& where, const char* size) : where_(where) {
    std::filesystem::create_directory(where_);
    mounted_ = ::mount("tmpfs", where_.c_str(), "tmpfs", 0, (std::string("size=") + size).c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

  // Writes a file until the disk refuses more.
  void fill(const std::string& name) const {
    const int fd = ::open((where_ + "/" + name).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    const std::string block(4096, 'x');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    while (::write(fd, block.data(), 1) > 0) {
    }
    ::close(fd);
  }

 private:
  std::string where_, error_;
  bool mounted_ = false;
};

}  // namespace

TEST_CASE("a full disk gives a clear error and leaves the previous .h5 intact", "[hdf5][results][journal]") {
  ScratchDir dir;
  const std::string mount_point = dir.file("small");
  SmallDisk disk(mount_point, "1m");
  if (!disk.mounted()) {
    WARN("cannot mount a small tmpfs (" << disk.error() << "; needs root): skipping the full-disk test");
    return;
  }
  const std::string path = mount_point + "/results.h5";
  const auto points = test_points(4);

  SECTION("the .h5 cannot be written: error names it and errno, old file unchanged, ledger goes on") {
    std::string before;
    // A point with a key no other point has: a new hp.* column, so the file is written whole.
    const PlannedPoint extra{"p0009", R"({"epochs":3,"lr":0.5,"momentum":0.9})", "extra", 9, -1, ""};
    {
      ResultsFile results(path, test_sweep(), quiet_options(nullptr, /*interval=*/0));
      results.plan(points);
      run_point(results, points[0], 0, 2);
      before = read_text(path);
      REQUIRE(before.size() > 12 * 1024);  // more than the 8 KiB left free below
      // Leave 8 KiB: enough for journal lines, not for a new copy of the .h5.
      std::ofstream(mount_point + "/reserve", std::ios::binary) << std::string(8 * 1024, 'r');
      disk.fill("filler");
      std::filesystem::remove(mount_point + "/reserve");
      try {
        results.plan({extra});
        FAIL("wrote the .h5 on a full disk");
      } catch (const ResultsIoError& e) {
        const std::string message = e.what();
        INFO(message);
        CHECK(message.find("cannot update results file '" + path + "'") != std::string::npos);
        CHECK(message.find("No space left on device") != std::string::npos);
        CHECK(message.find("is unchanged") != std::string::npos);
      }
      CHECK(read_text(path) == before);
      CHECK_FALSE(file_exists(path + ".tmp"));
      { RawFile file(path); }

      std::filesystem::remove(mount_point + "/filler");
      results.start_point(points[1].id, {"n", "cpu", "t"});  // the journal kept working: the plan is there
      results.record_epoch(points[1].id, test_epoch(1, 1));
      results.close();
    }
    RawFile file(path);
    CHECK(raw_point_status(file.id, "p0001") == "running");
    CHECK(raw_curves(file.id, "p0001").size() == 1);
    CHECK(raw_point_status(file.id, "p0009") == "pending");
    CHECK(raw_index_string(file.id, "p0009", "config_json") == extra.config_text);
  }

  SECTION("the journal cannot be written: error names it, later calls refuse, resume continues") {
    std::string before;
    {
      ResultsFile results(path, test_sweep(), quiet_options());
      results.plan(points);
      run_point(results, points[0], 0, 2);
      results.flush();
      before = read_text(path);
      disk.fill("filler");
      results.start_point(points[1].id, {"n", "cpu", "t"});
      for (int e = 1; e <= 100; ++e) results.record_epoch(points[1].id, test_epoch(1, e));  // ~30 KB, buffered
      try {
        results.finish_point(points[1].id, test_result(1, 100));
        FAIL("wrote the journal on a full disk");
      } catch (const ResultsIoError& e) {
        const std::string message = e.what();
        INFO(message);
        CHECK(message.find("cannot write results journal '" + path + ".journal'") != std::string::npos);
        CHECK(message.find("No space left on device") != std::string::npos);
      }
      CHECK_THROWS_WITH(results.fail_point(points[1].id, "x"), Catch::Contains("could not be written earlier"));
      CHECK(read_text(path) == before);
    }  // the destructor cannot write either; it must not throw
    CHECK(read_text(path) == before);
    std::filesystem::remove(mount_point + "/filler");

    ResultsFile results(path, test_sweep(), quiet_options());
    CHECK(results.status(points[0].id) == PointStatus::done);
    CHECK(results.status(points[1].id) == PointStatus::pending);  // its records never became durable
    run_point(results, points[1], 1, 2);
    CHECK(results.status(points[1].id) == PointStatus::done);
  }
}
