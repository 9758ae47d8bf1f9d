// The split deployment over the Kafka protocol: psc-gateway and
// psc-projection as separate processes against psc-kafka-test-cluster, kcat
// reading the topic, and a projection killed mid-load.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include "harness.h"
#include "psc/domain/strings.h"
#include "psc/testing/fixtures.h"
#include "psc/testing/kafka_cluster.h"

namespace psc::e2e {
namespace {

using ::psc::testing::Obs;

constexpr char kTopic[] = "psc.events";

class SplitKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = ::psc::testing::KafkaCluster::Start({.brokers = 1, .topics = {{kTopic, 1}}});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    auto gateway = StartServer("psc-gateway", {"--kafka-brokers", cluster_->Bootstrap()});
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = std::move(*gateway);
    StartProjection();
  }

  void StartProjection(const std::string& data = "projection") {
    auto projection = StartServer("psc-projection", {"--kafka-brokers", cluster_->Bootstrap(),
                                                     "--data-dir", dir_.Sub(data)});
    ASSERT_TRUE(projection.ok()) << projection.status();
    projection_ = std::move(*projection);
  }

  void StopProjection() {
    projection_.process->Signal(SIGTERM);
    auto code = projection_.process->Wait(std::chrono::seconds(30));
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 0);
    projection_.process.reset();
  }

  v1::Receipt Submit(const v1::SubmitObservationsRequest& request) {
    v1::Receipt receipt;
    auto status = gateway_.ingest->SubmitObservations(Ctx().get(), request, &receipt);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return receipt;
  }

  uint64_t LoadCatalogue() {
    v1::ChangeCatalogueRequest change;
    *change.mutable_change() = ::psc::testing::SmallCatalogue();
    v1::Receipt receipt;
    auto status = gateway_.catalog->ChangeCatalogue(Ctx().get(), change, &receipt);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return receipt.position();
  }

  v1::GetQuarterlyReportResponse Report(const std::string& quarter, uint64_t min_position) {
    v1::GetQuarterlyReportRequest request;
    request.set_quarter(quarter);
    request.set_format(v1::REPORT_FORMAT_TEXT);
    request.set_min_position(min_position);
    v1::GetQuarterlyReportResponse response;
    auto status = projection_.query->GetQuarterlyReport(Ctx().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  ::psc::testing::TempDir dir_;
  std::unique_ptr<::psc::testing::KafkaCluster> cluster_;
  Server gateway_;
  Server projection_;
};

// kcat's output as (offset, payload) pairs; the format prints the payload
// size before the payload so binary payloads split exactly.
std::vector<std::pair<int64_t, std::string>> ReadTopicWithKcat(const std::string& bootstrap) {
  std::string command = StrCat("kcat -C -b ", bootstrap, " -t ", kTopic,
                               " -p 0 -o beginning -e -q -f '%o %S\\n%s\\n' 2>&1");
  CommandResult run = RunCommand(command);
  EXPECT_EQ(run.code, 0) << run.output;
  const std::string& out = run.output;
  std::vector<std::pair<int64_t, std::string>> records;
  size_t at = 0;
  while (at < out.size()) {
    size_t eol = out.find('\n', at);
    long long offset = -1, size = -1;
    if (eol == std::string::npos || std::sscanf(out.c_str() + at, "%lld %lld", &offset, &size) != 2) {
      ADD_FAILURE() << "unexpected kcat output at byte " << at << ": " << out.substr(at, 200);
      break;
    }
    records.emplace_back(offset, out.substr(eol + 1, static_cast<size_t>(size)));
    at = eol + 1 + static_cast<size_t>(size) + 1;
  }
  return records;
}

TEST_F(SplitKafkaTest, GatewayAppendsProjectionServesAndKcatDecodesTheTopic) {
  EXPECT_EQ(Health(gateway_), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(Health(projection_), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(LoadCatalogue(), 1u);
  Submit(Submission("w-1", {Obs("RHM", "falls-harm-rate.v1", "2024-04", 3, 2000),
                            Obs("RDZ", "falls-harm-rate.v1", "2024-04", 2, 1000)}));
  v1::Receipt last = Submit(Submission("o-1", {Obs("RTH", "falls-harm-rate.v1", "2024-05", 4, 4000)}));
  EXPECT_EQ(last.position(), 3u);
  // A repeat through the gateway: the original receipt, nothing produced.
  v1::Receipt again = Submit(Submission("w-1", {Obs("RHM", "falls-harm-rate.v1", "2024-04", 9, 2000)}));
  EXPECT_TRUE(again.duplicate());
  EXPECT_EQ(again.position(), 2u);

  // The projection answers once it has applied the position: wessex
  // (3+2)/(2000+1000) x 1000 = 1.6667, nation 9/7000 x 1000.
  auto report = Report("2024/25 Q1", last.position()).report();
  const auto* rate = FindMeasure(report, "falls-harm-rate.v1");
  ASSERT_NE(rate, nullptr);
  EXPECT_EQ(rate->national().numerator(), 9);
  EXPECT_EQ(rate->national().denominator(), 7000);
  EXPECT_NEAR(AreaOf(*rate, "wessex")->value(), 5.0 / 3000.0 * 1000.0, 1e-9);
  EXPECT_EQ(report.as_of_position(), 3u);

  // kcat, an independent Kafka client, reads exactly three events in order.
  auto records = ReadTopicWithKcat(cluster_->Bootstrap());
  ASSERT_EQ(records.size(), 3u);
  std::vector<std::string> ids;
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].first, static_cast<int64_t>(i));  // position = offset + 1
    v1::Envelope envelope;
    ASSERT_TRUE(envelope.ParseFromString(records[i].second)) << "offset " << i;
    EXPECT_EQ(envelope.principal(), "local");
    EXPECT_GT(envelope.recorded_at().seconds(), 0);
    if (envelope.has_catalogue_changed()) ids.push_back(envelope.catalogue_changed().change_id());
    if (envelope.has_observations_submitted()) {
      ids.push_back(envelope.observations_submitted().submission_id());
    }
  }
  EXPECT_THAT(ids, ::testing::ElementsAre("catalogue-1", "w-1", "o-1"));
}

TEST_F(SplitKafkaTest, ProjectionKilledMidLoadEqualsACleanRebuild) {
  LoadCatalogue();
  const auto load = CrashLoad();
  std::atomic<bool> done{false};
  std::atomic<uint64_t> last{0};
  std::thread writer([&] {
    for (const auto& request : load) {
      v1::Receipt receipt;
      if (gateway_.ingest->SubmitObservations(Ctx().get(), request, &receipt).ok()) {
        last = std::max<uint64_t>(last, receipt.position());
      }
    }
    done = true;
  });
  // Kill the projection while the gateway is still producing.
  while (last < 100 && !done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  projection_.process->Signal(SIGKILL);
  ASSERT_EQ(*projection_.process->Wait(std::chrono::seconds(10)), 128 + SIGKILL);
  writer.join();
  ASSERT_EQ(last.load(), 1u + load.size());
  StartProjection();
  std::string served = Report("2024/25 Q1", last).rendered();
  std::string served_q4 = Report("2023/24 Q4", last).rendered();
  StopProjection();

  // A fresh projection replaying the topic from the start.
  auto rebuild = ::psc::testing::ChildProcess::Start(
      {::psc::testing::BinPath("psc-projection"), "--kafka-brokers", cluster_->Bootstrap(),
       "--data-dir", dir_.Sub("clean"), "--rebuild-only"});
  ASSERT_TRUE(rebuild.ok());
  ASSERT_EQ(*(*rebuild)->Wait(std::chrono::seconds(60)), 0);
  EXPECT_EQ(DumpOf(dir_.Sub("projection/readmodel")), DumpOf(dir_.Sub("clean/readmodel")));

  // Served from the rebuilt read model, the report bytes are the same.
  StartProjection("clean");
  EXPECT_EQ(Report("2024/25 Q1", last).rendered(), served);
  EXPECT_EQ(Report("2023/24 Q4", last).rendered(), served_q4);
}

}  // namespace
}  // namespace psc::e2e
