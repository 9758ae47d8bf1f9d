// The event log on Kafka, for deployments with several processes: one topic
// with exactly one partition, so that the partition's offsets are the total
// order of DESIGN invariant 0. An event's position is its offset + 1.
//
// Appends go through one idempotent producer (acks=all), so a retried
// produce request never duplicates or reorders events. Each Append blocks
// until its own delivery report arrives; concurrent appends wait together
// for the same batch (linger.ms), which is Kafka's group commit. Readers
// assign partition 0 at an explicit offset and never join a consumer group
// or commit offsets: the read model keeps its own position. (librdkafka still
// looks up a coordinator for each reader's throwaway group id,
// "psc-reader-<random>": with ACLs on, readers need Describe on that prefix.)
//
// Thread-safe. Readers are independent of the KafkaLog that opened them and
// may outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "psc/eventlog/event_log.h"
#include "psc/eventlog/probe.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

struct rd_kafka_s;
struct rd_kafka_topic_s;

namespace psc::eventlog {

struct KafkaOptions {
  // bootstrap.servers: "host:port[,host:port...]".
  std::string brokers;
  std::string topic;
  // client.id, as the brokers log and quote it.
  std::string client_id = "psc";
  // Create the topic (one partition, the brokers' default replication) when
  // it is absent. For development only: production topics are created by
  // operators, with their replication and retention chosen on purpose.
  bool create_topic = false;
  // Further librdkafka settings (security, tuning), applied after the ones
  // this class sets, to the producer and to every reader (a producer-only
  // setting is ignored by readers with a warning, and the other way round).
  std::vector<std::pair<std::string, std::string>> config;

  // How long an Append may wait for its acknowledgement (message.timeout.ms)
  // before it fails with UNAVAILABLE.
  std::chrono::milliseconds append_timeout{30'000};
  // How long appends wait to share a batch (linger.ms).
  std::chrono::milliseconds linger{2};
  // Largest event produced or fetched (message.max.bytes): above the 4 MiB
  // request bound plus its envelope. The topic's max.message.bytes must be
  // at least this (brokers default to about 1 MB).
  size_t max_event_bytes = 8u << 20;
  // Metadata, watermark and admin requests.
  std::chrono::milliseconds request_timeout{10'000};
  // A reader reports UNAVAILABLE once the brokers have been unreachable this
  // long; shorter outages are only logged (librdkafka reconnects by itself).
  std::chrono::milliseconds reader_unavailable_after{5'000};
  // Where the log's metrics register (LogProbe, backend "kafka"); null: not
  // served.
  prometheus::Registry* metrics = nullptr;
};

class KafkaLog final : public EventLog {
 public:
  // Connects and checks the topic. Fails with
  //   INVALID_ARGUMENT     bad options or librdkafka settings;
  //   NOT_FOUND            the topic is absent and create_topic is false;
  //   FAILED_PRECONDITION  the topic has more than one partition (no total
  //                        order), or the cluster reports no id;
  //   UNAVAILABLE          the brokers did not answer in request_timeout.
  static absl::StatusOr<std::unique_ptr<KafkaLog>> Open(KafkaOptions options);
  ~KafkaLog() override;

  // Errors: UNAVAILABLE when the event was not acknowledged in time or the
  // brokers refused it for a reason that may pass; INTERNAL for one that
  // will not (e.g. authorization, a message too large, a fenced producer).
  absl::StatusOr<LogPosition> Append(std::string_view key, std::string payload) override;
  // The partition's high watermark: the number of acknowledged events,
  // counting those that retention has since removed.
  absl::StatusOr<LogPosition> End() override;
  absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(LogPosition after) override;
  // "kafka:CLUSTER_ID/TOPIC".
  std::string LogId() const override { return log_id_; }
  // "kafka BROKERS/TOPIC".
  std::string Describe() const override { return "kafka " + options_.brokers + "/" + options_.topic; }

 private:
  friend struct KafkaCallbacks;
  explicit KafkaLog(KafkaOptions options)
      : options_(std::move(options)), probe_(options_.metrics, "kafka") {}
  absl::Status Connect();
  absl::Status CheckTopic();
  absl::Status CreateTopic();
  absl::Status Fatal() const;
  // Append without the metrics.
  absl::StatusOr<LogPosition> Produce(std::string_view key, std::string payload);

  KafkaOptions options_;
  LogProbe probe_;
  std::string log_id_;
  rd_kafka_s* producer_ = nullptr;
  rd_kafka_topic_s* topic_ = nullptr;
  // Serves the producer's delivery reports and errors (rd_kafka_poll).
  std::thread poller_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  absl::Status fatal_;  // set once the producer can no longer be used
};

}  // namespace psc::eventlog
