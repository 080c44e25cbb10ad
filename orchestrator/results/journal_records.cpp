// Builders of journal records and the JSON codecs of numbers and epoch rows.
#include "orchestrator/results/journal_records.hpp"


#include <ablate/version.hpp>
#include "core/number_text.hpp"
#include <fmt/format.h>

#include <chrono>
#include <ctime>

namespace ablate {

std::string iso8601_utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

nlohmann::json sweep_to_json(const SweepIdentity& sweep) {
  return {{"name", sweep.name}, {"path", sweep.path}, {"spec", sweep.spec_text}};
}

SweepIdentity sweep_from_json(const nlohmann::json& sweep) {
  return {sweep.at("name").get<std::string>(), sweep.at("path").get<std::string>(),
          sweep.at("spec").get<std::string>()};
}

nlohmann::json ledger_record(const std::string& ledger_id, const SweepIdentity& sweep, const std::string& created) {
  return {{"t", "ledger"},         {"format", kJournalFormat},   {"version", kJournalVersion},
          {"ledger_id", ledger_id}, {"created", created},         {"ablate_version", kVersion},
          {"git_commit", kGitCommit}, {"sweep", sweep_to_json(sweep)}};
}

nlohmann::json sweep_record(const SweepIdentity& sweep, const std::string& at) {
  return {{"t", "sweep"}, {"at", at}, {"sweep", sweep_to_json(sweep)}};
}

std::string plan_record(const PlannedPoint& point) {
  std::string text = "{\"t\":\"plan\",\"id\":";
  append_json_string(text, point.id);
  text += ",\"config\":";
  append_json_string(text, point.config_text);
  text += ",\"case\":";
  append_json_string(text, point.case_name);
  text += ",\"seed\":";
  append_number(text, point.seed);
  if (point.trial >= 0) {
    text += ",\"trial\":";
    append_number(text, point.trial);
    text += ",\"suggested_by\":";
    append_json_string(text, point.suggested_by);
  }
  return text + '}';
}

std::string start_record(const std::string& id, const PointRunInfo& info, const std::string& at, int until) {
  std::string text = "{\"t\":\"start\",\"id\":";
  append_json_string(text, id);
  for (const auto& [name, value] : {std::pair<const char*, const std::string&>{"at", at},
                                    {"host", info.host},
                                    {"device", info.device},
                                    {"torch", info.torch_version}}) {
    fmt::format_to(std::back_inserter(text), ",\"{}\":", name);
    append_json_string(text, value);
  }
  if (info.threads > 0) fmt::format_to(std::back_inserter(text), ",\"threads\":{}", info.threads);
  if (info.ranks > 0) fmt::format_to(std::back_inserter(text), ",\"ranks\":{}", info.ranks);
  if (until > 0) fmt::format_to(std::back_inserter(text), ",\"until\":{}", until);
  return text + '}';
}

std::string epoch_record(const std::string& id, const EpochMetrics& metrics) {
  std::string text = "{\"t\":\"epoch\",\"id\":";
  append_json_string(text, id);
  text += ",\"m\":";
  append_epoch_json(text, metrics);
  return text + '}';
}

std::string done_record(const std::string& id, const TrainResult& result, const std::string& at, bool with_curves) {
  std::string text = "{\"t\":\"done\",\"id\":";
  append_json_string(text, id);
  text += ",\"at\":";
  append_json_string(text, at);
  text += ',';
  append_result_json_members(text, result, with_curves);
  return text + '}';
}

nlohmann::json pause_record(const std::string& id, const TrainResult& result, const RungMark& mark,
                            const std::string& at, bool with_curves) {
  nlohmann::json record = {
      {"t", "pause"}, {"id", id}, {"at", at}, {"epoch", mark.epoch}, {"value", json_number(mark.value)}};
  record.update(result_to_json(result, with_curves));
  return record;
}

nlohmann::json promote_record(const std::string& id, int until, const std::string& reason) {
  return {{"t", "promote"}, {"id", id}, {"until", until}, {"reason", reason}};
}

nlohmann::json stop_record(const std::string& id, const std::string& at, const std::string& reason) {
  return {{"t", "stop"}, {"id", id}, {"at", at}, {"reason", reason}};
}

nlohmann::json stop_running_record(const std::string& id, const TrainResult& result, const RungMark& mark,
                                   const std::string& at, const std::string& reason, bool with_curves) {
  nlohmann::json record = pause_record(id, result, mark, at, with_curves);
  record["t"] = "stop";
  record["reason"] = reason;
  return record;
}

nlohmann::json fail_record(const std::string& id, const std::string& error, const std::string& at) {
  return {{"t", "fail"}, {"id", id}, {"at", at}, {"error", error}};
}

nlohmann::json reset_record(const std::string& id) { return {{"t", "reset"}, {"id", id}}; }

nlohmann::json search_record(const nlohmann::json& search) { return {{"t", "search"}, {"r", search}}; }

}  // namespace ablate
