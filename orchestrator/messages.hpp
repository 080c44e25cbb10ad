// What rank 0 and the workers say to each other, and how it is written on the
// wire: short text, numbers in their shortest round-trip form ("nan", "inf"
// included), so a message costs microseconds and stays readable in a debugger.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "orchestrator/point_work.hpp"
#include "core/metrics.hpp"

namespace ablate {

// MPI tags; one per kind of message.
enum class MessageTag : int {
  hello = 1,        // worker -> 0, once: fingerprint, host, device, startup error
  // 0 -> worker: train this pack (one point, or several with equal pack keys); one
  // that comes while the worker trains is its next pack, held until then (hand-ahead)
  assign = 2,
  stop = 3,         // 0 -> worker: interrupt the current point at its next epoch (and held packs), then exit
  epoch = 4,        // worker -> 0: one finished epoch of a point of the current pack
  done = 5,         // worker -> 0: a point's final result
  failed = 6,       // worker -> 0: a point threw; the message
  interrupted = 7,  // worker -> 0: a point was left unfinished
  // Inside a data-parallel group (--ranks-per-point K > 1), on the group's communicator:
  // the leader forwards `assign` and `stop` (quit) to its followers, and after every
  // epoch tells them whether the point goes on.
  go_on = 8,          // leader -> follower: train the next epoch
  stop_point = 9,     // leader -> follower: the point is interrupted after this epoch
  // 0 -> every other rank, last of all: the results file is closed and the job may
  // end. Ranks wait for it with a sleeping poll; in MPI_Finalize they would spin and,
  // with more ranks than cores, slow rank 0's final write of the results file.
  closed = 10,
  // Early stopping.
  paused = 11,   // worker -> 0: the point reached its `until` and paused; its result so far
  stopped = 12,  // worker -> 0: a verdict stopped the point; its result so far
  verdict = 13,  // 0 -> worker, after each epoch of a verdict_each_epoch point: its ID, go_on | pause | stop
  end_run = 14,  // leader -> follower: the point's run ends after this epoch (pause | stop), normally
  // 0 -> every other rank, once, after every hello: "" to go, else "exit_code\nmessage".
  start = 15,
};

// A message that does not parse: different ablate builds, or a bug.
class MessageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a worker says before any work: who it is and whether it is ready.
struct Hello {
  std::string fingerprint;  // see run_fingerprint(); must equal rank 0's
  std::string host;
  std::string device;    // "" when prepare() failed
  std::string software;  // training library version
  int threads = 0;       // LibTorch threads it will use
  std::string error;     // "" when ready; else why this rank cannot run
  int exit_code = 0;     // the exit code that error calls for
};

std::string encode_hello(const Hello& hello);
Hello decode_hello(std::string_view text);

// A pack: per item "id until verdict_each_epoch config_bytes\nconfig_text".
std::string encode_assignment(const std::vector<WorkItem>& pack);
std::vector<WorkItem> decode_assignment(std::string_view text);  // at least one item

std::string encode_verdict(EpochVerdict verdict);  // "go_on", "pause", "stop"
EpochVerdict decode_verdict(std::string_view text);
// The verdict on one point of a pack: "id\nverdict".
std::string encode_point_verdict(const std::string& id, EpochVerdict verdict);
std::pair<std::string, EpochVerdict> decode_point_verdict(std::string_view text);

std::string encode_epoch(const std::string& id, const EpochMetrics& row);
std::pair<std::string, EpochMetrics> decode_epoch(std::string_view text);

// A result as plain numbers (the fields of core/result_codec.hpp; see messages.cpp).
std::string encode_done(const std::string& id, const TrainResult& result);
std::pair<std::string, TrainResult> decode_done(std::string_view text);

std::string encode_failure(const std::string& id, const std::string& error);  // "id\nerror"
std::pair<std::string, std::string> decode_failure(std::string_view text);

}  // namespace ablate
