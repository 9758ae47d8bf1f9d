// A Kafka cluster for tests: psc-kafka-test-cluster (librdkafka's mock
// brokers) started as a child process on loopback ports of its own choosing,
// and ended when this object is destroyed (or when the test process exits,
// since the cluster stops at the end of its stdin).
//
// The mock keeps each partition in memory and drops its oldest batches past
// about 5 MiB, does not serve the admin API (create topics with CreateTopic)
// and creates topics that clients ask metadata for with 4 partitions.
//
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "psc/testing/process.h"

namespace psc::testing {

class KafkaCluster {
 public:
  struct Options {
    int brokers = 1;
    // Topics that exist before Start returns: name and partition count.
    std::vector<std::pair<std::string, int>> topics;
  };

  static absl::StatusOr<std::unique_ptr<KafkaCluster>> Start(Options options);
  static absl::StatusOr<std::unique_ptr<KafkaCluster>> Start() { return Start(Options{}); }

  // bootstrap.servers for clients: "127.0.0.1:PORT[,...]".
  const std::string& Bootstrap() const { return bootstrap_; }

  // Broker ids run from 1 to the number of brokers; -1 means all of them.
  // A broker that is down drops its connections and refuses new ones.
  absl::Status BrokerDown(int broker_id);
  absl::Status BrokerUp(int broker_id);
  // Delays every answer of the broker.
  absl::Status SetRtt(int broker_id, int millis);
  absl::Status CreateTopic(const std::string& name, int partitions);

  // Sends one command line and waits for its answer: OK for "ok", otherwise
  // an error carrying the cluster's reason.
  absl::Status Command(const std::string& line);

  pid_t pid() const { return child_->pid(); }

 private:
  KafkaCluster() = default;

  std::unique_ptr<ChildProcess> child_;
  std::string bootstrap_;
  std::mutex mu_;         // one command at a time
  size_t answered_ = 0;   // how much of the child's output has been read
};

}  // namespace psc::testing
