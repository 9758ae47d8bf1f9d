#include "psc/server/app.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <iostream>
#include <thread>

#include "psc/domain/clock.h"
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
    prometheus::Registry* metrics, const vault::KeyStore* key_store) {
  projection::ReadModelOptions options;
  options.memory_budget_bytes = memory_budget_bytes;
  options.key_store = key_store;
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
                              const GrpcServerOptions& options, const std::function<bool()>& ready,
                              const std::function<std::string()>& ready_message) {
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

void AddAccessFlags(Flags& flags, bool submissions) {
  flags.Add("policy", "",
            "access policy file (JSON, psc.v1.AccessPolicy), reloaded when edited: callers "
            "authenticate and are held to their role and scope; needs --tls-cert and --tls-key. "
            "Empty: single-user, every caller 'local' with every right, loopback only");
  flags.Add("tls-cert", "", "the server's TLS certificate chain (PEM file)");
  flags.Add("tls-key", "", "the server's TLS private key (PEM file)");
  flags.Add("tls-client-ca", "",
            "CA certificates (PEM file) whose client certificates are accepted (mutual TLS); "
            "empty: callers authenticate with bearer tokens only");
  if (!submissions) return;
  flags.Add("max-rows-per-request", "10000",
            "most rows (or keys) one submission or withdrawal may carry");
  flags.Add("max-request-bytes", "4194304", "largest submission accepted, bytes");
}

namespace {

// True for an address only this machine can reach.
bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "[::1]" || host == "::1" || host.rfind("127.", 0) == 0;
}

absl::StatusOr<std::string> ReadPem(const Flags& flags, const std::string& flag) {
  std::ifstream in(flags.Get(flag), std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) {
    return absl::InvalidArgumentError(StrCat("--", flag, ": cannot read ", Quote(flags.Get(flag))));
  }
  if (text.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(
        StrCat("--", flag, ": ", Quote(flags.Get(flag)), " is not a PEM file"));
  }
  return text.str();
}

}  // namespace

absl::StatusOr<Access> OpenAccess(const Flags& flags, const std::string& program) {
  Access access;
  access.server.listen = flags.Get("listen");
  auto host_port = ParseHostPort(access.server.listen, "--listen");
  if (!host_port.ok()) return host_port.status();
  if (flags.Has("max-rows-per-request")) {
    auto rows = flags.GetInt("max-rows-per-request");
    if (!rows.ok()) return rows.status();
    auto bytes = flags.GetInt("max-request-bytes");
    if (!bytes.ok()) return bytes.status();
    if (*rows < 1) return absl::InvalidArgumentError("--max-rows-per-request must be at least 1");
    if (*bytes < 1024 || *bytes > (256 << 20)) {
      return absl::InvalidArgumentError("--max-request-bytes must be 1024..268435456");
    }
    access.limits.max_rows = static_cast<size_t>(*rows);
    access.limits.max_bytes = static_cast<size_t>(*bytes);
    // The transport takes twice the bound, so that a request a little over
    // it gets the refusal that names the field, not a bare transport error.
    access.server.max_receive_bytes = static_cast<int>(*bytes) * 2;
  }

  const bool tls_flags = !flags.Get("tls-cert").empty() || !flags.Get("tls-key").empty() ||
                         !flags.Get("tls-client-ca").empty();
  if (flags.Get("policy").empty()) {
    if (tls_flags) {
      return absl::InvalidArgumentError(
          "--tls-cert, --tls-key and --tls-client-ca need --policy: over TLS, callers "
          "authenticate and the policy says who they are");
    }
    if (!IsLoopback(host_port->first)) {
      return absl::InvalidArgumentError(StrCat(
          "--listen ", access.server.listen,
          " is not a loopback address: without --policy (and TLS) anyone who can connect "
          "could act for any organisation; give --policy, --tls-cert and --tls-key"));
    }
    access.guard = std::make_unique<Guard>();
    std::cout << program
              << ": single-user: no --policy, so every caller is 'local' with every right "
                 "(loopback only)"
              << std::endl;
    return access;
  }
  if (flags.Get("tls-cert").empty() || flags.Get("tls-key").empty()) {
    return absl::InvalidArgumentError(
        "--policy needs --tls-cert and --tls-key: certificates and tokens travel over TLS only");
  }
  auto cert = ReadPem(flags, "tls-cert");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(flags, "tls-key");
  if (!key.ok()) return key.status();
  access.server.tls.cert_chain = std::move(*cert);
  access.server.tls.private_key = std::move(*key);
  if (!flags.Get("tls-client-ca").empty()) {
    auto ca = ReadPem(flags, "tls-client-ca");
    if (!ca.ok()) return ca.status();
    access.server.tls.client_ca = std::move(*ca);
  }
  auto policy = access::PolicyFile::Open(flags.Get("policy"));
  if (!policy.ok()) {
    return absl::Status(policy.status().code(), StrCat("--policy: ", policy.status().message()));
  }
  access.policy = std::move(*policy);
  access.guard = std::make_unique<Guard>(*access.policy, SystemClock::Instance());
  std::cout << program << ": TLS" << (access.server.tls.client_ca.empty() ? "" : " (mutual)")
            << ", callers under the policy in " << flags.Get("policy") << " ("
            << access.policy->Current()->principals().size() << " principals)" << std::endl;
  return access;
}

void AddKeyStoreFlag(Flags& flags, const std::string& help) {
  flags.Add("key-store", "", help);
}

absl::StatusOr<vault::KeyStore> OpenKeyStore(const Flags& flags, const std::string& fallback) {
  const std::string& dir = flags.Get("key-store").empty() ? fallback : flags.Get("key-store");
  auto store = vault::KeyStore::Open(dir);
  if (!store.ok()) {
    return absl::Status(store.status().code(), StrCat("--key-store: ", store.status().message()));
  }
  return store;
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
