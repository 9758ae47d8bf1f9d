// The write side: validates requests against the catalogue and appends one
// event per accepted request to the log, answering only once the event is
// durable (DESIGN invariants 1 and 2).
//
// The gateway keeps its own small fold of the log (the catalogue and the
// receipt of every request id), built at Start() and then tailed, so that
// several gateway replicas on one Kafka topic agree: the catalogue a request
// is validated against is always a prefix of the log, and a request id
// already on the log answers its original receipt and appends nothing.
//
// Races between replicas: two replicas may append the same new submission id
// at once; log order decides (the first is applied, the second is a no-op at
// every fold and every gateway then answers the first receipt).
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "psc/domain/catalogue.h"
#include "psc/domain/clock.h"
#include "psc/domain/validation.h"
#include "psc/eventlog/event_log.h"
#include "psc/gateway/probe.h"
#include "psc/vault/key_store.h"
#include "psc/v1/events.pb.h"
#include "psc/v1/receipt.pb.h"

namespace psc::gateway {

struct GatewayOptions {
  SubmissionLimits limits;
  // How long one read of the tail waits when the log is idle.
  std::chrono::milliseconds idle_wait{100};
  // Where the gateway's metrics register (GatewayProbe); null: not served.
  prometheus::Registry* metrics = nullptr;
  // Keys of learning text (not owned). Learning is refused without one:
  // its text is never appended in the clear.
  vault::KeyStore* key_store = nullptr;
};

class Gateway {
 public:
  Gateway(eventlog::EventLog& log, const Clock& clock, GatewayOptions options = {});
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Folds the log up to its current end, then keeps tailing it in the
  // background until Stop().
  absl::Status Start();
  void Stop();
  // OK while tailing; the error that stopped the tail otherwise (the
  // gateway then refuses requests with UNAVAILABLE).
  absl::Status health() const;

  // Validates and appends a batch of observations, all or nothing.
  // `request_bytes` is the size of the request as received (for the 4 MiB
  // bound). A known submission id answers its original receipt with
  // `duplicate` set.
  absl::StatusOr<v1::Receipt> SubmitObservations(v1::ObservationsSubmitted batch,
                                                 size_t request_bytes,
                                                 const std::string& principal);
  // Validates the batch as SubmitObservations would and appends nothing: a
  // receipt with `dry_run` set (no position), or the same refusal.
  absl::StatusOr<v1::Receipt> DryRunObservations(const v1::ObservationsSubmitted& batch,
                                                 size_t request_bytes) const;
  // Validates a learning, seals its free text under a new key of the key
  // store and appends it without the text in the clear.
  absl::StatusOr<v1::Receipt> ShareLearning(v1::Learning learning, const std::string& principal);
  // Erases a learning's text: destroys its key, then appends the erasure.
  // NOT_FOUND for a learning not on the log (as far as the fold has read).
  absl::StatusOr<v1::Receipt> EraseLearning(v1::LearningErased erasure,
                                            const std::string& principal);
  // The collaborative that shared a learning on the log, or nullopt.
  std::optional<std::string> CollaborativeOfLearning(const std::string& learning_id) const;
  // Withdraws stored values, all or nothing; a known withdrawal id answers
  // its original receipt (whose row count, like every receipt here, is the
  // number of keys named).
  absl::StatusOr<v1::Receipt> WithdrawObservations(v1::ObservationsWithdrawn withdrawal,
                                                   const std::string& principal);
  // Catalogue changes are serialised: each is checked against the catalogue
  // including every earlier change, and answered once this gateway's fold
  // has applied it.
  absl::StatusOr<v1::Receipt> ChangeCatalogue(v1::CatalogueChanged change,
                                              const std::string& principal);

  // Rebases or fixes the limits of one series' XmR chart; a known change id
  // answers its original receipt.
  absl::StatusOr<v1::Receipt> ChangeSpcLimits(v1::SpcLimitsChanged change,
                                              const std::string& principal);

  // The catalogue as of the fold's position.
  std::shared_ptr<const Catalogue> catalogue() const;
  // The bounds of one request.
  const SubmissionLimits& limits() const { return options_.limits; }
  // Position of the fold.
  LogPosition position() const;
  // Waits until the fold reached `position` or the deadline passed.
  bool WaitFor(LogPosition position, std::chrono::steady_clock::time_point deadline) const;

 private:
  struct InFlight;
  // Appends `envelope` under request key `key` unless the key is known or in
  // flight; `rows` is the receipt's row count.
  absl::StatusOr<v1::Receipt> AppendOnce(const std::string& key, const std::string& id,
                                         uint32_t rows, v1::Envelope envelope,
                                         const std::function<absl::Status(const Catalogue&)>& validate);
  v1::Envelope NewEnvelope(const std::string& principal) const;
  // Counts the answer to one request in the probe and returns it.
  absl::StatusOr<v1::Receipt> Answer(RequestKind kind, uint32_t rows,
                                     absl::StatusOr<v1::Receipt> result);
  // Applies one record to the fold (caller holds mu_).
  absl::Status FoldLocked(const eventlog::Record& record);
  void Tail(std::unique_ptr<eventlog::LogReader> reader);

  eventlog::EventLog& log_;
  const Clock& clock_;
  GatewayOptions options_;
  GatewayProbe probe_;

  mutable std::mutex mu_;
  mutable std::condition_variable folded_cv_;
  uint64_t position_ = 0;
  std::shared_ptr<const Catalogue> catalogue_;
  // Request key ('s'/'l'/'c'/'w'/'x' + id) -> its receipt, for every request on the
  // log.
  std::unordered_map<std::string, v1::Receipt> receipts_;
  // Learning on the log: id -> (collaborative, key id).
  struct SharedLearning {
    std::string collaborative_id;
    std::string key_id;
  };
  std::unordered_map<std::string, SharedLearning> learnings_;
  std::unordered_map<std::string, std::shared_ptr<InFlight>> in_flight_;
  // Events this gateway appended and validated itself, not yet folded.
  std::unordered_set<std::string> own_events_;
  absl::Status health_;

  std::mutex catalogue_change_mu_;
  std::thread tail_;
  std::atomic<bool> stop_{false};
};

}  // namespace psc::gateway
