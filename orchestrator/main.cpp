// ablate's command line: parses options, calls the command, turns errors into exit codes.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <iostream>
#include <type_traits>
#include <variant>

#include "ablate/version.hpp"
#include "orchestrator/exit_codes.hpp"
#include "orchestrator/mpi_check.hpp"
#include "orchestrator/mpi_communicator.hpp"
#include "orchestrator/pack_size.hpp"
#include "orchestrator/plan_command.hpp"
#include "orchestrator/report_command.hpp"
#include "orchestrator/results/results_error.hpp"
#include "orchestrator/run_command.hpp"
#include "orchestrator/train_command.hpp"
#include "orchestrator/trainer_work.hpp"
#include "slurm/slurm_cli.hpp"
#include "slurm/slurm_command.hpp"
#include "slurm/slurm_error.hpp"
#include "sweeps/sweep.hpp"
#include "core/config.hpp"
#include "trainer/idx.hpp"
#include "trainer/trainer.hpp"

namespace {

// Exit codes (orchestrator/exit_codes.hpp): 0 success, 1 bad input or an error,
// 2 usage, 3 finished but a training failed, 4 a sweep stopped early (rerun resumes).

std::string version_text() {
  const ablate::TrainerInfo info = ablate::trainer_info();
  return fmt::format(
      "ablate {} (commit {})\nLibTorch {} ({})\nCUDA compiled in: {}; CUDA available: {} ({} device{})\n"
      "NCCL (data-parallel points on GPUs): {}\nintra-op threads: {}\n",
      ablate::kVersion, ablate::kGitCommit, info.torch_version,
      info.torch_library.empty() ? "library path unknown" : "loaded from " + info.torch_library,
      info.cuda_compiled_in ? "yes" : "no",
      info.cuda_available ? "yes" : "no", info.cuda_devices, info.cuda_devices == 1 ? "" : "s",
      info.nccl_version.empty() ? "not compiled in" : info.nccl_version, info.threads);
}

// "0.05", "[256,256]", "mlp": a key's default as it is typed on the command line.
std::string value_text(const nlohmann::json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

// What a key accepts, from its entry in the table: "linear | mlp | cnn | resnet", "integer 1..100000",
// "list of integers 1..4096, or []".
std::string allowed_text(const ablate::ConfigKey& key) {
  if (!key.choices.empty()) return fmt::format("{}", fmt::join(key.choices, " | "));
  const auto number = [](double v) {
    return v == std::round(v) && std::abs(v) < 1e15 ? fmt::format("{:.0f}", v) : fmt::format("{:g}", v);
  };
  const auto range = [&] {
    const bool low = std::isfinite(key.min), high = std::isfinite(key.max);
    if (low && high) return fmt::format(" {}..{}", number(key.min), number(key.max));
    if (low) return fmt::format(" >= {}", number(key.min));
    if (high) return fmt::format(" <= {}", number(key.max));
    return std::string();
  };
  return std::visit(
      [&](auto member) -> std::string {
        using Value = std::remove_reference_t<decltype(ablate::TrainConfig{}.*member)>;
        if constexpr (std::is_same_v<Value, bool>) return "true | false";
        else if constexpr (std::is_same_v<Value, int>) return "integer" + range();
        else if constexpr (std::is_same_v<Value, double>) return "number" + range();
        else if constexpr (std::is_same_v<Value, std::vector<int>>)
          return "list of integers" + range() + (key.allow_empty_list ? ", or []" : "");
        else return "text";
      },
      key.field);
}

// Every training key: its meaning, what it accepts and its default, from the one table in core/config.hpp.
std::string keys_help() {
  const nlohmann::json defaults = ablate::config_to_json(ablate::TrainConfig{});
  std::string text = "training keys (key=value), what each accepts, and its default:\n";
  for (const auto& key : ablate::config_keys())
    text += fmt::format("  {:<23} {}\n  {:<23}   {}; default {}\n", key.name, key.help, "", allowed_text(key),
                        value_text(defaults.at(key.name)));
  return text;
}

const char* const kRunFooter =
    "Runs every point of the sweep and records it in RESULTS.h5 (and RESULTS.h5.journal). Running the same\n"
    "command again resumes: done points are kept, unfinished ones restart, failed ones are skipped unless\n"
    "--retry-failed. Under mpirun (mpirun -np N ablate run ...) rank 0 schedules and the other ranks train.\n"
    "Exit codes: 0 every point done, 1 error, 2 usage, 3 finished but some points failed,\n"
    "4 incomplete (stopped by a signal, a stall or failures): rerun to resume.";

// `ablate run`: MPI only when a launcher started us; otherwise everything in this process.
int run_sweep_command(ablate::RunOptions options, const std::string& progress, int* argc, char*** argv) {
  const bool under_mpi = ablate::launched_by_mpi();
  // mpirun hands every rank a pseudo-terminal even when its own output goes to
  // a log, so under a launcher "auto" means plain lines.
  if (progress == "live")
    options.progress = ablate::ProgressStyle::live_line;
  else if (progress == "lines")
    options.progress = ablate::ProgressStyle::lines;
  else if (progress == "quiet")
    options.progress = ablate::ProgressStyle::quiet;
  else
    options.progress =
        !under_mpi && ::isatty(STDOUT_FILENO) ? ablate::ProgressStyle::live_line : ablate::ProgressStyle::lines;
  ablate::TrainerWork work(options.data_dir, options.results_path);
  if (!under_mpi) {
    ablate::SingleRankCommunicator local;
    return ablate::run_sweep(options, local, work, std::cout);
  }
  const ablate::MpiSession session(argc, argv);
  ablate::MpiCommunicator world(MPI_COMM_WORLD);
  return ablate::run_sweep(options, world, work, std::cout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ablate: controlled deep-learning experiments, every variant over several seeds"};
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("--version", show_version, "print version, git commit, LibTorch (and where it was loaded from), CUDA status");

  ablate::TrainCommandOptions train;
  auto* train_cmd = app.add_subcommand("train", "train one configuration in this process");
  train_cmd->add_option("overrides", train.overrides, "training keys, e.g. model=cnn lr=0.01 hidden=256,256");
  train_cmd->add_option("--config", train.config_file, "JSON object of training keys (overrides apply on top)")
      ->check(CLI::ExistingFile);
  train_cmd->add_option("--data", train.data_dir,
                        "Fashion-MNIST directory (else $ABLATE_DATA, then the Debian package)");
  train_cmd->add_option("--device", train.device, "auto | cpu | cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  train_cmd->add_option("--threads", train.threads, "LibTorch threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--json", train.json_out, "also write the result (curves, confusion matrices) as JSON");
  train_cmd->footer(keys_help());

  ablate::RunOptions run;
  std::string progress = "auto";
  auto* run_cmd = app.add_subcommand("run", "run (or resume) a sweep: every point, recorded in one results file");
  run_cmd->add_option("sweep", run.spec_path, "the sweep spec (TOML)")->required();
  run_cmd->add_option("-o,--output", run.results_path, "the results file (HDF5); an existing one is resumed")
      ->required();
  constexpr const char* kSetHelp =
      "KEY=VALUE applied to every point after the spec's own values (repeatable), e.g. --set train_limit=20000 "
      "--set epochs=5: a cheaper rerun of a whole study; the overrides change the point IDs and are recorded "
      "with the results";
  run_cmd->add_option("--set", run.overrides, kSetHelp)->allow_extra_args(false);
  run_cmd->add_option("--data", run.data_dir, "Fashion-MNIST directory (else $ABLATE_DATA, then the Debian package)");
  run_cmd->add_option("--device", run.device, "auto | cpu | cuda")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  run_cmd
      ->add_option("--threads", run.threads,
                   "LibTorch threads per worker (default: the node's cores shared among its workers)")
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_flag("--retry-failed", run.retry_failed, "run the points that failed before again");
  run_cmd->add_flag("--allow-different-sweep", run.allow_different_sweep,
                    "add this sweep's points to a results file made by another (or an edited) spec; "
                    "existing points are kept");
  run_cmd
      ->add_option("--max-consecutive-failures", run.max_consecutive_failures,
                   "stop the sweep after this many failures in a row (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  run_cmd
      ->add_option("--stall-timeout", run.stall_timeout_seconds,
                   "seconds a worker may go without reporting an epoch before the sweep is aborted (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  run_cmd
      ->add_option("--hand-ahead", run.hand_ahead_below_seconds,
                   "a worker whose last point took less than this many seconds gets its next ones while it still "
                   "trains, up to this many seconds of them and at most 4 (hides the round trip to rank 0 for tiny "
                   "points; 0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_option("--ranks-per-point", run.ranks_per_point, "ranks that train one point together, data-parallel (gradients averaged over the group)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("--workers-per-gpu", run.workers_per_gpu, "worker ranks that share one GPU")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  std::string run_pack = "1";
  run_cmd->add_option("--pack", run_pack, ablate::kPackOptionHelp)->capture_default_str();
  run_cmd
      ->add_option("--progress", progress,
                   "auto (a live line in a terminal, else a line per event) | live | lines | quiet (summary, "
                   "stops and warnings only)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "live", "lines", "quiet"}));
  run_cmd->footer(kRunFooter);

  std::string plan_spec;
  auto* plan_cmd = app.add_subcommand("plan", "print a sweep's points, their count and cost; trains nothing");
  plan_cmd->add_option("sweep", plan_spec, "the sweep spec (TOML)")->required();
  std::vector<std::string> plan_overrides;
  plan_cmd->add_option("--set", plan_overrides, kSetHelp)->allow_extra_args(false);
  std::string plan_pack = "1";
  plan_cmd->add_option("--pack", plan_pack, "also show how the points fall into packs of up to K (or auto)")
      ->capture_default_str();
  std::string plan_device = "cpu";
  plan_cmd->add_option("--device", plan_device, "the device --pack auto sizes packs for: cpu | cuda")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda"}));

  std::string status_path;
  int status_top = 5;
  bool status_json = false;
  auto* status_cmd = app.add_subcommand("status", "counts per status and the best points of a results file");
  status_cmd->add_option("results", status_path, "the results file (HDF5)")->required();
  status_cmd->add_option("--top", status_top, "how many of the best points to list")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  status_cmd->add_flag("--json", status_json,
                       "print one JSON object instead: sweep, counts per status, the best points with their "
                       "hyperparameters, failed points with their errors, every point's status");
  bool status_pareto = false;
  status_cmd->add_flag("--pareto", status_pareto,
                       "list the Pareto fronts instead: the points trained to the end that no faster (or no "
                       "smaller) point matches on best validation accuracy");

  ablate::ReportOptions report;
  auto* report_cmd = app.add_subcommand("report", "write a study report (Markdown and figures) of a results file");
  report_cmd->add_option("results", report.results_path, "the results file (HDF5)")->required();
  report_cmd->add_option("-o,--output", report.out_dir, "directory for index.md and the figures (created)")
      ->required();
  report_cmd->add_option("--data", report.data_dir,
                         "Fashion-MNIST directory for the image strips (else $ABLATE_DATA, then the Debian package)");
  report_cmd->footer(
      "Runs `python -m ablate report` (the ablate Python package, analysis/ in the source tree) with $ABLATE_PYTHON\n"
      "when it is set, else with the first of the .venv ablate was built beside and python3 that imports the\n"
      "package. Says how to install it when none does.");

  ablate::slurm::SlurmOptions slurm;
  auto* slurm_cmd = ablate::slurm::add_slurm_subcommand(app, slurm);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // Under mpirun every rank parses the same line: one message is enough.
    if (ablate::launcher_rank() != 0) return error.get_exit_code() == 0 ? 0 : ablate::kExitUsage;
    const int code = app.exit(error);
    return code == 0 ? 0 : ablate::kExitUsage;
  }

  try {
    if (show_version) {
      std::cout << version_text();
      return 0;
    }
    if (*train_cmd) return ablate::run_train_command(train);
    if (*slurm_cmd) {
      ablate::sweeps::load_sweep(slurm.sweep_path);  // a bad spec fails now, not after hours in the queue
      return ablate::slurm::run_slurm_command(slurm);
    }
    if (*run_cmd) {
      run.pack = ablate::parse_pack_option(run_pack);
      return run_sweep_command(run, progress, &argc, &argv);
    }
    if (*plan_cmd)
      return ablate::run_plan_command(plan_spec, plan_overrides, std::cout, ablate::parse_pack_option(plan_pack),
                                      plan_device);
    if (*status_cmd) return ablate::run_status_command(status_path, status_top, std::cout, status_json, status_pareto);
    if (*report_cmd) return ablate::run_report_command(report);
    std::cout << app.help();
    return 0;
  } catch (const ablate::OptionError& error) {
    std::cerr << "ablate: " << error.what() << "\n";
    return ablate::kExitUsage;
  } catch (const ablate::ConfigError& error) {
    std::cerr << "ablate: " << error.what() << "\n";
  } catch (const ablate::DataError& error) {
    std::cerr << "ablate: " << error.what() << "\n";
  } catch (const ablate::slurm::SlurmError& error) {
    std::cerr << "ablate: " << error.what() << "\n";
  } catch (const ablate::sweeps::SpecError& error) {
    std::cerr << "ablate: " << error.what() << "\n";
  } catch (const ablate::ResultsError& error) {
    std::cerr << "ablate: " << error.what() << "\n";
  } catch (const ablate::ReportError& error) {
    std::cerr << "ablate: " << error.what() << "\n";
  } catch (const std::exception& error) {
    std::cerr << "ablate: error: " << error.what() << "\n";
  }
  return ablate::kExitError;
}
