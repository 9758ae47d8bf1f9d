// The gateway's metrics (docs/metrics.md): write requests and their rows by
// outcome, refusals by reason, and the position of the gateway's fold. The
// Gateway calls these methods; nothing else does.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"

namespace prometheus {
class Counter;
template <typename T>
class Family;
class Gauge;
class Registry;
}  // namespace prometheus

namespace psc::gateway {

// What a write request asks for; the `kind` label.
enum class RequestKind { kObservations, kWithdrawal, kLearning, kCatalogue, kSpcLimits, kErasure };

class GatewayProbe {
 public:
  // Registers in `registry`; null keeps the metrics in a registry of the
  // probe's own (counted, never served).
  explicit GatewayProbe(prometheus::Registry* registry);
  ~GatewayProbe();
  GatewayProbe(const GatewayProbe&) = delete;
  GatewayProbe& operator=(const GatewayProbe&) = delete;

  // The answer to one request of `rows` rows: accepted, duplicate (a
  // receipt with `duplicate` set), refused (bad input: the status names the
  // field and reason) or failed (the log could not take it).
  void Answered(RequestKind kind, uint32_t rows, bool ok, bool duplicate,
                const absl::Status& status);
  void Folded(uint64_t position);

  // The `reason` label of a refusal: the first field violation's reason,
  // otherwise the status code's name; "OTHER" for anything not shaped like
  // a reason code (labels stay bounded).
  static std::string ReasonOf(const absl::Status& status);
  // Whether a status is a refusal of the request (as opposed to a failure
  // of the service).
  static bool IsRefusal(const absl::Status& status);

 private:
  std::shared_ptr<prometheus::Registry> own_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Counter>* rows_;
  prometheus::Family<prometheus::Counter>* refusals_;
  prometheus::Gauge* position_;
};

}  // namespace psc::gateway
