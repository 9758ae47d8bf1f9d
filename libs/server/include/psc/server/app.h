// What the psc server programs share: opening the log named by their flags,
// opening (or rebuilding) a read model with progress, and serving until
// SIGTERM with health that follows readiness.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "psc/eventlog/event_log.h"
#include "psc/projection/read_model.h"
#include "psc/server/flags.h"
#include "psc/server/grpc_server.h"
#include "psc/server/guard.h"
#include "psc/vault/key_store.h"
#include "psc/domain/validation.h"
#include "psc/access/policy.h"

namespace psc::server {

// --kafka-brokers, --kafka-topic.
void AddKafkaFlags(Flags& flags);

// Kafka when --kafka-brokers is set, otherwise the embedded journal in
// `journal_dir` (opened read-only when `read_only`). The log's metrics
// register in `metrics` when given.
absl::StatusOr<std::unique_ptr<eventlog::EventLog>> OpenLog(const Flags& flags,
                                                            const std::string& journal_dir,
                                                            bool read_only = false,
                                                            prometheus::Registry* metrics = nullptr);

// Opens the read model in `dir`. With `rebuild`, deletes it first and folds
// the whole log into a fresh one, printing progress to stderr about once a
// second and a summary at the end (and to the projection's metrics in
// `metrics` when given). Learning text is unsealed with keys of
// `key_store` when given.
absl::StatusOr<std::unique_ptr<projection::ReadModel>> OpenReadModel(
    const std::string& dir, eventlog::EventLog& log, bool rebuild, size_t memory_budget_bytes,
    prometheus::Registry* metrics = nullptr, const vault::KeyStore* key_store = nullptr);

// --key-store: the folder of learning-text keys, `default_dir` unless set.
void AddKeyStoreFlag(Flags& flags, const std::string& help);
// Opens the folder --key-store names, or `fallback` when it is empty.
absl::StatusOr<vault::KeyStore> OpenKeyStore(const Flags& flags, const std::string& fallback);

// Starts `services` as `options` say (address, TLS, telemetry), reports
// SERVING once `ready()` is true (polled), and returns after SIGINT/SIGTERM
// once the server has drained (NOT_SERVING first, then up to 5 s for
// running calls). Call BlockTerminationSignals() first thing in main.
absl::Status ServeUntilSignal(const std::vector<Served>& services,
                              const GrpcServerOptions& options, const std::function<bool()>& ready,
                              const std::function<std::string()>& ready_message);

// --policy, --tls-cert, --tls-key, --tls-client-ca; with `submissions`
// (a server that takes them), --max-rows-per-request and
// --max-request-bytes too.
void AddAccessFlags(Flags& flags, bool submissions);

// Who may call a server, over what, and how much at once.
struct Access {
  std::unique_ptr<access::PolicyFile> policy;  // null: the single-user default
  std::unique_ptr<Guard> guard;
  GrpcServerOptions server;  // listen (from --listen), TLS, message bound
  SubmissionLimits limits;
};

// Reads the access flags and --listen. With --policy, TLS is required
// (--tls-cert and --tls-key; --tls-client-ca for mutual TLS) and callers
// are who the policy says. Without, the server is the single-user default:
// every caller is `local` with every right, --listen must be a loopback
// address, and a line on stdout says so. Errors name the flag.
absl::StatusOr<Access> OpenAccess(const Flags& flags, const std::string& program);

// --metrics-listen.
void AddMetricsFlags(Flags& flags);

// The process's metrics; with --metrics-listen set, served on /metrics
// there, and `metrics on http://HOST:PORT/metrics` printed on stdout.
absl::StatusOr<std::unique_ptr<telemetry::Telemetry>> StartTelemetry(const Flags& flags,
                                                                     const std::string& program);

// Prints `program: message` to stderr and returns 1.
int Fail(const char* program, const absl::Status& status);

}  // namespace psc::server
