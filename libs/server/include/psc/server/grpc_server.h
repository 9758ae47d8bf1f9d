// A gRPC server with what every psc server has: the standard health service
// (grpc.health.v1.Health, NOT_SERVING until the owner says otherwise),
// reflection, a message size bound, and a printed address.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "psc/server/parsing_service.h"
#include "psc/telemetry/telemetry.h"

namespace psc::server {

// A service to serve, with its full name (health is reported per service
// too).
struct Served {
  std::string name;        // e.g. "psc.v1.QueryService"
  grpc::Service* service;  // not owned
};
// A service that parses its own requests (parsing_service.h), named as its
// proto names it ("psc.v1.QueryService").
inline Served ServiceOf(ParsingService& impl) {
  return {impl.descriptor().full_name(), &impl};
}

struct GrpcServerOptions {
  // HOST:PORT; port 0 picks a free port.
  std::string listen = "127.0.0.1:0";
  // Largest request accepted by the transport. Above the 4 MiB batch bound,
  // so that a batch a little too large gets a field-level refusal from the
  // validation, not a bare transport error.
  int max_receive_bytes = 8 << 20;
  // When set, every RPC is measured (psc_grpc_* metrics); not owned.
  telemetry::Telemetry* telemetry = nullptr;
  // TLS, PEM text: the server's certificate chain and key; with a client
  // CA, client certificates it signed are requested and verified when
  // presented (mutual TLS; a caller may present a bearer token instead).
  // Empty cert_chain: plaintext.
  struct Tls {
    std::string cert_chain;
    std::string private_key;
    std::string client_ca;
  };
  Tls tls;
};

class GrpcServer {
 public:
  // Starts serving `services` (not owned; they must outlive the server) and
  // prints `listening on HOST:PORT` on stdout.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const std::vector<Served>& services,
                                                          const GrpcServerOptions& options);
  ~GrpcServer();

  // HOST:PORT actually bound.
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  // Health of the whole server ("" service) and of every service it serves.
  void SetServing(bool serving);
  // Reports NOT_SERVING, stops taking calls and waits for the running ones
  // up to `grace`.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  GrpcServer() = default;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::string> names_;  // of the services served
  std::string address_;
  int port_ = 0;
};

// Splits HOST:PORT ([v6]:PORT allowed); INVALID_ARGUMENT naming `flag`.
absl::StatusOr<std::pair<std::string, int>> ParseHostPort(const std::string& text,
                                                          const std::string& flag);

// Blocks SIGINT and SIGTERM in this thread and every thread it starts later;
// call first thing in main. WaitForTerminationSignal() then returns the
// signal once one arrives.
void BlockTerminationSignals();
int WaitForTerminationSignal();

}  // namespace psc::server
