// Prometheus metrics of one process: the registry every probe registers
// in, the /metrics endpoint (prometheus-cpp's exposer), process metrics
// (resident memory, uptime, build info) and the gRPC probe.
//
// Naming follows Prometheus conventions: a `psc_` prefix, base units
// (`_seconds`, `_bytes`), `_total` for counters. Label values are bounded:
// gRPC service and method names come from the served protos, status codes
// from the 17 gRPC codes.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/support/server_interceptor.h>

#include "absl/status/statusor.h"

namespace prometheus {
class Collectable;
class Exposer;
class Registry;
}  // namespace prometheus

namespace psc::telemetry {

// The version every process reports in psc_build_info.
inline constexpr char kVersion[] = "0.4.0";

class GrpcProbe;

class Telemetry {
 public:
  // `program` labels psc_build_info (e.g. "pscd").
  explicit Telemetry(std::string program);
  ~Telemetry();
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  // Serves GET /metrics on HOST:PORT (port 0: a free one); returns
  // HOST:PORT as bound. INVALID_ARGUMENT names `--metrics-listen` for a bad
  // address; UNAVAILABLE when it cannot be bound.
  absl::StatusOr<std::string> Serve(const std::string& listen);

  prometheus::Registry& registry() { return *registry_; }
  // Stops serving /metrics (before what the collectables read goes away).
  void Close();
  // Serves `collectable` too (read at every scrape); kept alive by this
  // object.
  void AddCollectable(std::shared_ptr<prometheus::Collectable> collectable);
  // Every metric in the Prometheus text format, as /metrics serves it.
  std::string Text() const;
  // The interceptor factory that measures every RPC of a gRPC server.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> GrpcInterceptor();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  // The exposer keeps only weak references to what it serves.
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;  // the process collector first
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<GrpcProbe> grpc_;
};

}  // namespace psc::telemetry
