#include "psc/testing/kafka_cluster.h"

#include <chrono>
#include <thread>

namespace psc::testing {
namespace {

constexpr char kProgram[] = "psc-kafka-test-cluster";
constexpr auto kAnswerTimeout = std::chrono::seconds(10);

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaCluster>> KafkaCluster::Start(Options options) {
  std::vector<std::string> argv = {BinPath(kProgram), "--brokers", std::to_string(options.brokers)};
  for (const auto& [name, partitions] : options.topics) {
    argv.push_back("--topic");
    argv.push_back(name + ":" + std::to_string(partitions));
  }
  ChildProcess::Options child_options;
  child_options.pipe_stdin = true;
  auto child = ChildProcess::Start(std::move(argv), child_options);
  if (!child.ok()) return child.status();
  std::unique_ptr<KafkaCluster> cluster(new KafkaCluster());
  cluster->child_ = std::move(*child);
  constexpr char kNeedle[] = "bootstrap: ";
  auto line = cluster->child_->WaitForLine(kNeedle, kAnswerTimeout);
  if (!line.ok()) return line.status();
  cluster->bootstrap_ = line->substr(line->find(kNeedle) + sizeof kNeedle - 1);
  std::string output = cluster->child_->Output();
  cluster->answered_ = output.find('\n', output.find(kNeedle)) + 1;
  return cluster;
}

absl::Status KafkaCluster::Command(const std::string& line) {
  std::lock_guard lock(mu_);
  if (absl::Status s = child_->WriteStdin(line + "\n"); !s.ok()) return s;
  auto deadline = std::chrono::steady_clock::now() + kAnswerTimeout;
  while (true) {
    std::string output = child_->Output();
    size_t newline = output.find('\n', answered_);
    if (newline != std::string::npos) {
      std::string answer = output.substr(answered_, newline - answered_);
      answered_ = newline + 1;
      if (answer == "ok") return absl::OkStatus();
      return absl::FailedPreconditionError(kProgram + (": " + line + ": " + answer));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(std::string(kProgram) + " did not answer '" + line + "'");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

absl::Status KafkaCluster::BrokerDown(int broker_id) {
  return Command("down " + std::to_string(broker_id));
}

absl::Status KafkaCluster::BrokerUp(int broker_id) {
  return Command("up " + std::to_string(broker_id));
}

absl::Status KafkaCluster::SetRtt(int broker_id, int millis) {
  return Command("rtt " + std::to_string(broker_id) + " " + std::to_string(millis));
}

absl::Status KafkaCluster::CreateTopic(const std::string& name, int partitions) {
  return Command("topic " + name + " " + std::to_string(partitions));
}

}  // namespace psc::testing
