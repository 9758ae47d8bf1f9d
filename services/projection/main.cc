// psc-projection: the read side alone. Folds the event log into its own
// read model in --data-dir and serves QueryService and PublicationService
// (publishing appends to the log it folds). Each replica keeps its
// own read model and its own position in it (never a consumer group).
#include <iostream>
#include <optional>

#include "psc/domain/clock.h"
#include "psc/projection/projector.h"
#include "psc/server/app.h"
#include "psc/server/services.h"

int main(int argc, char** argv) {
  using namespace psc;
  server::BlockTerminationSignals();
  server::Flags flags("psc-projection",
                      "Folds the event log into a RocksDB read model and serves QueryService.");
  flags.Add("listen", "127.0.0.1:50052", "gRPC address HOST:PORT (port 0 picks a free port)")
      .Add("data-dir", "psc-projection-data", "folder of the read model")
      .Add("journal", "",
           "fold an embedded journal folder (opened read-only: no gateway may be writing it) "
           "instead of Kafka")
      .AddBool("rebuild", "replay the whole log into a fresh read model before serving")
      .AddBool("rebuild-only", "rebuild, print a summary and exit without serving")
      .Add("memory-budget-mib", "256", "RocksDB memory budget of the read model, MiB");
  server::AddKafkaFlags(flags);
  server::AddMetricsFlags(flags);
  server::AddAccessFlags(flags, /*submissions=*/false);
  server::AddKeyStoreFlag(flags,
                          "the gateway's folder of learning-text keys (shared, read only); empty: "
                          "learning is shown without its text");
  server::ParseOrExit(flags, argc, argv);
  auto access = server::OpenAccess(flags, "psc-projection");
  if (!access.ok()) return server::Fail("psc-projection", access.status());
  auto telemetry = server::StartTelemetry(flags, "psc-projection");
  if (!telemetry.ok()) return server::Fail("psc-projection", telemetry.status());
  auto budget = flags.GetInt("memory-budget-mib");
  if (!budget.ok() || *budget <= 0) return server::Fail("psc-projection", budget.status());
  if (flags.Get("kafka-brokers").empty() && flags.Get("journal").empty()) {
    return server::Fail("psc-projection",
                        absl::InvalidArgumentError("name the log: --kafka-brokers or --journal"));
  }

  prometheus::Registry* metrics = &(*telemetry)->registry();
  auto log = server::OpenLog(flags, flags.Get("journal"), /*read_only=*/true, metrics);
  if (!log.ok()) return server::Fail("psc-projection", log.status());
  const bool rebuild_only = flags.GetBool("rebuild-only");
  std::optional<vault::KeyStore> keys;
  if (!flags.Get("key-store").empty()) {
    auto opened = server::OpenKeyStore(flags, "");
    if (!opened.ok()) return server::Fail("psc-projection", opened.status());
    keys = std::move(*opened);
  }
  auto model = server::OpenReadModel(flags.Get("data-dir") + "/readmodel", **log,
                                     flags.GetBool("rebuild") || rebuild_only,
                                     static_cast<size_t>(*budget) << 20, metrics,
                                     keys ? &*keys : nullptr);
  if (!model.ok()) return server::Fail("psc-projection", model.status());
  (*telemetry)->AddCollectable(projection::ReadModelCollector(**model));
  if (rebuild_only) return 0;
  std::cout << "psc-projection: event log " << (*log)->Describe() << std::endl;

  projection::ProjectorOptions projector_options;
  projector_options.metrics = metrics;
  projection::Projector projector(**model, **log, projector_options);
  if (auto s = projector.Start(); !s.ok()) return server::Fail("psc-projection", s);
  server::QueryServiceImpl query(**model, **log, *access->guard);
  server::PublicationServiceImpl publication(**model, **log, SystemClock::Instance(),
                                             *access->guard);
  access->server.telemetry = telemetry->get();
  auto status = server::ServeUntilSignal(
      {server::ServiceOf(query),
       server::ServiceOf(publication)},
      access->server, [&] { return projector.caught_up() && projector.health().ok(); },
      [&] { return "log position " + std::to_string((*model)->applied().value()) + " applied"; });
  (*telemetry)->Close();
  projector.Stop();
  if (!status.ok()) return server::Fail("psc-projection", status);
  if (auto s = projector.health(); !s.ok()) return server::Fail("psc-projection", s);
  return 0;
}
