// Prometheus metrics served by the real pscd on --metrics-listen
// 127.0.0.1:0, read over HTTP the way a scraper reads them.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "harness.h"
#include "psc/domain/strings.h"
#include "psc/testing/fixtures.h"
#include "psc/testing/process.h"

namespace psc::e2e {
namespace {

using ::psc::testing::Obs;
using ::testing::HasSubstr;
using ::testing::Not;

// GET http://HOST:PORT/metrics; the body, or the error.
absl::StatusOr<std::string> Scrape(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  if (inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &address.sin_addr) != 1) {
    return absl::InvalidArgumentError(host_port);
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError("socket");
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return absl::UnavailableError(StrCat("connect ", host_port));
  }
  const std::string request =
      StrCat("GET /metrics HTTP/1.1\r\nHost: ", host_port, "\r\nConnection: close\r\n\r\n");
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("write");
  }
  std::string response;
  char buffer[8192];
  for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) response.append(buffer, n);
  close(fd);
  if (response.rfind("HTTP/1.1 200", 0) != 0) {
    return absl::UnavailableError(StrCat("not 200: ", response.substr(0, 80)));
  }
  const auto body = response.find("\r\n\r\n");
  return body == std::string::npos ? std::string() : response.substr(body + 4);
}

TEST(MetricsTest, PscdServesRequestAndProcessMetrics) {
  ::psc::testing::TempDir dir;
  auto server = StartServer("pscd", {"--data-dir", dir.path(), "--metrics-listen", "127.0.0.1:0"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto metrics = server->process->WaitForValue("metrics on http://", std::chrono::seconds(10));
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const std::string host_port = metrics->substr(0, metrics->find('/'));

  v1::ChangeCatalogueRequest change;
  *change.mutable_change() = ::psc::testing::SmallCatalogue();
  v1::Receipt receipt;
  ASSERT_TRUE(server->catalog->ChangeCatalogue(Ctx().get(), change, &receipt).ok());
  for (const char* id : {"a", "b"}) {
    ASSERT_TRUE(server->ingest
                    ->SubmitObservations(Ctx().get(),
                                         Submission(id, {Obs("RHM", "falls-count.v1", "2024-04", 3)}),
                                         &receipt)
                    .ok());
  }
  auto bad = server->ingest->SubmitObservations(
      Ctx().get(), Submission("c", {Obs("NOPE", "falls-count.v1", "2024-04", 3)}), &receipt);
  ASSERT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  auto body = Scrape(host_port);
  ASSERT_TRUE(body.ok()) << body.status();
  // Two accepted, one refused: counted by service, method and code.
  EXPECT_THAT(*body, HasSubstr("psc_grpc_requests_total{code=\"OK\",method=\"SubmitObservations\","
                               "service=\"psc.v1.IngestService\"} 2\n"));
  EXPECT_THAT(*body,
              HasSubstr("psc_grpc_requests_total{code=\"INVALID_ARGUMENT\",method=\"SubmitObservations\","
                        "service=\"psc.v1.IngestService\"} 1\n"));
  EXPECT_THAT(*body, HasSubstr("psc_grpc_request_duration_seconds_count{method=\"SubmitObservations\","
                               "service=\"psc.v1.IngestService\"} 3\n"));
  EXPECT_THAT(*body, HasSubstr("psc_build_info{program=\"pscd\",version=\""));
  EXPECT_THAT(*body, HasSubstr("# TYPE psc_process_resident_memory_bytes gauge\n"));
  EXPECT_THAT(*body, HasSubstr("psc_process_uptime_seconds "));
  EXPECT_THAT(*body, Not(HasSubstr("psc_process_resident_memory_bytes 0\n")));
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
