// Tests of slurm/: quoting (checked by bash and by sbatch's rules), time limits, the template
// filler, the rendered script (run by bash against fake srun/mpirun/scontrol/scancel/ablate),
// option resolution (--pack as ablate run checks it), submission through a fake sbatch, and the
// command line.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/option_error.hpp"
#include "core/pack_option.hpp"
#include "slurm/batch_script.hpp"
#include "slurm/process.hpp"
#include "slurm/script_template.hpp"
#include "slurm/shell_quote.hpp"
#include "slurm/slurm_cli.hpp"
#include "slurm/slurm_command.hpp"
#include "slurm/slurm_error.hpp"
#include "slurm/submit.hpp"
#include "slurm/time_limit.hpp"

namespace fs = std::filesystem;
using namespace ablate::slurm;
using Catch::Matchers::Contains;

namespace {

// Strings that break naive quoting: spaces, both quotes, $, backticks, backslashes, globs,
// command substitution, comment and option look-alikes, newlines, non-ASCII.
const std::vector<std::string> kHostileStrings = {
    "plain",
    "with space",
    "it's",
    "''",
    "say \"hi\"",
    "$HOME",
    "${PATH}",
    "$(touch pwned)",
    "`touch pwned`",
    "back\\slash\\",
    "*?[a]",
    "# not a comment",
    "-o",
    "--",
    "line one\nline two",
    "tab\there",
    "trailing newline\n",
    "'\"'\"$`\\",
    "naïve – ünïcode",
    "",
};

// A fresh directory under the system temp dir, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "ablate-slurm-test-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

void write_file(const std::string& path, const std::string& text, bool executable = false) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  REQUIRE(out.good());
  if (executable) REQUIRE(chmod(path.c_str(), 0755) == 0);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> split_nul(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\0') {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

ProcessResult run_bash(const std::string& code) { return run_process({"bash", "-c", code}); }

// Fake Slurm and MPI commands and a fake ablate, on a PATH of their own; each records what it
// was asked to do under `log`. The fake ablate sits in a directory whose name needs quoting.
struct FakeCluster {
  TempDir dir;
  std::string bin = dir / "bin";
  std::string log = dir / "log";
  std::string ablate_dir = dir / "dir with space, it's $HOME `x`";
  std::string ablate = ablate_dir + "/ablate $(touch pwned)";

  FakeCluster() {
    fs::create_directories(bin);
    fs::create_directories(log);
    fs::create_directories(ablate_dir);
    // srun/mpirun: note their options, then become the command.
    const std::string launcher =
        "#!/bin/bash\n"
        "while [[ $# -gt 0 && $1 == -* ]]; do printf '%s\\n' \"$1\" >> \"$FAKE_LOG/$(basename \"$0\")_options\"; "
        "shift; done\n"
        "exec \"$@\"\n";
    write_file(bin + "/srun", launcher, true);
    write_file(bin + "/mpirun", launcher, true);
    write_file(bin + "/scontrol", "#!/bin/bash\necho \"scontrol $*\" >> \"$FAKE_LOG/calls\"\nexit ${FAKE_SCONTROL_RC:-0}\n",
               true);
    // scancel --signal=TERM JOB: what Slurm does to the tasks, done to the fake ablate.
    write_file(bin + "/scancel",
               "#!/bin/bash\necho \"scancel $*\" >> \"$FAKE_LOG/calls\"\nkill -TERM \"$(cat \"$FAKE_LOG/ablate.pid\")\"\n",
               true);
    // ablate: records its arguments (NUL-separated, so newlines inside them survive); with
    // FAKE_WAIT=1 it runs until TERM and then exits FAKE_TERM_EXIT (ablate's 4 by default).
    write_file(ablate,
               "#!/bin/bash\n"
               "trap 'echo term >> \"$FAKE_LOG/calls\"; exit ${FAKE_TERM_EXIT:-4}' TERM\n"
               "printf '%s\\0' \"$@\" > \"$FAKE_LOG/ablate_args\"\n"
               "echo $$ > \"$FAKE_LOG/ablate.pid\"\n"
               "if [[ ${FAKE_WAIT:-0} == 1 ]]; then for _ in $(seq 400); do sleep 0.05; done; exit 99; fi\n"
               "exit ${FAKE_EXIT:-0}\n",
               true);
  }

  // Runs `script` under bash with the fakes first on PATH and SLURM_JOB_ID=77; `env` adds
  // NAME=VALUE words. With `send_term`, TERM goes to the script once the fake ablate runs.
  ProcessResult run(const std::string& script, const std::string& env, bool send_term = false) const {
    const std::string prefix = fmt::format("export PATH={}:\"$PATH\" FAKE_LOG={} SLURM_JOB_ID=77 {}; cd {}; ",
                                           bash_quote(bin, "bin"), bash_quote(log, "log"), env,
                                           bash_quote(dir.path.string(), "dir"));
    if (!send_term) return run_bash(prefix + "bash " + bash_quote(script, "script"));
    return run_bash(prefix + "bash " + bash_quote(script, "script") +
                    " & pid=$!; for _ in $(seq 400); do [[ -s \"$FAKE_LOG/ablate.pid\" ]] && break; sleep 0.05; "
                    "done; kill -TERM $pid; wait $pid");
  }
  std::string calls() const { return read_file(log + "/calls"); }
  std::vector<std::string> ablate_args() const { return split_nul(read_file(log + "/ablate_args")); }
};

BatchJob example_job() {
  BatchJob job;
  job.job_name = "ablate-depth";
  job.nodes = 2;
  job.tasks_per_node = 4;
  job.gpus_per_node = 4;
  job.time_limit = "02:00:00";
  job.ablate_binary = "/opt/ablate/bin/ablate";
  job.sweep_path = "/home/me/depth.toml";
  job.results_path = "/scratch/me/depth.h5";
  job.script_path = "/scratch/me/depth.h5.sbatch";
  job.log_pattern = "/scratch/me/depth.h5.slurm-%j.out";
  return job;
}

// A job whose every user string is `hostile`, with the script and the fake ablate of `cluster`.
BatchJob hostile_job(const FakeCluster& cluster, const std::string& hostile) {
  BatchJob job = example_job();
  job.gpus_per_node = 0;
  job.ablate_binary = cluster.ablate;
  job.sweep_path = "/data/" + hostile + ".toml";
  job.results_path = "/results/" + hostile + ".h5";
  job.ablate_args = {"--note", hostile, hostile + hostile, ""};
  job.script_path = cluster.dir / "job.sbatch";
  return job;
}

}  // namespace

TEST_CASE("bash_quote writes single-quoted words with '\\'' for quotes", "[slurm]") {
  CHECK(bash_quote("plain", "x") == "'plain'");
  CHECK(bash_quote("", "x") == "''");
  CHECK(bash_quote("it's", "x") == "'it'\\''s'");
  CHECK(bash_quote("$HOME `id`", "x") == "'$HOME `id`'");
  CHECK(bash_quote("a\nb", "x") == "'a\nb'");
  CHECK(bash_quote_words({"a b", "c'd"}, "x") == "'a b' 'c'\\''d'");
  CHECK(bash_quote_words({}, "x").empty());
  CHECK_THROWS_WITH(bash_quote(std::string("a\0b", 3), "the sweep path"), Contains("the sweep path contains a NUL"));
}

TEST_CASE("bash reads every quoted hostile string back exactly, and runs none of it", "[slurm]") {
  TempDir dir;
  const std::string code = fmt::format("cd {}; printf '%s\\0' {}", bash_quote(dir.path.string(), "dir"),
                                       bash_quote_words(kHostileStrings, "test"));
  const ProcessResult result = run_bash(code);
  REQUIRE(result.exit_code == 0);
  CHECK(split_nul(result.output) == kHostileStrings);
  CHECK_FALSE(fs::exists(dir / "pwned"));
}

TEST_CASE("sbatch_value leaves plain values alone and double-quotes the rest as sbatch reads them", "[slurm]") {
  CHECK(sbatch_value("--time", "02:00:00") == "02:00:00");
  CHECK(sbatch_value("--output", "/a/b-c_d.e+f@g,h=i") == "/a/b-c_d.e+f@g,h=i");
  CHECK(sbatch_value("--job-name", "my job") == "\"my job\"");
  // sbatch honours backslash escapes inside quotes: \" is a quote, \\ a backslash.
  CHECK(sbatch_value("--job-name", "say \"hi\" \\o/") == "\"say \\\"hi\\\" \\\\o/\"");
  // # inside quotes does not start a comment for sbatch; ' is literal inside double quotes.
  CHECK(sbatch_value("--job-name", "#1 it's $x `y`") == "\"#1 it's $x `y`\"");
  CHECK_THROWS_WITH(sbatch_value("--job-name", "two\nlines"),
                    Contains("--job-name contains a newline") && Contains("#SBATCH line cannot carry"));
  CHECK_THROWS_WITH(sbatch_value("--partition", "a\rb"), Contains("--partition contains a carriage return"));
  CHECK_THROWS_WITH(sbatch_value("--qos", "a\x01"), Contains("--qos contains the control character 0x01"));
  CHECK_THROWS_WITH(sbatch_value("--account", ""), Contains("--account is empty"));
}

TEST_CASE("slurm_filename_literal doubles % and refuses backslashes", "[slurm]") {
  CHECK(slurm_filename_literal("/r/100%/x%j.h5", "-o") == "/r/100%%/x%%j.h5");
  CHECK(slurm_filename_literal("/plain/path.h5", "-o") == "/plain/path.h5");
  CHECK_THROWS_WITH(slurm_filename_literal("/a\\b.h5", "the results path (-o)"),
                    Contains("the results path (-o) '/a\\b.h5' contains a backslash"));
}

TEST_CASE("parse_time_limit reads every form sbatch accepts", "[slurm]") {
  CHECK(parse_time_limit("90") == 90 * 60);
  CHECK(parse_time_limit("90:30") == 90 * 60 + 30);
  CHECK(parse_time_limit("02:00:00") == 7200);
  CHECK(parse_time_limit("1-0") == 86400);
  CHECK(parse_time_limit("1-12") == 86400 + 12 * 3600);
  CHECK(parse_time_limit("2-03:04") == 2 * 86400 + 3 * 3600 + 4 * 60);
  CHECK(parse_time_limit("2-03:04:05") == 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
  CHECK(parse_time_limit("UNLIMITED") == std::nullopt);
  CHECK(parse_time_limit("infinite") == std::nullopt);
  CHECK(parse_time_limit("0") == std::nullopt);
  for (const char* bad : {"", "2h", "1:2:3:4", "-5", "1-", "1-2:3:4:5", "1:-2", "99999999999"}) {
    INFO(bad);
    CHECK_THROWS_WITH(parse_time_limit(bad), Contains("--time '") && Contains("02:00:00"));
  }
}

TEST_CASE("fill_template replaces placeholders and refuses any mismatch", "[slurm]") {
  CHECK(fill_template("a={{a}} b={{b}}{{a}}", {{"a", "1"}, {"b", "{{a}}"}}, "t") == "a=1 b={{a}}1");
  CHECK(fill_template("no placeholders", {}, "t") == "no placeholders");
  CHECK_THROWS_WITH(fill_template("{{a}} {{c}}", {{"a", "1"}}, "t"), Contains("template t: no value for placeholder {{c}}"));
  CHECK_THROWS_WITH(fill_template("{{a}}", {{"a", "1"}, {"b", "2"}}, "t"), Contains("value for {{b}} but no such placeholder"));
  CHECK_THROWS_WITH(fill_template("x {{a", {{"a", "1"}}, "t"), Contains("'{{' at byte 2 is never closed"));
}

TEST_CASE("the embedded template is slurm/templates/ablate.sbatch.in byte for byte", "[slurm]") {
  const char* from_env = std::getenv("ABLATE_SOURCE_DIR");
  const std::string source_dir = from_env != nullptr ? from_env : ABLATE_SOURCE_DIR_DEFAULT;
  const std::string on_disk = read_file(source_dir + "/slurm/templates/ablate.sbatch.in");
  REQUIRE(on_disk.size() > 1000);
  CHECK(batch_script_template() == on_disk);
}

TEST_CASE("the rendered script asks Slurm for the allocation, the warning signal and requeueing", "[slurm]") {
  BatchJob job = example_job();
  job.partition = "gpu";
  job.account = "proj42";
  job.qos = "normal";
  job.cpus_per_task = 8;
  job.extra_sbatch_lines = {"#SBATCH --mem=64G"};
  const std::string script = render_batch_script(job);
  const std::string expected_directives =
      "#!/bin/bash\n"
      "#SBATCH --job-name=ablate-depth\n"
      "#SBATCH --nodes=2\n"
      "#SBATCH --ntasks-per-node=4\n"
      "#SBATCH --gres=gpu:4\n"
      "#SBATCH --cpus-per-task=8\n"
      "#SBATCH --time=02:00:00\n"
      "#SBATCH --partition=gpu\n"
      "#SBATCH --account=proj42\n"
      "#SBATCH --qos=normal\n"
      "#SBATCH --output=/scratch/me/depth.h5.slurm-%j.out\n"
      "#SBATCH --open-mode=append\n"
      "#SBATCH --requeue\n"
      "#SBATCH --signal=B:TERM@120\n"
      "#SBATCH --mem=64G\n"
      "#\n";
  CHECK(script.substr(0, expected_directives.size()) == expected_directives);
  CHECK_THAT(script, Contains("\nablate='/opt/ablate/bin/ablate'\n"));
  CHECK_THAT(script, Contains("\nsweep='/home/me/depth.toml'\n"));
  CHECK_THAT(script, Contains("\nresults='/scratch/me/depth.h5'\n"));
  CHECK_THAT(script, Contains("\nextra_args=()\n"));
  CHECK_THAT(script, Contains("\ncpus_per_task=8\n"));
  CHECK_THAT(script, Contains("\nmax_requeues=20\n"));
  CHECK_THAT(script, Contains("scontrol requeue \"$SLURM_JOB_ID\""));

  job.gpus_per_node = 0;
  job.cpus_per_task = 0;
  job.time_limit.clear();
  job.partition.clear();
  job.signal_seconds = 300;
  const std::string cpu_script = render_batch_script(job);
  CHECK_THAT(cpu_script, !Contains("--gres") && !Contains("#SBATCH --cpus-per-task") && !Contains("--time=") &&
                             !Contains("--partition") && Contains("#SBATCH --signal=B:TERM@300\n"));
}

TEST_CASE("directives with hostile values are quoted for sbatch or refused naming the option", "[slurm]") {
  BatchJob job = example_job();
  job.job_name = "my \"job\" $(x) `y` #z \\w 'q'";
  job.partition = "part with space";
  job.log_pattern = slurm_filename_literal("/r/it's 100% $x.h5", "-o") + ".slurm-%j.out";
  const std::string script = render_batch_script(job);
  // Checked against Slurm 22.05's sbatch too (tests/slurm/test_slurm_live.sh): the job name
  // and the log path come back exactly.
  CHECK_THAT(script, Contains("\n#SBATCH --job-name=\"my \\\"job\\\" $(x) `y` #z \\\\w 'q'\"\n"));
  CHECK_THAT(script, Contains("\n#SBATCH --partition=\"part with space\"\n"));
  CHECK_THAT(script, Contains("\n#SBATCH --output=\"/r/it's 100%% $x.h5.slurm-%j.out\"\n"));

  job.job_name = "two\nlines";
  CHECK_THROWS_WITH(render_batch_script(job), Contains("--job-name contains a newline"));
  job.job_name = "ok";
  job.account = "tab\there";
  CHECK_THROWS_WITH(render_batch_script(job), Contains("--account contains a tab"));
}

TEST_CASE("bash -n accepts the script, and ablate gets exactly the hostile arguments", "[slurm]") {
  FakeCluster cluster;
  for (const auto& hostile : kHostileStrings) {
    INFO("hostile string: " << hostile);
    fs::remove(cluster.log + "/ablate_args");
    const BatchJob job = hostile_job(cluster, hostile);
    write_file(job.script_path, render_batch_script(job));

    const ProcessResult syntax = run_process({"bash", "-n", job.script_path});
    CHECK(syntax.exit_code == 0);
    CHECK(syntax.errors.empty());

    const ProcessResult result = cluster.run(job.script_path, "");
    CHECK(result.exit_code == 0);
    const std::vector<std::string> expected = {"run",    job.sweep_path, "-o", job.results_path, "--note",
                                               hostile, hostile + hostile, ""};
    CHECK(cluster.ablate_args() == expected);
    CHECK_FALSE(fs::exists(cluster.dir / "pwned"));
    CHECK_THAT(result.errors, Contains("sweep complete"));
  }
}

TEST_CASE("the script's exit code follows ablate's, and only an incomplete sweep is requeued", "[slurm]") {
  FakeCluster cluster;
  BatchJob job = hostile_job(cluster, "it's");
  job.max_requeues = 3;
  job.cpus_per_task = 6;
  write_file(job.script_path, render_batch_script(job));

  SECTION("0: complete, not requeued") {
    CHECK(cluster.run(job.script_path, "FAKE_EXIT=0").exit_code == 0);
    CHECK(cluster.calls().empty());
    // srun is told the CPUs per task, which it no longer inherits from sbatch.
    CHECK(read_file(cluster.log + "/srun_options") == "--cpus-per-task=6\n");
  }
  SECTION("3: some points failed, not requeued") {
    const ProcessResult result = cluster.run(job.script_path, "FAKE_EXIT=3");
    CHECK(result.exit_code == 3);
    CHECK(cluster.calls().empty());
    CHECK_THAT(result.errors, Contains("some points failed"));
  }
  SECTION("4: incomplete, requeued") {
    const ProcessResult result = cluster.run(job.script_path, "FAKE_EXIT=4");
    CHECK(result.exit_code == 4);
    CHECK(cluster.calls() == "scontrol requeue 77\n");
    CHECK_THAT(result.errors, Contains("requeueing job 77"));
  }
  SECTION("4 after the most requeues allowed: not requeued, told how to resubmit") {
    const ProcessResult result = cluster.run(job.script_path, "FAKE_EXIT=4 SLURM_RESTART_COUNT=3");
    CHECK(result.exit_code == 4);
    CHECK(cluster.calls().empty());
    CHECK_THAT(result.errors, Contains("after 3 requeues") && Contains("sbatch "));
  }
  SECTION("4 with a failing scontrol: says so") {
    const ProcessResult result = cluster.run(job.script_path, "FAKE_EXIT=4 FAKE_SCONTROL_RC=1");
    CHECK(result.exit_code == 4);
    CHECK_THAT(result.errors, Contains("scontrol requeue failed"));
  }
  SECTION("any other code: an error of ablate, passed on, not requeued") {
    const ProcessResult result = cluster.run(job.script_path, "FAKE_EXIT=1");
    CHECK(result.exit_code == 1);
    CHECK(cluster.calls().empty());
    CHECK_THAT(result.errors, Contains("ablate failed with exit code 1"));
  }
}

TEST_CASE("TERM to the script reaches ablate, and the stopped sweep is requeued", "[slurm]") {
  FakeCluster cluster;
  BatchJob job = hostile_job(cluster, "$x");

  SECTION("srun: the tasks are signalled through Slurm, never by killing srun") {
    write_file(job.script_path, render_batch_script(job));
    const ProcessResult result = cluster.run(job.script_path, "FAKE_WAIT=1", /*send_term=*/true);
    CHECK(result.exit_code == 4);
    CHECK(cluster.calls() == "scancel --signal=TERM 77\nterm\nscontrol requeue 77\n");
    CHECK_THAT(result.errors, Contains("TERM received") && Contains("exit 4"));
  }
  SECTION("mpirun: TERM goes to mpirun, and a TERM-ended run is requeued whatever mpirun reports") {
    job.launcher = "mpirun";
    write_file(job.script_path, render_batch_script(job));
    // mpirun reports a code of its own (here 1) when its ranks were signalled.
    const ProcessResult result = cluster.run(job.script_path, "FAKE_WAIT=1 FAKE_TERM_EXIT=1", /*send_term=*/true);
    CHECK(result.exit_code == 4);
    CHECK(cluster.calls() == "term\nscontrol requeue 77\n");
    CHECK_THAT(result.errors, Contains("incomplete (exit 1)"));
  }
  SECTION("a sweep that completes while stopping is not requeued") {
    write_file(job.script_path, render_batch_script(job));
    const ProcessResult result = cluster.run(job.script_path, "FAKE_WAIT=1 FAKE_TERM_EXIT=0", /*send_term=*/true);
    CHECK(result.exit_code == 0);
    CHECK(cluster.calls() == "scancel --signal=TERM 77\nterm\n");
  }
}

TEST_CASE("resolve_batch_job fills the defaults and makes paths absolute", "[slurm]") {
  TempDir dir;
  write_file(dir / "depth.toml", "name = \"depth\"\n");
  SlurmOptions options;
  options.sweep_path = dir / "depth.toml";
  options.results_path = dir / "sub/../out.h5";
  fs::create_directories(dir / "sub");
  options.ablate_binary = "/bin/true";

  SECTION("GPUs: one rank per GPU") {
    options.gpus_per_node = 4;
    const BatchJob job = resolve_batch_job(options);
    CHECK(job.tasks_per_node == 4);
    CHECK(job.job_name == "ablate-depth");
    CHECK(job.results_path == dir / "out.h5");
    CHECK(job.script_path == dir / "out.h5.sbatch");
    CHECK(job.log_pattern == dir / "out.h5.slurm-%j.out");
    CHECK(job.ablate_binary == "/bin/true");
    CHECK(job.launcher == "srun");
    CHECK(job.signal_seconds == 120);
  }
  SECTION("no GPUs: one rank per node unless asked") {
    CHECK(resolve_batch_job(options).tasks_per_node == 1);
    options.tasks_per_node = 3;
    CHECK(resolve_batch_job(options).tasks_per_node == 3);
  }
  SECTION("a relative results path is taken from the working directory") {
    const fs::path saved = fs::current_path();
    fs::current_path(dir.path);
    options.results_path = "rel.h5";
    const BatchJob job = resolve_batch_job(options);
    fs::current_path(saved);
    CHECK(job.results_path == dir / "rel.h5");
  }
  SECTION("a % in the results path stays literal in the log pattern") {
    options.results_path = dir / "100%.h5";
    CHECK(resolve_batch_job(options).log_pattern == dir / "100%%.h5.slurm-%j.out");
  }
  SECTION("sbatch lines may leave out #SBATCH") {
    options.sbatch_lines = {"#SBATCH --mem=4G", "--exclusive"};
    CHECK(resolve_batch_job(options).extra_sbatch_lines ==
          std::vector<std::string>{"#SBATCH --mem=4G", "#SBATCH --exclusive"});
  }
  SECTION("the default binary is the running program") {
    options.ablate_binary.clear();
    CHECK(resolve_batch_job(options).ablate_binary == fs::read_symlink("/proc/self/exe").string());
  }
}

TEST_CASE("resolve_batch_job refuses bad options before writing anything, naming the fix", "[slurm]") {
  TempDir dir;
  write_file(dir / "s.toml", "");
  SlurmOptions options;
  options.sweep_path = dir / "s.toml";
  options.results_path = dir / "r.h5";
  options.ablate_binary = "/bin/true";
  REQUIRE_NOTHROW(resolve_batch_job(options));

  const auto refused = [&](auto change, const std::string& message) {
    SlurmOptions changed = options;
    change(changed);
    CHECK_THROWS_WITH(resolve_batch_job(changed), Contains(message));
  };
  refused([&](auto& o) { o.sweep_path = dir / "missing.toml"; }, "missing.toml' is not a file");
  refused([](auto& o) { o.sweep_path.clear(); }, "no sweep given");
  refused([&](auto& o) { o.results_path = dir / "no/such/dir/r.h5"; }, "does not exist: create");
  refused([&](auto& o) { o.results_path = dir.path.string(); }, "is a directory");
  refused([](auto& o) { o.results_path.clear(); }, "add -o RESULTS.h5");
  refused([](auto& o) { o.nodes = 0; }, "--nodes 0 is out of range: give 1 or more");
  refused([](auto& o) { o.gpus_per_node = -1; }, "--gpus-per-node -1 is out of range");
  refused([](auto& o) { o.signal_seconds = 0; }, "--signal-seconds 0 is out of range: give 1 to 65535");
  refused([](auto& o) { o.signal_seconds = 70000; }, "--signal-seconds 70000");
  refused([](auto& o) { o.launcher = "aprun"; }, "--launcher 'aprun' is unknown");
  refused([](auto& o) { o.time_limit = "2 hours"; }, "--time '2 hours'");
  refused([](auto& o) { o.time_limit = "2"; }, "--time 2 (120 s) leaves no time before the --signal-seconds 120");
  refused([](auto& o) { o.sbatch_lines = {"mem=4G"}; }, "--sbatch-line 'mem=4G' is not an sbatch directive");
  refused([](auto& o) { o.sbatch_lines = {"#SBATCH --mem=4G\nrm -rf /"}; }, "contains a newline");
  refused([](auto& o) { o.ablate_args = {"other.toml"}; }, "'other.toml' is not an option of ablate run");
  refused([](auto& o) { o.ablate_binary = "/no/such/ablate"; }, "--ablate-binary '/no/such/ablate' is not an executable");
  refused([&](auto& o) { o.results_path = dir / "a\\b.h5"; }, "contains a backslash");
}

TEST_CASE("parse_submitted_job_id finds sbatch's job ID line", "[slurm]") {
  CHECK(parse_submitted_job_id("Submitted batch job 12345\n") == "12345");
  CHECK(parse_submitted_job_id("Submitted batch job 7 on cluster big\n") == "7");
  CHECK(parse_submitted_job_id("sbatch: note: 2 GPUs\nSubmitted batch job 99") == "99");
  CHECK(parse_submitted_job_id("") == std::nullopt);
  CHECK(parse_submitted_job_id("Submitted batch job \n") == std::nullopt);
  CHECK(parse_submitted_job_id("Submitted batch job 12a\n") == std::nullopt);
  CHECK(parse_submitted_job_id("xSubmitted batch job 5\n") == std::nullopt);
}

TEST_CASE("write_slurm_job writes the script and submits it through sbatch", "[slurm]") {
  TempDir dir;
  write_file(dir / "s.toml", "");
  SlurmOptions options;
  options.sweep_path = dir / "s.toml";
  options.results_path = dir / "r.h5";
  options.ablate_binary = "/bin/true";

  SECTION("without --submit: the script only") {
    const SlurmJobFiles files = write_slurm_job(options);
    CHECK(files.script_path == dir / "r.h5.sbatch");
    CHECK(files.job_id.empty());
    CHECK(read_file(files.script_path).rfind("#!/bin/bash\n#SBATCH --job-name=ablate-s\n", 0) == 0);
    CHECK((fs::status(files.script_path).permissions() & fs::perms::owner_exec) != fs::perms::none);
    CHECK_FALSE(fs::exists(dir / "r.h5.sbatch.tmp"));
  }
  SECTION("sbatch answers with a job ID") {
    write_file(dir / "sbatch", "#!/bin/bash\necho \"$@\" > \"$(dirname \"$0\")/sbatch_args\"\necho 'Submitted batch job 4242'\n",
               true);
    options.submit = true;
    options.sbatch_program = dir / "sbatch";
    const SlurmJobFiles files = write_slurm_job(options);
    CHECK(files.job_id == "4242");
    CHECK(files.log_path == dir / "r.h5.slurm-4242.out");
    CHECK(read_file(dir / "sbatch_args") == dir / "r.h5.sbatch\n");
  }
  SECTION("sbatch refuses: its message is shown") {
    write_file(dir / "sbatch", "#!/bin/bash\necho 'sbatch: error: invalid partition specified: gpu' >&2\nexit 1\n", true);
    options.submit = true;
    options.sbatch_program = dir / "sbatch";
    CHECK_THROWS_WITH(write_slurm_job(options), Contains("sbatch refused the job (exit code 1)") &&
                                                    Contains("invalid partition specified: gpu"));
    CHECK(fs::exists(dir / "r.h5.sbatch"));
  }
  SECTION("sbatch prints no job ID") {
    write_file(dir / "sbatch", "#!/bin/bash\necho 'queued'\n", true);
    options.submit = true;
    options.sbatch_program = dir / "sbatch";
    CHECK_THROWS_WITH(write_slurm_job(options), Contains("printed no 'Submitted batch job N' line"));
  }
  SECTION("no sbatch on PATH") {
    options.submit = true;
    options.sbatch_program = "ablate-no-such-sbatch";
    CHECK_THROWS_WITH(write_slurm_job(options), Contains("'ablate-no-such-sbatch' is not on PATH") &&
                                                    Contains("sbatch '" + (dir / "r.h5.sbatch") + "'"));
  }
  SECTION("a bad option writes nothing") {
    options.job_name = "a\nb";
    CHECK_THROWS_WITH(write_slurm_job(options), Contains("--job-name contains a newline"));
    CHECK_FALSE(fs::exists(dir / "r.h5.sbatch"));
  }
}

TEST_CASE("ablate slurm --pack reaches the job's ablate run, and is refused as ablate run refuses it", "[slurm][pack]") {
  FakeCluster cluster;
  write_file(cluster.dir / "s.toml", "");
  SlurmOptions options;
  options.sweep_path = cluster.dir / "s.toml";
  options.results_path = cluster.dir / "r.h5";
  options.ablate_binary = cluster.ablate;
  options.ablate_args = {"--retry-failed"};
  // Writes the job, runs its script against the fakes, and gives the arguments ablate got.
  const auto run_job = [&] {
    const SlurmJobFiles files = write_slurm_job(options);
    const ProcessResult result = cluster.run(files.script_path, "");
    CHECK(result.exit_code == 0);
    return cluster.ablate_args();
  };
  const std::vector<std::string> plain_run = {"run", options.sweep_path, "-o", options.results_path};
  const auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> words = plain_run;
    words.insert(words.end(), extra.begin(), extra.end());
    return words;
  };
  // What `ablate run` itself says about this --pack value.
  const auto run_says = [](const std::string& value) -> std::string {
    try {
      ablate::parse_pack_option(value);
    } catch (const ablate::OptionError& error) {
      return error.what();
    }
    FAIL("ablate run accepts --pack " << value);
    return "";
  };

  SECTION("--pack 4: in the script, quoted like the other arguments, and ablate run gets it") {
    options.pack = "4";
    CHECK(run_job() == with({"--pack", "4", "--retry-failed"}));
    CHECK_THAT(read_file(cluster.dir / "r.h5.sbatch"), Contains("extra_args=('--pack' '4' '--retry-failed')"));
  }
  SECTION("--pack auto passes as auto") {
    options.pack = "auto";
    CHECK(run_job() == with({"--pack", "auto", "--retry-failed"}));
  }
  SECTION("the default 1 (or 1 given) adds nothing") {
    CHECK(run_job() == with({"--retry-failed"}));
    CHECK_THAT(read_file(cluster.dir / "r.h5.sbatch"), !Contains("--pack"));
    options.pack = "1";
    CHECK(run_job() == with({"--retry-failed"}));
  }
  SECTION("--pack 1 with --ranks-per-point 2 is fine") {
    options.ablate_args = {"--ranks-per-point", "2"};
    CHECK(run_job() == with({"--ranks-per-point", "2"}));
  }
  SECTION("a bad value: ablate run's own message, and no script") {
    for (const std::string bad : {"0", "-1", "x", "4x", "", "257"}) {
      INFO("--pack '" << bad << "'");
      options.pack = bad;
      CHECK_THROWS_AS(write_slurm_job(options), ablate::OptionError);
      CHECK_THROWS_WITH(write_slurm_job(options), run_says(bad));
    }
    CHECK_THAT(run_says("x"), Contains("--pack x: use the number of points") && Contains("or auto"));
    CHECK_FALSE(fs::exists(cluster.dir / "r.h5.sbatch"));
  }
  SECTION("with --ranks-per-point above 1 after --: refused in ablate run's words, and no script") {
    options.pack = "4";
    options.ablate_args = {"--retry-failed", "--ranks-per-point", "2"};
    CHECK_THROWS_AS(write_slurm_job(options), ablate::OptionError);
    CHECK_THROWS_WITH(write_slurm_job(options),
                      Contains("--pack 4 with --ranks-per-point 2: a pack trains on one rank") &&
                          Contains("use --pack 4 with --ranks-per-point 1") &&
                          Contains("or --ranks-per-point 2 without --pack"));
    options.pack = "auto";
    options.ablate_args = {"--ranks-per-point=3"};
    CHECK_THROWS_WITH(write_slurm_job(options), Contains("--pack auto with --ranks-per-point 3"));
    CHECK_FALSE(fs::exists(cluster.dir / "r.h5.sbatch"));
  }
  SECTION("--pack after -- is checked the same way") {
    options.ablate_args = {"--pack", "auto", "--ranks-per-point", "2"};
    CHECK_THROWS_WITH(write_slurm_job(options), Contains("--pack auto with --ranks-per-point 2"));
    options.ablate_args = {"--pack=0"};
    CHECK_THROWS_WITH(write_slurm_job(options), run_says("0"));
    options.ablate_args = {"--pack", "8"};
    CHECK(run_job() == with({"--pack", "8"}));
  }
  SECTION("--pack both before and after --: refused, naming both") {
    options.pack = "4";
    options.ablate_args = {"--pack", "8"};
    CHECK_THROWS_AS(write_slurm_job(options), SlurmError);
    CHECK_THROWS_WITH(write_slurm_job(options), Contains("--pack 4 and --pack 8 after --: give --pack once"));
  }
}

TEST_CASE("the slurm subcommand parses every option, and arguments after -- go to ablate run", "[slurm]") {
  CLI::App app;
  SlurmOptions options;
  CLI::App* command = add_slurm_subcommand(app, options);
  const std::vector<std::string> arguments = {
      "slurm", "s.toml", "-o", "r.h5", "--nodes", "2", "--gpus-per-node", "4", "--time", "02:00:00",
      "--partition", "gpu", "--account", "acc", "--qos", "q", "--job-name", "n", "--cpus-per-task", "8",
      "--tasks-per-node", "2", "--sbatch-line", "#SBATCH --mem=4G", "--sbatch-line", "--exclusive",
      "--signal-seconds", "300", "--launcher", "mpirun", "--max-requeues", "5", "--ablate-binary", "/x/ablate",
      "--pack", "auto", "--submit", "--", "--retry-failed", "--stall-timeout", "600"};
  std::vector<std::string> reversed(arguments.rbegin(), arguments.rend());  // CLI11 takes them reversed
  app.parse(reversed);
  CHECK(*command);
  CHECK(options.sweep_path == "s.toml");
  CHECK(options.results_path == "r.h5");
  CHECK(options.nodes == 2);
  CHECK(options.gpus_per_node == 4);
  CHECK(options.time_limit == "02:00:00");
  CHECK(options.partition == "gpu");
  CHECK(options.account == "acc");
  CHECK(options.qos == "q");
  CHECK(options.job_name == "n");
  CHECK(options.cpus_per_task == 8);
  CHECK(options.tasks_per_node == 2);
  CHECK(options.sbatch_lines == std::vector<std::string>{"#SBATCH --mem=4G", "--exclusive"});
  CHECK(options.signal_seconds == 300);
  CHECK(options.launcher == "mpirun");
  CHECK(options.max_requeues == 5);
  CHECK(options.ablate_binary == "/x/ablate");
  CHECK(options.pack == "auto");
  CHECK(options.submit);
  CHECK(options.ablate_args == std::vector<std::string>{"--retry-failed", "--stall-timeout", "600"});
}

TEST_CASE("the slurm subcommand's defaults and required options", "[slurm]") {
  CLI::App app;
  SlurmOptions options;
  add_slurm_subcommand(app, options);
  std::vector<std::string> minimal = {"r.h5", "-o", "s.toml", "slurm"};  // reversed
  app.parse(minimal);
  CHECK(options.nodes == 1);
  CHECK(options.gpus_per_node == 0);
  CHECK(options.signal_seconds == 120);
  CHECK(options.launcher == "srun");
  CHECK(options.pack == "1");
  CHECK_FALSE(options.submit);
  CHECK(options.ablate_args.empty());

  CLI::App app2;
  SlurmOptions options2;
  add_slurm_subcommand(app2, options2);
  std::vector<std::string> no_output = {"s.toml", "slurm"};
  CHECK_THROWS_AS(app2.parse(no_output), CLI::RequiredError);
  CLI::App app3;
  SlurmOptions options3;
  add_slurm_subcommand(app3, options3);
  std::vector<std::string> bad_launcher = {"aprun", "--launcher", "r.h5", "-o", "s.toml", "slurm"};
  CHECK_THROWS_AS(app3.parse(bad_launcher), CLI::ValidationError);
}
