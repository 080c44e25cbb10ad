// The polling wait shared by every Communicator, and the single-rank one.
#include "orchestrator/communicator.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "orchestrator/mpi_check.hpp"

namespace ablate {
namespace {

// Polling starts fast (a reply is usually microseconds away) and slows to at most
// kLongestPause, which bounds the latency an idle rank adds and keeps it near 0% CPU.
constexpr std::chrono::microseconds kFirstPause{5};
constexpr std::chrono::microseconds kLongestPause{500};

}  // namespace

std::optional<Message> Communicator::receive(int source, std::chrono::microseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = kFirstPause;
  while (true) {
    if (auto message = try_receive(source)) return message;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, kLongestPause);
  }
}

Message Communicator::receive(int source) {
  while (true)
    if (auto message = receive(source, std::chrono::hours(1))) return *message;
}

SingleRankCommunicator::SingleRankCommunicator() : host_(host_name()) {}

void SingleRankCommunicator::send(int dest, int, std::string_view) {
  throw std::logic_error("SingleRankCommunicator::send to rank " + std::to_string(dest) + ": there is no other rank");
}

std::optional<Message> SingleRankCommunicator::try_receive(int) { return std::nullopt; }

std::string SingleRankCommunicator::broadcast(const std::string& text, int) { return text; }

std::unique_ptr<Communicator> SingleRankCommunicator::split(int, int) {
  return std::make_unique<SingleRankCommunicator>();
}

std::unique_ptr<Communicator> SingleRankCommunicator::split_node() {
  return std::make_unique<SingleRankCommunicator>();
}

void SingleRankCommunicator::abort(int exit_code) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(exit_code);  // a hung training thread cannot be joined; the journal is durable
}

}  // namespace ablate
