#include "harness.h"

#include <sys/wait.h>

#include <cstdio>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "psc/domain/strings.h"
#include "psc/projection/read_model.h"
#include "psc/testing/fixtures.h"

#include <random>

namespace psc::e2e {

absl::StatusOr<Server> StartServer(const std::string& program, std::vector<std::string> args,
                                   bool wait_ready, bool capture_stderr) {
  std::vector<std::string> argv = {testing::BinPath(program), "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::ChildProcess::Options options;
  options.capture_stderr = capture_stderr;
  auto process = testing::ChildProcess::Start(argv, options);
  if (!process.ok()) return process.status();
  Server server;
  server.process = std::move(*process);
  auto address = server.process->WaitForValue("listening on ", std::chrono::seconds(60));
  if (!address.ok()) return address.status();
  server.address = *address;
  if (wait_ready) {
    auto ready = server.process->WaitForLine("ready:", std::chrono::seconds(120));
    if (!ready.ok()) return ready.status();
  }
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxSendMessageSize(32 << 20);
  channel_args.SetMaxReceiveMessageSize(64 << 20);
  server.channel =
      grpc::CreateCustomChannel(server.address, grpc::InsecureChannelCredentials(), channel_args);
  server.ingest = v1::IngestService::NewStub(server.channel);
  server.catalog = v1::CatalogService::NewStub(server.channel);
  server.query = v1::QueryService::NewStub(server.channel);
  server.publication = v1::PublicationService::NewStub(server.channel);
  server.health = grpc::health::v1::Health::NewStub(server.channel);
  return server;
}

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[65536];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::unique_ptr<grpc::ClientContext> Ctx(int seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

std::vector<std::string> ViolatedFields(const grpc::Status& status) {
  std::vector<std::string> out;
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return out;
  for (const auto& any : rich.details()) {
    google::rpc::BadRequest bad;
    if (!any.UnpackTo(&bad)) continue;
    for (const auto& v : bad.field_violations()) out.push_back(v.field());
  }
  return out;
}

grpc::health::v1::HealthCheckResponse::ServingStatus Health(Server& server) {
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  if (!server.health->Check(Ctx(5).get(), request, &response).ok()) {
    return grpc::health::v1::HealthCheckResponse::UNKNOWN;
  }
  return response.status();
}

v1::SubmitObservationsRequest Submission(const std::string& id, std::vector<v1::Observation> rows) {
  v1::SubmitObservationsRequest request;
  request.set_submission_id(id);
  for (auto& r : rows) *request.add_rows() = std::move(r);
  return request;
}

const v1::MeasureReport* FindMeasure(const v1::QuarterlyReport& report, const std::string& id) {
  for (const auto& type : report.types()) {
    for (const auto& topic : type.topics()) {
      for (const auto& m : topic.measures()) {
        if (m.measure().id() == id) return &m;
      }
    }
  }
  return nullptr;
}

const v1::Figure* AreaOf(const v1::MeasureReport& m, const std::string& collaborative) {
  for (const auto& a : m.collaboratives()) {
    if (a.collaborative_id() == collaborative) return &a.figure();
  }
  return nullptr;
}

std::vector<v1::SubmitObservationsRequest> CrashLoad() {
  std::mt19937_64 rng(7);
  std::vector<std::tuple<std::string, std::string, std::string>> keys;
  for (const char* org : {"RHM", "RDZ", "RTH", "R1A"}) {
    for (const char* measure : {"falls-count.v1", "falls-harm-rate.v1", "staff-trained.v1"}) {
      for (int m = 1; m <= 6; ++m) keys.emplace_back(org, measure, StrCat("2024-0", m));
    }
  }
  std::vector<v1::SubmitObservationsRequest> out;
  for (int i = 0; i < 300; ++i) {
    std::vector<v1::Observation> rows;
    for (size_t k = 0; k < 8; ++k) {
      std::swap(keys[k], keys[k + rng() % (keys.size() - k)]);
      const auto& [org, measure, month] = keys[k];
      int64_t value = static_cast<int64_t>(rng() % 50);
      if (measure == "falls-harm-rate.v1") {
        rows.push_back(::psc::testing::Obs(org, measure, month, value, 1000 + static_cast<int64_t>(rng() % 9000)));
      } else {
        rows.push_back(::psc::testing::Obs(org, measure, month, value));
      }
    }
    out.push_back(Submission(StrCat("load-", i), std::move(rows)));
  }
  return out;
}

std::string DumpOf(const std::string& dir) {
  auto model = projection::ReadModel::Open(dir);
  if (!model.ok()) return std::string(model.status().message());
  return (*model)->Dump().value_or("dump failed");
}

}  // namespace psc::e2e
