// psc-gateway: the write side alone (IngestService, CatalogService). Several
// replicas may append to one Kafka topic; each keeps its own fold of the log
// for validation and repeated request ids.
#include <iostream>

#include "psc/domain/clock.h"
#include "psc/gateway/gateway.h"
#include "psc/server/app.h"
#include "psc/server/services.h"

int main(int argc, char** argv) {
  using namespace psc;
  server::BlockTerminationSignals();
  server::Flags flags("psc-gateway",
                      "Validates submissions against the catalogue and appends them to the event "
                      "log; answers once they are durable.");
  flags.Add("listen", "127.0.0.1:50051", "gRPC address HOST:PORT (port 0 picks a free port)")
      .Add("data-dir", "psc-data", "folder of the embedded journal (when not on Kafka)");
  server::AddKafkaFlags(flags);
  server::AddMetricsFlags(flags);
  server::AddAccessFlags(flags, /*submissions=*/true);
  server::AddKeyStoreFlag(flags,
                          "folder of the keys that seal learning text, apart from the log, shared "
                          "with the projections (default DATA_DIR/keys)");
  server::ParseOrExit(flags, argc, argv);
  auto keys = server::OpenKeyStore(flags, flags.Get("data-dir") + "/keys");
  if (!keys.ok()) return server::Fail("psc-gateway", keys.status());
  auto access = server::OpenAccess(flags, "psc-gateway");
  if (!access.ok()) return server::Fail("psc-gateway", access.status());
  auto telemetry = server::StartTelemetry(flags, "psc-gateway");
  if (!telemetry.ok()) return server::Fail("psc-gateway", telemetry.status());

  prometheus::Registry* metrics = &(*telemetry)->registry();
  auto log = server::OpenLog(flags, flags.Get("data-dir") + "/journal", /*read_only=*/false,
                             metrics);
  if (!log.ok()) return server::Fail("psc-gateway", log.status());
  std::cout << "psc-gateway: event log " << (*log)->Describe() << std::endl;
  gateway::GatewayOptions gateway_options;
  gateway_options.metrics = metrics;
  gateway_options.limits = access->limits;
  gateway_options.key_store = &*keys;
  gateway::Gateway gateway(**log, SystemClock::Instance(), gateway_options);
  if (auto s = gateway.Start(); !s.ok()) return server::Fail("psc-gateway", s);

  server::IngestServiceImpl ingest(gateway, *access->guard);
  server::CatalogServiceImpl catalog(gateway, *access->guard);
  access->server.telemetry = telemetry->get();
  auto status = server::ServeUntilSignal(
      {server::ServiceOf(ingest),
       server::ServiceOf(catalog)},
      access->server, [&] { return gateway.health().ok(); },
      [&] { return "log position " + std::to_string(gateway.position().value()) + " read"; });
  (*telemetry)->Close();
  gateway.Stop();
  if (!status.ok()) return server::Fail("psc-gateway", status);
  return 0;
}
