// gRPC health (grpc.health.v1) follows readiness: a projection reports
// SERVING only once it has applied the log end it saw at start-up, and a
// server reports NOT_SERVING as soon as it starts draining on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>
#include <tuple>
#include <vector>

#include "harness.h"
#include "psc/domain/strings.h"
#include "psc/testing/fixtures.h"
#include "psc/testing/kafka_cluster.h"
#include "psc/testing/metrics.h"

namespace psc::e2e {
namespace {

using ::grpc::health::v1::HealthCheckResponse;
using ::psc::testing::Obs;

TEST(HealthTest, ProjectionServesOnlyOnceCaughtUpWithTheLogAtStartUp) {
  auto cluster = ::psc::testing::KafkaCluster::Start({.brokers = 1, .topics = {{"psc.events", 1}}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto gateway = StartServer("psc-gateway", {"--kafka-brokers", (*cluster)->Bootstrap()});
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  v1::ChangeCatalogueRequest change;
  *change.mutable_change() = ::psc::testing::SmallCatalogue();
  v1::Receipt receipt;
  ASSERT_TRUE(gateway->catalog->ChangeCatalogue(Ctx().get(), change, &receipt).ok());
  for (int i = 0; i < 60; ++i) {
    auto request = Submission(StrCat("s", i), {Obs("RHM", "falls-count.v1", "2024-04", i),
                                               Obs("RDZ", "falls-count.v1", "2024-05", i)});
    ASSERT_TRUE(gateway->ingest->SubmitObservations(Ctx().get(), request, &receipt).ok());
  }
  const uint64_t end = receipt.position();
  ASSERT_EQ(end, 61u);

  // Every broker answer now takes 100 ms: the projection needs seconds to
  // reach the end, and must say NOT_SERVING until it has.
  ASSERT_TRUE((*cluster)->SetRtt(1, 100).ok());
  ::psc::testing::TempDir dir;
  auto projection = StartServer("psc-projection",
                                {"--kafka-brokers", (*cluster)->Bootstrap(), "--data-dir",
                                 dir.path(), "--metrics-listen", "127.0.0.1:0"},
                                /*wait_ready=*/false);
  ASSERT_TRUE(projection.ok()) << projection.status();
  auto url = projection->process->WaitForValue("metrics on http://", std::chrono::seconds(10));
  ASSERT_TRUE(url.ok()) << url.status();
  const std::string metrics = url->substr(0, url->find('/'));
  auto scrape = [&] {
    auto body = ::psc::testing::HttpGetMetrics(metrics);
    EXPECT_TRUE(body.ok()) << body.status();
    return ::psc::testing::ParseMetrics(body.value_or("")).value_or(::psc::testing::Scrape());
  };

  int not_serving = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto status = Health(*projection);
  while (status != HealthCheckResponse::SERVING && std::chrono::steady_clock::now() < deadline) {
    ASSERT_EQ(status, HealthCheckResponse::NOT_SERVING);
    if (++not_serving == 1) {
      // Not yet caught up, by its own account.
      EXPECT_EQ(scrape().Value("psc_projection_caught_up"), 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    status = Health(*projection);
  }
  ASSERT_EQ(status, HealthCheckResponse::SERVING);
  // The first answers were NOT_SERVING, and SERVING came with the whole log
  // applied.
  EXPECT_GE(not_serving, 1);
  const auto m = scrape();
  EXPECT_EQ(m.Value("psc_projection_position"), static_cast<double>(end));
  EXPECT_EQ(m.Value("psc_projection_caught_up"), 1);
  ASSERT_TRUE((*cluster)->SetRtt(1, 0).ok());
}

TEST(HealthTest, ServerSaysNotServingAsSoonAsItDrains) {
  ::psc::testing::TempDir dir;
  auto pscd = StartServer("pscd", {"--data-dir", dir.path()});
  ASSERT_TRUE(pscd.ok()) << pscd.status();

  // Each service it serves is reported too; others are unknown.
  for (const auto& [service, code, status] :
       std::vector<std::tuple<std::string, grpc::StatusCode, HealthCheckResponse::ServingStatus>>{
           {"psc.v1.QueryService", grpc::StatusCode::OK, HealthCheckResponse::SERVING},
           {"psc.v1.IngestService", grpc::StatusCode::OK, HealthCheckResponse::SERVING},
           {"psc.v1.NoSuchService", grpc::StatusCode::NOT_FOUND,
            HealthCheckResponse::UNKNOWN}}) {
    grpc::health::v1::HealthCheckRequest check;
    check.set_service(service);
    grpc::health::v1::HealthCheckResponse answer;
    EXPECT_EQ(pscd->health->Check(Ctx().get(), check, &answer).error_code(), code) << service;
    EXPECT_EQ(answer.status(), status) << service;
  }

  // A watcher, as a load balancer keeps one.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::health::v1::HealthCheckRequest request;
  auto watch = pscd->health->Watch(&context, request);
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);

  pscd->process->Signal(SIGTERM);
  ASSERT_TRUE(watch->Read(&response)) << "the watch ended without a last status";
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  context.TryCancel();
  watch->Finish();
  auto code = pscd->process->Wait(std::chrono::seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace psc::e2e
