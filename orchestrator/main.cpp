// ablate's command line: parses options, calls the command, turns errors into exit codes.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>

#include "ablate/version.hpp"
#include "orchestrator/train_command.hpp"
#include "sweeps/sweep.hpp"
#include "trainer/config.hpp"
#include "trainer/idx.hpp"
#include "trainer/trainer.hpp"

namespace {

// Exit codes: 0 success, 1 bad input or an error, 2 usage, 3 a training failed.
constexpr int kExitError = 1;

std::string version_text() {
  const ablate::TrainerInfo info = ablate::trainer_info();
  return fmt::format(
      "ablate {} (commit {})\nLibTorch {}\nCUDA compiled in: {}; CUDA available: {} ({} device{})\n"
      "intra-op threads: {}\n",
      ablate::kVersion, ablate::kGitCommit, info.torch_version, info.cuda_compiled_in ? "yes" : "no",
      info.cuda_available ? "yes" : "no", info.cuda_devices, info.cuda_devices == 1 ? "" : "s", info.threads);
}

std::string keys_help() {
  std::string text = "training keys (key=value):\n";
  for (const auto& key : ablate::config_keys()) text += fmt::format("  {:<24} {}\n", key.name, key.help);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ablate: controlled deep-learning experiments, every variant over several seeds"};
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("--version", show_version, "print version, git commit, LibTorch and CUDA status");

  ablate::TrainCommandOptions train;
  auto* train_cmd = app.add_subcommand("train", "train one configuration in this process");
  train_cmd->add_option("overrides", train.overrides, "training keys, e.g. model=cnn lr=0.01 hidden=256,256");
  train_cmd->add_option("--config", train.config_file, "JSON object of training keys (overrides apply on top)")
      ->check(CLI::ExistingFile);
  train_cmd->add_option("--data", train.data_dir, "Fashion-MNIST directory (else $ABLATE_DATA, then the Debian package)");
  train_cmd->add_option("--device", train.device, "auto | cpu | cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  train_cmd->add_option("--threads", train.threads, "LibTorch threads (default: all cores)")->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--json", train.json_out, "also write the result (curves, confusion matrices) as JSON");
  train_cmd->footer(keys_help());

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }

  try {
    if (show_version) {
      std::cout << version_text();
      return 0;
    }
    if (*train_cmd) return ablate::run_train_command(train);
    std::cout << app.help();
    return 0;
  } catch (const ablate::ConfigError& error) {
    std::cerr << "ablate: " << error.what() << "\n";
  } catch (const ablate::DataError& error) {
    std::cerr << "ablate: " << error.what() << "\n";
  } catch (const ablate::sweeps::SpecError& error) {
    std::cerr << "ablate: " << error.what() << "\n";
  } catch (const std::exception& error) {
    std::cerr << "ablate: error: " << error.what() << "\n";
  }
  return kExitError;
}
