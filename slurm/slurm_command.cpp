// `ablate slurm`: options -> BatchJob -> script file -> sbatch; see slurm_command.hpp.
#include "slurm/slurm_command.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "core/pack_option.hpp"
#include "slurm/shell_quote.hpp"
#include "slurm/slurm_error.hpp"
#include "slurm/submit.hpp"
#include "slurm/time_limit.hpp"

namespace ablate::slurm {
namespace {

namespace fs = std::filesystem;

// Slurm keeps the --signal lead time in 16 bits.
constexpr int kMaxSignalSeconds = 65535;
constexpr std::string_view kScriptSuffix = ".sbatch";
constexpr std::string_view kLogSuffix = ".slurm-%j.out";

std::string absolute_path(const std::string& path) {
  // absolute, not canonical: keep the user's symlinks, which compute nodes usually share.
  return fs::absolute(fs::path(path)).lexically_normal().string();
}

void require_at_least(int value, int least, std::string_view option) {
  if (value < least) throw SlurmError(fmt::format("{} {} is out of range: give {} or more", option, value, least));
}

std::string resolve_sweep(const std::string& sweep_path) {
  if (sweep_path.empty()) throw SlurmError("no sweep given: ablate slurm SWEEP.toml -o RESULTS.h5 ...");
  std::error_code error;
  if (!fs::is_regular_file(sweep_path, error)) {
    throw SlurmError(fmt::format("sweep '{}' is not a file: give the path of a sweep spec (.toml)", sweep_path));
  }
  if (access(sweep_path.c_str(), R_OK) != 0) {
    throw SlurmError(fmt::format("sweep '{}' cannot be read: {}", sweep_path, std::strerror(errno)));
  }
  return absolute_path(sweep_path);
}

std::string resolve_results(const std::string& results_path) {
  if (results_path.empty()) throw SlurmError("no results file given: add -o RESULTS.h5");
  const std::string absolute = absolute_path(results_path);
  const fs::path directory = fs::path(absolute).parent_path();
  std::error_code error;
  if (!fs::is_directory(directory, error)) {
    throw SlurmError(fmt::format("the directory of the results file '{}' does not exist: create {} first",
                                 results_path, directory.string()));
  }
  if (fs::is_directory(absolute, error)) {
    throw SlurmError(fmt::format("-o '{}' is a directory: name the results file, e.g. {}/results.h5",
                                 results_path, absolute));
  }
  return absolute;
}

std::string resolve_ablate_binary(const std::string& requested) {
  std::string binary = requested;
  if (binary.empty()) {
    std::error_code error;
    binary = fs::read_symlink("/proc/self/exe", error).string();
    if (error) {
      throw SlurmError(fmt::format("cannot find this program's own path ({}): give --ablate-binary PATH",
                                   error.message()));
    }
  }
  binary = absolute_path(binary);
  std::error_code error;
  if (!fs::is_regular_file(binary, error) || access(binary.c_str(), X_OK) != 0) {
    throw SlurmError(fmt::format("--ablate-binary '{}' is not an executable file: give the path of ablate", binary));
  }
  return binary;
}

std::string resolve_sbatch_line(const std::string& line) {
  const auto starts_with = [&](std::string_view prefix) { return line.rfind(prefix, 0) == 0; };
  std::string directive;
  if (starts_with("#SBATCH ") || starts_with("#SBATCH\t")) {
    directive = line;
  } else if (starts_with("-")) {
    directive = "#SBATCH " + line;
  } else {
    throw SlurmError(fmt::format(
        "--sbatch-line '{}' is not an sbatch directive: write '#SBATCH --option=value' (or just '--option=value')",
        line));
  }
  for (const char c : directive) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
      throw SlurmError(fmt::format(
          "--sbatch-line '{}' contains a newline or another control character; give one directive per "
          "--sbatch-line",
          line));
    }
  }
  return directive;
}

int resolve_tasks_per_node(const SlurmOptions& options) {
  if (options.tasks_per_node > 0) return options.tasks_per_node;
  // One rank per GPU; without GPUs one rank per node, which trains with all the cores the
  // task is given (--cpus-per-task). Ask for more with --tasks-per-node.
  return options.gpus_per_node > 0 ? options.gpus_per_node : 1;
}

// The value of `option` among the arguments for ablate run ("--option V" or "--option=V"); the
// last one given, or nothing.
std::optional<std::string> ablate_run_value(const std::vector<std::string>& args, std::string_view option) {
  std::optional<std::string> value;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == option && i + 1 < args.size()) value = args[i + 1];
    if (arg.size() > option.size() && arg.rfind(option, 0) == 0 && arg[option.size()] == '=')
      value = arg.substr(option.size() + 1);
  }
  return value;
}

// --pack for the job's ablate run, checked now as ablate run will check it (with its own parser
// and words), not after the job has waited in the queue: {"--pack", K} or {} for the default 1.
std::vector<std::string> resolve_pack(const SlurmOptions& options) {
  const int pack = parse_pack_option(options.pack);
  const std::optional<std::string> pack_after_dashes = ablate_run_value(options.ablate_args, "--pack");
  if (pack != 1 && pack_after_dashes) {
    throw SlurmError(fmt::format("--pack {} and --pack {} after --: give --pack once, before the --",
                                 options.pack, *pack_after_dashes));
  }
  const int run_pack = pack_after_dashes ? parse_pack_option(*pack_after_dashes) : pack;
  // A --ranks-per-point that is not a count is left to ablate run, which names it.
  int ranks_per_point = 1;
  if (const auto text = ablate_run_value(options.ablate_args, "--ranks-per-point")) {
    int count = 0;
    const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), count);
    if (error == std::errc() && end == text->data() + text->size()) ranks_per_point = count;
  }
  check_pack_with_ranks_per_point(run_pack, ranks_per_point);
  if (pack == 1) return {};
  return {"--pack", pack_option_value(pack)};
}

void write_file_whole(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      throw SlurmError(fmt::format("cannot write the job script {}: {}", temporary, std::strerror(errno)));
    }
  }
  if (chmod(temporary.c_str(), 0755) != 0 || std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    std::remove(temporary.c_str());
    throw SlurmError(fmt::format("cannot write the job script {}: {}", path, std::strerror(saved)));
  }
}

}  // namespace

BatchJob resolve_batch_job(const SlurmOptions& options) {
  BatchJob job;
  job.sweep_path = resolve_sweep(options.sweep_path);
  job.results_path = resolve_results(options.results_path);

  require_at_least(options.nodes, 1, "--nodes");
  require_at_least(options.gpus_per_node, 0, "--gpus-per-node");
  require_at_least(options.tasks_per_node, 0, "--tasks-per-node");
  require_at_least(options.cpus_per_task, 0, "--cpus-per-task");
  require_at_least(options.max_requeues, 0, "--max-requeues");
  if (options.signal_seconds < 1 || options.signal_seconds > kMaxSignalSeconds) {
    throw SlurmError(fmt::format("--signal-seconds {} is out of range: give 1 to {}", options.signal_seconds,
                                 kMaxSignalSeconds));
  }
  if (options.launcher != kLauncherSrun && options.launcher != kLauncherMpirun) {
    throw SlurmError(fmt::format("--launcher '{}' is unknown: give srun or mpirun", options.launcher));
  }
  if (!options.time_limit.empty()) {
    const auto limit = parse_time_limit(options.time_limit);
    if (limit && *limit <= options.signal_seconds) {
      throw SlurmError(fmt::format(
          "--time {} ({} s) leaves no time before the --signal-seconds {} warning: ask for more time or a "
          "shorter warning",
          options.time_limit, *limit, options.signal_seconds));
    }
  }
  if (!options.ablate_args.empty() && options.ablate_args.front().rfind('-', 0) != 0) {
    throw SlurmError(fmt::format(
        "'{}' is not an option of ablate run: give one sweep, and pass options for ablate run after --",
        options.ablate_args.front()));
  }

  job.nodes = options.nodes;
  job.gpus_per_node = options.gpus_per_node;
  job.tasks_per_node = resolve_tasks_per_node(options);
  job.cpus_per_task = options.cpus_per_task;
  job.time_limit = options.time_limit;
  job.partition = options.partition;
  job.account = options.account;
  job.qos = options.qos;
  job.job_name = options.job_name.empty() ? "ablate-" + fs::path(job.sweep_path).stem().string() : options.job_name;
  for (const auto& line : options.sbatch_lines) job.extra_sbatch_lines.push_back(resolve_sbatch_line(line));
  job.signal_seconds = options.signal_seconds;
  job.launcher = options.launcher;
  job.max_requeues = options.max_requeues;
  job.ablate_binary = resolve_ablate_binary(options.ablate_binary);
  job.ablate_args = resolve_pack(options);
  job.ablate_args.insert(job.ablate_args.end(), options.ablate_args.begin(), options.ablate_args.end());
  job.script_path = job.results_path + std::string(kScriptSuffix);
  job.log_pattern = slurm_filename_literal(job.results_path, "the results path (-o)") + std::string(kLogSuffix);
  return job;
}

SlurmJobFiles write_slurm_job(const SlurmOptions& options) {
  const BatchJob job = resolve_batch_job(options);
  const std::string script = render_batch_script(job);  // throws before anything is written
  write_file_whole(job.script_path, script);

  SlurmJobFiles files;
  files.script_path = job.script_path;
  files.log_path = job.results_path + std::string(kLogSuffix);
  if (options.submit) {
    files.job_id = submit_batch_script(options.sbatch_program, job.script_path);
    files.log_path = job.results_path + fmt::format(".slurm-{}.out", files.job_id);
  }
  return files;
}

int run_slurm_command(const SlurmOptions& options) {
  const SlurmJobFiles files = write_slurm_job(options);
  const std::string script = bash_quote(files.script_path, "the script path");
  if (files.job_id.empty()) {
    std::cout << files.script_path << "\n";
    std::cerr << fmt::format("ablate: wrote the job script; submit it with: sbatch {}\n", script);
  } else {
    std::cout << files.job_id << "\n";
    std::cerr << fmt::format("ablate: submitted job {} ({})\n  follow it: squeue -j {}; tail -f {}\n",
                             files.job_id, files.script_path, files.job_id,
                             bash_quote(files.log_path, "the log path"));
  }
  return 0;
}

}  // namespace ablate::slurm
