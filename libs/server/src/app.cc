#include "psc/server/app.h"

#include <filesystem>
#include <iostream>
#include <thread>

#include "psc/domain/number_format.h"
#include "psc/domain/strings.h"
#include "psc/eventlog/journal.h"
#include "psc/eventlog/kafka_log.h"
#include "psc/projection/projector.h"

namespace psc::server {

void AddKafkaFlags(Flags& flags) {
  flags.Add("kafka-brokers", "",
            "Kafka bootstrap servers (HOST:PORT,...): use Kafka as the event log instead of the "
            "embedded journal");
  flags.Add("kafka-topic", "psc.events",
            "the event topic; it must have exactly one partition and keep every event");
  flags.AddBool("kafka-create-topic",
                "create the topic (one partition) when absent; for development, production "
                "topics are created by operators");
}

absl::StatusOr<std::unique_ptr<eventlog::EventLog>> OpenLog(const Flags& flags,
                                                            const std::string& journal_dir,
                                                            bool read_only,
                                                            prometheus::Registry* metrics) {
  if (!flags.Get("kafka-brokers").empty()) {
    eventlog::KafkaOptions options;
    options.brokers = flags.Get("kafka-brokers");
    options.topic = flags.Get("kafka-topic");
    options.create_topic = flags.GetBool("kafka-create-topic");
    options.metrics = metrics;
    auto kafka = eventlog::KafkaLog::Open(options);
    if (!kafka.ok()) return kafka.status();
    return std::unique_ptr<eventlog::EventLog>(std::move(*kafka));
  }
  std::error_code ec;
  if (!read_only) std::filesystem::create_directories(journal_dir, ec);
  eventlog::Journal::Options options;
  options.read_only = read_only;
  options.metrics = metrics;
  auto journal = eventlog::Journal::Open(journal_dir, options);
  if (!journal.ok()) return journal.status();
  return std::unique_ptr<eventlog::EventLog>(std::move(*journal));
}

absl::StatusOr<std::unique_ptr<projection::ReadModel>> OpenReadModel(
    const std::string& dir, eventlog::EventLog& log, bool rebuild, size_t memory_budget_bytes,
    prometheus::Registry* metrics) {
  projection::ReadModelOptions options;
  options.memory_budget_bytes = memory_budget_bytes;
  std::error_code ec;
  if (!rebuild) {
    std::filesystem::create_directories(dir, ec);
    return projection::ReadModel::Open(dir, options);
  }
  std::filesystem::remove_all(dir, ec);
  if (!ec) std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(StrCat("cannot remove ", dir, ": ", ec.message()));
  auto model = projection::ReadModel::Open(dir, options);
  if (!model.ok()) return model.status();
  std::cerr << "rebuild: folding " << log.Describe() << " into a fresh read model in " << dir
            << "\n";
  projection::ProjectorOptions projector_options;
  projector_options.metrics = metrics;
  projection::Projector projector(**model, log, projector_options);
  auto status = projector.CatchUp(
      [](const projection::Progress& p) {
        const double pct = p.target.value() == 0
                               ? 100.0
                               : 100.0 * static_cast<double>(p.applied.value()) /
                                     static_cast<double>(p.target.value());
        const double rate = p.seconds > 0 ? static_cast<double>(p.events) / p.seconds : 0;
        char line[200];
        std::snprintf(line, sizeof line, "rebuild: %s / %s events (%.1f%%), %.1f MiB, %s events/s\n",
                      Grouped(p.applied.value()).c_str(), Grouped(p.target.value()).c_str(), pct,
                      static_cast<double>(p.bytes) / (1 << 20),
                      Grouped(static_cast<uint64_t>(rate)).c_str());
        std::cerr << line;
      },
      std::chrono::seconds(1));
  if (!status.ok()) return status;
  if (auto s = (*model)->Flush(); !s.ok()) return s;
  auto view = (*model)->Snapshot();
  std::cerr << "rebuild: done at position " << view.position().value() << ", "
            << Grouped(view.observation_count()) << " observations stored\n";
  return model;
}

absl::Status ServeUntilSignal(const std::vector<Served>& services,
                              const std::string& listen, const std::function<bool()>& ready,
                              const std::function<std::string()>& ready_message,
                              telemetry::Telemetry* telemetry) {
  GrpcServerOptions options;
  options.listen = listen;
  options.telemetry = telemetry;
  auto server = GrpcServer::Start(services, options);
  if (!server.ok()) return server.status();
  std::atomic<bool> stopping{false};
  std::thread readiness([&] {
    while (!stopping) {
      if (ready()) {
        (*server)->SetServing(true);
        std::cout << "ready: " << ready_message() << std::endl;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  int signal = WaitForTerminationSignal();
  stopping = true;
  readiness.join();
  std::cerr << "signal " << signal << ": draining\n";
  (*server)->Shutdown(std::chrono::seconds(5));
  return absl::OkStatus();
}

void AddMetricsFlags(Flags& flags) {
  flags.Add("metrics-listen", "",
            "serve Prometheus metrics on http://HOST:PORT/metrics (port 0 picks a free port); "
            "empty: off");
}

absl::StatusOr<std::unique_ptr<telemetry::Telemetry>> StartTelemetry(const Flags& flags,
                                                                     const std::string& program) {
  auto telemetry = std::make_unique<telemetry::Telemetry>(program);
  const std::string& listen = flags.Get("metrics-listen");
  if (listen.empty()) return telemetry;
  auto bound = telemetry->Serve(listen);
  if (!bound.ok()) return bound.status();
  std::cout << "metrics on http://" << *bound << "/metrics" << std::endl;
  return telemetry;
}

int Fail(const char* program, const absl::Status& status) {
  std::cerr << program << ": " << status.message() << "\n";
  return 1;
}

}  // namespace psc::server
