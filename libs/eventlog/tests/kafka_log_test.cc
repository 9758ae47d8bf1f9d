#include "psc/eventlog/kafka_log.h"

#include <gmock/gmock.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "log_conformance.h"
#include "psc/testing/kafka_cluster.h"
#include "psc/testing/process.h"

namespace psc::eventlog {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::KafkaCluster;

INSTANTIATE_TEST_SUITE_P(Kafka, EventLogConformance, ::testing::Values(&testing::MakeKafkaLog),
                         [](const auto&) { return std::string("log"); });

class KafkaLogTest : public ::testing::Test {
 protected:
  void StartCluster(KafkaCluster::Options options = {}) {
    auto cluster = KafkaCluster::Start(std::move(options));
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
  }

  KafkaOptions Options(const std::string& topic) {
    return {.brokers = cluster_->Bootstrap(),
            .topic = topic,
            .client_id = "psc-test",
            .append_timeout = std::chrono::seconds(10),
            .request_timeout = std::chrono::seconds(5)};
  }

  std::unique_ptr<KafkaLog> OpenLog(const std::string& topic) {
    auto log = KafkaLog::Open(Options(topic));
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }

  std::unique_ptr<KafkaCluster> cluster_;
};

TEST_F(KafkaLogTest, IdentityNamesClusterAndTopic) {
  StartCluster({.topics = {{"events", 1}}});
  auto log = OpenLog("events");
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(log->LogId(), StartsWith("kafka:"));
  EXPECT_THAT(log->LogId(), EndsWith("/events"));
  EXPECT_GT(log->LogId().size(), std::string("kafka:/events").size());
  EXPECT_EQ(log->Describe(), "kafka " + cluster_->Bootstrap() + "/events");
}

TEST_F(KafkaLogTest, TopicWithSeveralPartitionsIsRefused) {
  StartCluster({.topics = {{"spread", 3}}});
  auto log = KafkaLog::Open(Options("spread"));
  ASSERT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition) << log.status();
  EXPECT_THAT(std::string(log.status().message()), HasSubstr("spread"));
  EXPECT_THAT(std::string(log.status().message()), HasSubstr("3 partitions"));
}

TEST_F(KafkaLogTest, UnreachableBrokersAreUnavailableInTime) {
  StartCluster({.topics = {{"events", 1}}});
  ASSERT_TRUE(cluster_->BrokerDown(1).ok());
  KafkaOptions options = Options("events");
  options.request_timeout = std::chrono::seconds(1);
  auto start = std::chrono::steady_clock::now();
  auto log = KafkaLog::Open(options);
  EXPECT_EQ(log.status().code(), absl::StatusCode::kUnavailable) << log.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST_F(KafkaLogTest, AbsentTopicIsNotFoundAndNotCreated) {
  StartCluster();
  auto log = KafkaLog::Open(Options("absent"));
  ASSERT_EQ(log.status().code(), absl::StatusCode::kNotFound) << log.status();
  EXPECT_THAT(std::string(log.status().message()), HasSubstr("absent"));
  // Looking for it did not make the brokers create it (with their default
  // partition count): it is still absent, so creating it works.
  EXPECT_EQ(KafkaLog::Open(Options("absent")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(cluster_->CreateTopic("absent", 1).ok());
}

// The test cluster does not serve the admin API, so this shows that creating
// a topic is bounded by request_timeout; against brokers that create it, the
// new topic must be a usable one-partition log.
TEST_F(KafkaLogTest, CreatingTheTopicSucceedsOrFailsInTime) {
  StartCluster();
  KafkaOptions options = Options("created");
  options.create_topic = true;
  options.request_timeout = std::chrono::seconds(1);
  auto start = std::chrono::steady_clock::now();
  auto log = KafkaLog::Open(options);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  if (log.ok()) {
    EXPECT_EQ((*log)->End()->value(), 0u);
    EXPECT_EQ((*log)->Append("k", "first")->value(), 1u);
  } else {
    EXPECT_EQ(log.status().code(), absl::StatusCode::kUnavailable) << log.status();
  }
}

TEST_F(KafkaLogTest, EventsRemovedByRetentionAreOutOfRangeNotSkipped) {
  StartCluster({.topics = {{"events", 1}}});
  auto log = OpenLog("events");
  ASSERT_NE(log, nullptr);
  // The test cluster keeps about 5 MiB per partition: 64 events of 100 KiB
  // (6.4 MiB) push the first ones out.
  constexpr int kEvents = 64;
  const std::string payload(100 * 1024, 'x');
  for (int i = 1; i <= kEvents; ++i) {
    auto p = log->Append("k" + std::to_string(i), payload);
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_EQ(p->value(), static_cast<uint64_t>(i));
  }
  EXPECT_EQ(log->End()->value(), static_cast<uint64_t>(kEvents));

  auto reader = log->OpenReader(LogPosition(0));
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::vector<Record>> read;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    read = (*reader)->Read(10, std::chrono::milliseconds(200));
    ASSERT_FALSE(read.ok() && !read->empty()) << "read position " << read->front().position;
  } while (read.ok() && std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(read.status().code(), absl::StatusCode::kOutOfRange) << read.status();
  EXPECT_THAT(std::string(read.status().message()), HasSubstr("position 1 "));
  EXPECT_THAT(std::string(read.status().message()), HasSubstr("rebuilt"));
  // The error is final for this reader.
  EXPECT_EQ((*reader)->Read(10, std::chrono::milliseconds(0)).status().code(),
            absl::StatusCode::kOutOfRange);

  // The newest events are still there.
  auto tail = log->OpenReader(LogPosition(kEvents - 3));
  ASSERT_TRUE(tail.ok());
  std::vector<Record> records;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (records.size() < 3 && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*tail)->Read(10, std::chrono::milliseconds(200));
    ASSERT_TRUE(batch.ok()) << batch.status();
    for (auto& r : *batch) records.push_back(std::move(r));
  }
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].position.value(), static_cast<uint64_t>(kEvents - 2));
  EXPECT_EQ(records[2].position.value(), static_cast<uint64_t>(kEvents));
  EXPECT_EQ(records[2].payload, payload);
}

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::error_code ec;
    auto candidate = std::filesystem::path(dir) / name;
    if (!dir.empty() && std::filesystem::exists(candidate, ec)) return candidate.string();
  }
  return "";
}

// The topic is plain Kafka: standard tools read offsets, keys and payloads.
TEST_F(KafkaLogTest, StandardToolsReadTheTopic) {
  std::string kcat = FindOnPath("kcat");
  if (kcat.empty()) GTEST_SKIP() << "kcat is not installed";
  StartCluster({.topics = {{"events", 1}}});
  auto log = OpenLog("events");
  ASSERT_NE(log, nullptr);
  ASSERT_EQ(log->Append("req-a", "hello")->value(), 1u);
  ASSERT_EQ(log->Append("req-b", std::string(1000, 'b'))->value(), 2u);
  ASSERT_EQ(log->Append("req-c", "xyz")->value(), 3u);

  auto child = testing::ChildProcess::Start({kcat, "-C", "-q", "-b", cluster_->Bootstrap(), "-t",
                                             "events", "-p", "0", "-o", "beginning", "-e", "-f",
                                             "%o %k %S\\n"});
  ASSERT_TRUE(child.ok()) << child.status();
  auto code = (*child)->Wait(std::chrono::seconds(20));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_EQ((*child)->Output(), "0 req-a 5\n1 req-b 1000\n2 req-c 3\n");
}

TEST_F(KafkaLogTest, AnEventOfAFullSizeRequestIsOneMessage) {
  // A 4 MiB submission (the request bound) with its envelope is larger than
  // librdkafka's and the brokers' 1 MB defaults.
  StartCluster({.topics = {{"events", 1}}});
  auto log = OpenLog("events");
  ASSERT_NE(log, nullptr);
  std::string big((4u << 20) + 4096, 'x');
  big[12345] = 'y';
  auto position = log->Append("big", big);
  ASSERT_TRUE(position.ok()) << position.status();
  EXPECT_EQ(position->value(), 1u);
  auto reader = log->OpenReader(LogPosition(0));
  ASSERT_TRUE(reader.ok());
  auto records = (*reader)->Read(10, std::chrono::seconds(10));
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].payload, big);
}

TEST_F(KafkaLogTest, AppendFailsWhileTheBrokerIsDownAndContinuesAfter) {
  StartCluster({.topics = {{"events", 1}}});
  KafkaOptions options = Options("events");
  options.append_timeout = std::chrono::seconds(2);
  options.request_timeout = std::chrono::seconds(1);
  // Reconnect soon after the broker is back, not after librdkafka's usual
  // backoff of up to 10 s.
  options.config = {{"reconnect.backoff.max.ms", "200"}};
  auto log = KafkaLog::Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ((*log)->Append("k", "one")->value(), 1u);
  ASSERT_EQ((*log)->Append("k", "two")->value(), 2u);

  ASSERT_TRUE(cluster_->BrokerDown(1).ok());
  auto start = std::chrono::steady_clock::now();
  auto failed = (*log)->Append("k", "lost");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable) << failed.status();
  EXPECT_LT(took, std::chrono::seconds(4));
  start = std::chrono::steady_clock::now();
  EXPECT_EQ((*log)->End().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));

  ASSERT_TRUE(cluster_->BrokerUp(1).ok());
  auto third = (*log)->Append("k", "three");
  ASSERT_TRUE(third.ok()) << third.status();
  // The refused event never reached the broker, so positions carry on.
  EXPECT_EQ(third->value(), 3u);
  EXPECT_EQ((*log)->End()->value(), 3u);
  auto reader = (*log)->OpenReader(LogPosition(0));
  ASSERT_TRUE(reader.ok());
  std::vector<Record> records;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (records.size() < 3 && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*reader)->Read(10, std::chrono::milliseconds(200));
    ASSERT_TRUE(batch.ok()) << batch.status();
    for (auto& r : *batch) records.push_back(std::move(r));
  }
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2].payload, "three");
}

TEST_F(KafkaLogTest, ReaderReportsUnavailableOnlyAfterTheOutageLasts) {
  StartCluster({.topics = {{"events", 1}}});
  KafkaOptions options = Options("events");
  options.reader_unavailable_after = std::chrono::seconds(1);
  options.config = {{"reconnect.backoff.max.ms", "200"}};
  auto log = KafkaLog::Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_TRUE((*log)->Append("k", "one").ok());
  auto reader = (*log)->OpenReader(LogPosition(0));
  ASSERT_TRUE(reader.ok());
  auto first = (*reader)->Read(10, std::chrono::seconds(10));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 1u);

  ASSERT_TRUE(cluster_->BrokerDown(1).ok());
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<Record>> read;
  do {
    read = (*reader)->Read(10, std::chrono::milliseconds(100));
  } while (read.ok() && std::chrono::steady_clock::now() - start < std::chrono::seconds(15));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable) << read.status();
  EXPECT_GE(took, std::chrono::seconds(1));
  EXPECT_LT(took, std::chrono::seconds(6));
  ASSERT_TRUE(cluster_->BrokerUp(1).ok());
}

}  // namespace
}  // namespace psc::eventlog
