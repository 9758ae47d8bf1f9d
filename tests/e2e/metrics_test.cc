// Prometheus metrics served by the real programs on --metrics-listen
// 127.0.0.1:0, read over HTTP the way a scraper reads them: the values a
// known load must produce, and every server held to the contract in
// docs/metrics.md (names, types and label names), so that a renamed metric
// or label fails here before it breaks a dashboard.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

#include "harness.h"
#include "psc/domain/strings.h"
#include "psc/testing/fixtures.h"
#include "psc/testing/kafka_cluster.h"
#include "psc/testing/metrics.h"
#include "psc/testing/process.h"

namespace psc::e2e {
namespace {

using ::psc::testing::Obs;
using ::psc::testing::Scrape;
using ::testing::HasSubstr;

// A server started with metrics on a free port, and that port.
struct Metered {
  Server server;
  std::string metrics;  // HOST:PORT of /metrics
};

absl::StatusOr<Metered> StartMetered(const std::string& program, std::vector<std::string> args) {
  args.push_back("--metrics-listen");
  args.push_back("127.0.0.1:0");
  auto server = StartServer(program, std::move(args));
  if (!server.ok()) return server.status();
  auto url = server->process->WaitForValue("metrics on http://", std::chrono::seconds(10));
  if (!url.ok()) return url.status();
  Metered out{std::move(*server), url->substr(0, url->find('/'))};
  return out;
}

Scrape ScrapeOf(const Metered& m) {
  auto body = ::psc::testing::HttpGetMetrics(m.metrics);
  EXPECT_TRUE(body.ok()) << body.status();
  auto parsed = ::psc::testing::ParseMetrics(body.value_or(""));
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.value_or(Scrape());
}

// Scrapes until `name` reaches `value` (the projection folds in the
// background); the last scrape.
Scrape ScrapeWhen(const Metered& m, const std::string& name, double value) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  Scrape s = ScrapeOf(m);
  while (s.Value(name) != value && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    s = ScrapeOf(m);
  }
  return s;
}

// Through a gateway (pscd or psc-gateway): the catalogue, a submission, the
// same submission again, one refused for an unknown organisation, and a
// learning item. The position of the last event appended (5).
uint64_t DriveLoad(Server& writer) {
  v1::ChangeCatalogueRequest change;
  *change.mutable_change() = ::psc::testing::SmallCatalogue();
  v1::Receipt receipt;
  EXPECT_TRUE(writer.catalog->ChangeCatalogue(Ctx().get(), change, &receipt).ok());
  const auto first = Submission("a", {Obs("RHM", "falls-count.v1", "2024-04", 3),
                                      Obs("RDZ", "falls-count.v1", "2024-04", 2)});
  EXPECT_TRUE(writer.ingest->SubmitObservations(Ctx().get(), first, &receipt).ok());
  EXPECT_TRUE(writer.ingest->SubmitObservations(Ctx().get(), first, &receipt).ok());
  EXPECT_TRUE(receipt.duplicate());
  // A correction of RHM.
  EXPECT_TRUE(writer.ingest
                  ->SubmitObservations(
                      Ctx().get(), Submission("b", {Obs("RHM", "falls-count.v1", "2024-04", 4)}),
                      &receipt)
                  .ok());
  auto bad = writer.ingest->SubmitObservations(
      Ctx().get(), Submission("c", {Obs("NOPE", "falls-count.v1", "2024-04", 3)}), &receipt);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ShareLearningRequest learning;
  *learning.mutable_learning() = ::psc::testing::LearningOf("l1", "wessex", "falls", "2024-04");
  EXPECT_TRUE(writer.ingest->ShareLearning(Ctx().get(), learning, &receipt).ok());
  return receipt.position();
}

TEST(MetricsTest, PscdCountsWhatALoadDid) {
  ::psc::testing::TempDir dir;
  auto pscd = StartMetered("pscd", {"--data-dir", dir.path()});
  ASSERT_TRUE(pscd.ok()) << pscd.status();
  const uint64_t last = DriveLoad(pscd->server);
  ASSERT_EQ(last, 4u);  // catalogue, a, b, learning
  const Scrape m = ScrapeWhen(*pscd, "psc_projection_position", 4);

  // gRPC: 3 submissions answered OK (one a duplicate), 1 refused.
  EXPECT_EQ(m.Value("psc_grpc_requests_total", {{"service", "psc.v1.IngestService"},
                                                {"method", "SubmitObservations"},
                                                {"code", "OK"}}),
            3);
  EXPECT_EQ(m.Value("psc_grpc_requests_total", {{"method", "SubmitObservations"},
                                                {"code", "INVALID_ARGUMENT"}}),
            1);
  EXPECT_EQ(m.Value("psc_grpc_request_duration_seconds_count", {{"method", "SubmitObservations"}}),
            4);
  EXPECT_EQ(m.Value("psc_build_info", {{"program", "pscd"}}), 1);
  EXPECT_GT(m.Value("psc_process_resident_memory_bytes").value_or(0), 1 << 20);
  EXPECT_GT(m.Value("psc_process_uptime_seconds").value_or(0), 0);

  // The gateway: 2 accepted submissions of 3 rows, 1 duplicate, 1 refused.
  EXPECT_EQ(m.Value("psc_gateway_requests_total", {{"kind", "observations"}, {"outcome", "accepted"}}), 2);
  EXPECT_EQ(m.Value("psc_gateway_requests_total", {{"kind", "observations"}, {"outcome", "duplicate"}}), 1);
  EXPECT_EQ(m.Value("psc_gateway_rows_total", {{"kind", "observations"}, {"outcome", "accepted"}}), 3);
  EXPECT_EQ(m.Value("psc_gateway_refusals_total", {{"reason", "UNKNOWN_ORGANISATION"}}), 1);
  EXPECT_EQ(m.Value("psc_gateway_requests_total", {{"kind", "learning"}, {"outcome", "accepted"}}), 1);

  // The journal made 4 events durable; the projection applied all 4.
  EXPECT_EQ(m.Value("psc_log_appends_total", {{"backend", "journal"}}), 4);
  EXPECT_EQ(m.Value("psc_log_append_batch_events_sum", {{"backend", "journal"}}), 4);
  EXPECT_EQ(m.Value("psc_projection_applied_events_total"), 4);
  EXPECT_EQ(m.Value("psc_projection_log_end_position"), 4);
  EXPECT_EQ(m.Value("psc_projection_lag_events"), 0);
  EXPECT_EQ(m.Value("psc_projection_caught_up"), 1);

  // The read model and the programme: April 2024, wessex RHM 4 + RDZ 2.
  EXPECT_EQ(m.Value("psc_readmodel_observations"), 2);
  EXPECT_EQ(m.Value("psc_programme_month"), 202404);
  EXPECT_EQ(m.Value("psc_programme_values_reported", {{"collaborative", "wessex"}}), 2);
  EXPECT_EQ(m.Value("psc_programme_organisations_reporting", {{"collaborative", "wessex"}}), 2);
  EXPECT_EQ(m.Value("psc_programme_organisations_reporting", {{"collaborative", "oxford"}}), 0);
  // Enrolled in April: wessex RHM and RDZ, 5 measures each.
  EXPECT_EQ(m.Value("psc_programme_values_expected", {{"collaborative", "wessex"}}), 10);
  EXPECT_EQ(m.Value("psc_programme_organisations_enrolled", {{"collaborative", "wessex"}}), 2);
  EXPECT_EQ(m.Value("psc_programme_national_value", {{"measure", "falls-count.v1"}}), 6);
  EXPECT_EQ(m.Value("psc_programme_learning_items", {{"topic", "falls"}}), 1);
}

// The documented families a process must serve: those whose processes
// column names it, the Kafka ones only on Kafka.
std::set<std::string> Expected(const std::vector<::psc::testing::DocumentedMetric>& documented,
                               char process, bool kafka) {
  std::set<std::string> out;
  for (const auto& m : documented) {
    if (m.processes.find(process) == std::string::npos) continue;
    if (m.processes.find("(Kafka)") != std::string::npos && !kafka) continue;
    out.insert(m.name);
  }
  return out;
}

void ExpectContract(const Scrape& scrape, const std::string& program,
                    const std::vector<::psc::testing::DocumentedMetric>& documented,
                    const std::set<std::string>& expected) {
  std::set<std::string> served;
  for (const auto& [family, type] : scrape.types) {
    if (family.rfind("psc_", 0) == 0) served.insert(family);
  }
  EXPECT_EQ(served, expected) << program << " serves other metrics than docs/metrics.md lists";
  for (const auto& m : documented) {
    if (served.count(m.name) == 0) continue;
    EXPECT_EQ(scrape.types.at(m.name), m.type) << program << ": type of " << m.name;
    EXPECT_EQ(scrape.LabelNames(m.name), m.labels) << program << ": labels of " << m.name;
  }
}

TEST(MetricsTest, EveryServerServesExactlyTheDocumentedMetrics) {
  auto documented = ::psc::testing::DocumentedMetrics();
  ASSERT_TRUE(documented.ok()) << documented.status();
  ASSERT_GE(documented->size(), 30u);

  ::psc::testing::TempDir dir;
  auto pscd = StartMetered("pscd", {"--data-dir", dir.Sub("pscd")});
  ASSERT_TRUE(pscd.ok()) << pscd.status();
  DriveLoad(pscd->server);

  auto cluster = ::psc::testing::KafkaCluster::Start({.brokers = 1, .topics = {{"psc.events", 1}}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto gateway = StartMetered("psc-gateway", {"--kafka-brokers", (*cluster)->Bootstrap()});
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  auto projection = StartMetered("psc-projection", {"--kafka-brokers", (*cluster)->Bootstrap(),
                                                    "--data-dir", dir.Sub("projection")});
  ASSERT_TRUE(projection.ok()) << projection.status();
  const uint64_t last = DriveLoad(gateway->server);
  // gRPC families appear with a server's first call.
  v1::GetStatusRequest status_request;
  v1::ProjectionStatus status;
  ASSERT_TRUE(projection->server.query->GetStatus(Ctx().get(), status_request, &status).ok());

  const Scrape d = ScrapeWhen(*pscd, "psc_projection_position", static_cast<double>(last));
  const Scrape g = ScrapeWhen(*gateway, "psc_gateway_fold_position", static_cast<double>(last));
  const Scrape p = ScrapeWhen(*projection, "psc_projection_position", static_cast<double>(last));
  ExpectContract(d, "pscd", *documented, Expected(*documented, 'd', false));
  ExpectContract(g, "psc-gateway", *documented, Expected(*documented, 'g', true));
  ExpectContract(p, "psc-projection", *documented, Expected(*documented, 'p', true));

  // The same load on Kafka: the gateway produced 4 events, acknowledged.
  EXPECT_EQ(g.Value("psc_log_appends_total", {{"backend", "kafka"}}), 4);
  EXPECT_EQ(g.Value("psc_kafka_delivery_errors_total"), 0);
  EXPECT_EQ(g.Value("psc_kafka_producer_queue_messages"), 0);
  EXPECT_EQ(g.Value("psc_gateway_fold_position"), 4);
  EXPECT_EQ(p.Value("psc_programme_values_reported", {{"collaborative", "wessex"}}), 2);
}

TEST(MetricsTest, AnAddressThatIsNotHostPortIsRefused) {
  ::psc::testing::TempDir dir;
  auto run = RunCommand(StrCat(::psc::testing::BinPath("pscd"), " --data-dir '", dir.path(),
                               "' --listen 127.0.0.1:0 --metrics-listen nonsense 2>&1"));
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.output, HasSubstr("--metrics-listen: 'nonsense' is not HOST:PORT"));
}

}  // namespace
}  // namespace psc::e2e
