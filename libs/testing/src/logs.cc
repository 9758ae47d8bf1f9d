#include "psc/testing/logs.h"

#include <iostream>
#include <mutex>

#include "psc/eventlog/journal.h"
#include "psc/eventlog/kafka_log.h"
#include "psc/eventlog/memory_log.h"
#include "psc/eventlog/random_id.h"
#include "psc/testing/kafka_cluster.h"
#include "psc/testing/process.h"

namespace psc::testing {

LogUnderTest MakeJournalLog() {
  auto dir = std::make_shared<TempDir>();
  std::string path = dir->Sub("journal");
  auto open = [path]() -> std::unique_ptr<eventlog::EventLog> {
    auto j = eventlog::Journal::Open(path);
    if (!j.ok()) {
      std::cerr << "cannot open journal: " << j.status() << "\n";
      return nullptr;
    }
    return std::move(*j);
  };
  return {dir, open(), open};
}

LogUnderTest MakeMemoryLog() { return {nullptr, std::make_unique<eventlog::MemoryLog>(), {}}; }

LogUnderTest MakeKafkaLog() {
  // One cluster for the whole test process: starting one per log would cost
  // a process each, and every log gets a topic of its own anyway. It stops
  // when the process exits.
  static std::mutex mu;
  static std::shared_ptr<KafkaCluster> shared;
  std::shared_ptr<KafkaCluster> cluster;
  {
    std::lock_guard lock(mu);
    if (shared == nullptr) {
      auto started = KafkaCluster::Start();
      if (!started.ok()) {
        std::cerr << "cannot start a kafka test cluster: " << started.status() << "\n";
        return {};
      }
      shared = std::move(*started);
    }
    cluster = shared;
  }
  std::string topic = "psc-test-" + eventlog::RandomId();
  // The test cluster cannot create topics through the admin API.
  if (absl::Status s = cluster->CreateTopic(topic, 1); !s.ok()) {
    std::cerr << "cannot create kafka topic " << topic << ": " << s << "\n";
    return {};
  }
  auto open = [cluster, topic]() -> std::unique_ptr<eventlog::EventLog> {
    auto log = eventlog::KafkaLog::Open({.brokers = cluster->Bootstrap(),
                                         .topic = topic,
                                         .client_id = "psc-test",
                                         .append_timeout = std::chrono::seconds(10),
                                         .request_timeout = std::chrono::seconds(5)});
    if (!log.ok()) {
      std::cerr << "cannot open kafka log: " << log.status() << "\n";
      return nullptr;
    }
    return std::move(*log);
  };
  return {cluster, open(), open};
}

}  // namespace psc::testing
