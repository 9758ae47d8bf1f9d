// pscd: the whole service in one process on the embedded journal (the
// default deployment): the gateway appends to DATA_DIR/journal, the
// projection folds it into DATA_DIR/readmodel, and one gRPC server offers
// IngestService, CatalogService and QueryService.
#include <iostream>

#include "psc/domain/clock.h"
#include "psc/gateway/gateway.h"
#include "psc/projection/projector.h"
#include "psc/server/app.h"
#include "psc/server/services.h"

int main(int argc, char** argv) {
  using namespace psc;
  server::BlockTerminationSignals();
  server::Flags flags("pscd",
                      "The psc-aggregate service in one process: ingest, event log, read model "
                      "and queries.");
  flags.Add("listen", "127.0.0.1:50051", "gRPC address HOST:PORT (port 0 picks a free port)")
      .Add("data-dir", "psc-data", "folder for the journal and the read model")
      .AddBool("rebuild", "replay the whole log into a fresh read model before serving")
      .Add("memory-budget-mib", "256", "RocksDB memory budget of the read model, MiB");
  server::AddKafkaFlags(flags);
  server::AddMetricsFlags(flags);
  server::AddAccessFlags(flags, /*submissions=*/true);
  server::AddKeyStoreFlag(flags,
                          "folder of the keys that seal learning text, apart from the log "
                          "(default DATA_DIR/keys); erasing a learning destroys its key");
  server::ParseOrExit(flags, argc, argv);
  auto access = server::OpenAccess(flags, "pscd");
  if (!access.ok()) return server::Fail("pscd", access.status());
  auto telemetry = server::StartTelemetry(flags, "pscd");
  if (!telemetry.ok()) return server::Fail("pscd", telemetry.status());
  auto budget = flags.GetInt("memory-budget-mib");
  if (!budget.ok() || *budget <= 0) return server::Fail("pscd", budget.status());

  prometheus::Registry* metrics = &(*telemetry)->registry();
  const std::string data_dir = flags.Get("data-dir");
  auto log = server::OpenLog(flags, data_dir + "/journal", /*read_only=*/false, metrics);
  if (!log.ok()) return server::Fail("pscd", log.status());
  auto keys = server::OpenKeyStore(flags, data_dir + "/keys");
  if (!keys.ok()) return server::Fail("pscd", keys.status());
  auto model = server::OpenReadModel(data_dir + "/readmodel", **log, flags.GetBool("rebuild"),
                                     static_cast<size_t>(*budget) << 20, metrics, &*keys);
  if (!model.ok()) return server::Fail("pscd", model.status());
  (*telemetry)->AddCollectable(projection::ReadModelCollector(**model));
  std::cout << "pscd: event log " << (*log)->Describe() << ", read model " << data_dir
            << "/readmodel" << std::endl;

  gateway::GatewayOptions gateway_options;
  gateway_options.metrics = metrics;
  gateway_options.limits = access->limits;
  gateway_options.key_store = &*keys;
  gateway::Gateway gateway(**log, SystemClock::Instance(), gateway_options);
  if (auto s = gateway.Start(); !s.ok()) return server::Fail("pscd", s);
  projection::ProjectorOptions projector_options;
  projector_options.metrics = metrics;
  projection::Projector projector(**model, **log, projector_options);
  if (auto s = projector.Start(); !s.ok()) return server::Fail("pscd", s);

  const server::Guard& guard = *access->guard;
  server::IngestServiceImpl ingest(gateway, guard);
  server::CatalogServiceImpl catalog(gateway, guard);
  server::QueryServiceImpl query(**model, **log, guard);
  server::PublicationServiceImpl publication(**model, **log, SystemClock::Instance(), guard);
  access->server.telemetry = telemetry->get();
  auto status = server::ServeUntilSignal(
      {server::ServiceOf(ingest), server::ServiceOf(catalog), server::ServiceOf(query),
       server::ServiceOf(publication)},
      access->server, [&] { return projector.caught_up() && projector.health().ok(); },
      [&] { return "log position " + std::to_string((*model)->applied().value()) + " applied"; });
  (*telemetry)->Close();
  projector.Stop();
  gateway.Stop();
  if (!status.ok()) return server::Fail("pscd", status);
  if (auto s = projector.health(); !s.ok()) return server::Fail("pscd", s);
  return 0;
}
