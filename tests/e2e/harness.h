// Starting the psc programs as real processes and talking to them over
// loopback gRPC, for the end-to-end tests.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "psc/testing/process.h"
#include "psc/v1/catalog_service.grpc.pb.h"
#include "psc/v1/ingest.grpc.pb.h"
#include "psc/v1/publication.grpc.pb.h"
#include "psc/v1/query.grpc.pb.h"

namespace psc::e2e {

// A running server program and stubs to it.
struct Server {
  std::unique_ptr<testing::ChildProcess> process;
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::IngestService::Stub> ingest;
  std::unique_ptr<v1::CatalogService::Stub> catalog;
  std::unique_ptr<v1::QueryService::Stub> query;
  std::unique_ptr<v1::PublicationService::Stub> publication;
  std::unique_ptr<grpc::health::v1::Health::Stub> health;
};

// Starts bin/<program> with `args` plus `--listen 127.0.0.1:0`, waits for
// its address and, when `wait_ready`, for its `ready:` line. With
// `capture_stderr`, its stderr is in the process's Output() too.
absl::StatusOr<Server> StartServer(const std::string& program, std::vector<std::string> args,
                                   bool wait_ready = true, bool capture_stderr = false);

// A shell command's exit code (-1 when it did not exit) and its output.
struct CommandResult {
  int code = -1;
  std::string output;
};
// Runs `command` with /bin/sh and collects its stdout (add `2>&1` for
// stderr too).
CommandResult RunCommand(const std::string& command);

// A context with a deadline.
std::unique_ptr<grpc::ClientContext> Ctx(int seconds = 30);

// The google.rpc.BadRequest field paths in a failed call's details.
std::vector<std::string> ViolatedFields(const grpc::Status& status);

// Health of the whole server ("" service), or UNKNOWN when the call fails.
grpc::health::v1::HealthCheckResponse::ServingStatus Health(Server& server);

v1::SubmitObservationsRequest Submission(const std::string& id, std::vector<v1::Observation> rows);

// A measure of a report, or nullptr; a collaborative's figure, or nullptr.
const v1::MeasureReport* FindMeasure(const v1::QuarterlyReport& report, const std::string& id);
const v1::Figure* AreaOf(const v1::MeasureReport& m, const std::string& collaborative);

// A load for crash tests on psc::testing::SmallCatalogue: 300 submissions
// of 8 distinct keys each, drawn from 72 keys (4 organisations x 3 measures
// x 6 months of 2024), so most rows correct an earlier value.
std::vector<v1::SubmitObservationsRequest> CrashLoad();

// The sorted dump of every column family of the read model in `dir` (see
// ReadModel::Dump); the read model must not be open elsewhere.
std::string DumpOf(const std::string& dir);

}  // namespace psc::e2e
