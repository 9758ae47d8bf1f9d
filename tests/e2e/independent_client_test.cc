// Every server answers an independent gRPC client (Python grpcio, stubs
// generated at run time): health checking, reflection complete enough to
// build the message classes, and google.rpc.BadRequest details.
#include <gtest/gtest.h>
#include "harness.h"
#include "psc/domain/strings.h"
#include "psc/testing/kafka_cluster.h"

namespace psc::e2e {
namespace {

void RunClient(const Server& server, const std::string& services, bool ingest) {
  std::string command =
      StrCat("/usr/bin/python3 ", ::psc::testing::SourcePath("tests/e2e/python/independent_client.py"),
             " ", server.address, " ", ::psc::testing::SourcePath("proto"), " ", services,
             ingest ? " --ingest" : "", " 2>&1");
  CommandResult run = RunCommand(command);
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_NE(run.output.find("ok   health: SERVING"), std::string::npos) << run.output;
}

TEST(IndependentClient, Pscd) {
  ::psc::testing::TempDir dir;
  auto server = StartServer("pscd", {"--data-dir", dir.path()});
  ASSERT_TRUE(server.ok()) << server.status();
  RunClient(*server, "psc.v1.IngestService,psc.v1.CatalogService,psc.v1.QueryService", true);
}

// Bytes protobuf cannot parse, invalid UTF-8 and 100,000-character strings,
// to every method: INVALID_ARGUMENT saying what was wrong, never INTERNAL.
TEST(IndependentClient, BadInputIsInvalidArgumentWithAMessage) {
  ::psc::testing::TempDir dir;
  auto server = StartServer("pscd", {"--data-dir", dir.path()});
  ASSERT_TRUE(server.ok()) << server.status();
  CommandResult run = RunCommand(
      StrCat("/usr/bin/python3 ", ::psc::testing::SourcePath("tests/e2e/python/bad_input.py"), " ",
             server->address, " ", ::psc::testing::SourcePath("proto"), " 2>&1"));
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_NE(run.output.find("ok   every method of the four services was tried (19)"),
            std::string::npos)
      << run.output;
  // The server is still serving, and kept nothing of it.
  EXPECT_EQ(Health(*server), grpc::health::v1::HealthCheckResponse::SERVING);
  v1::ProjectionStatus status;
  ASSERT_TRUE(server->query->GetStatus(Ctx().get(), v1::GetStatusRequest(), &status).ok());
  EXPECT_EQ(status.applied_position(), 0u);
}

TEST(IndependentClient, GatewayAndProjectionOnKafka) {
  auto cluster = ::psc::testing::KafkaCluster::Start({.brokers = 1, .topics = {{"psc.events", 1}}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ::psc::testing::TempDir dir;
  auto gateway = StartServer("psc-gateway", {"--kafka-brokers", (*cluster)->Bootstrap()});
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  auto projection = StartServer("psc-projection", {"--kafka-brokers", (*cluster)->Bootstrap(),
                                                   "--data-dir", dir.path()});
  ASSERT_TRUE(projection.ok()) << projection.status();
  RunClient(*gateway, "psc.v1.IngestService,psc.v1.CatalogService", true);
  RunClient(*projection, "psc.v1.QueryService", false);
}

}  // namespace
}  // namespace psc::e2e
