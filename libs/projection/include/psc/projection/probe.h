// The projection's metrics (docs/metrics.md): events applied, position and
// lag behind the log end, rebuild progress (ProjectionProbe, fed by the
// Projector), and, read at every scrape, the read model's storage and the
// programme figures (ReadModelCollector).
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "psc/projection/read_model.h"

namespace prometheus {
class Collectable;
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace psc::projection {

class ProjectionProbe {
 public:
  // Registers in `registry`; null keeps the metrics in a registry of the
  // probe's own (counted, never served). Probes on one registry share their
  // metrics.
  explicit ProjectionProbe(prometheus::Registry* registry);
  ~ProjectionProbe();
  ProjectionProbe(const ProjectionProbe&) = delete;
  ProjectionProbe& operator=(const ProjectionProbe&) = delete;

  // One WriteBatch: `events` folded (of which `refused` were refused) in
  // `seconds`.
  void Applied(size_t events, uint64_t refused, double seconds);
  // Where the read model stands against the log end; `lag_seconds` is 0
  // when caught up.
  void Position(uint64_t applied, uint64_t log_end, double lag_seconds);
  void CaughtUp(bool caught_up);
  // A rebuild's progress: `applied` of `target` events.
  void Rebuild(uint64_t applied, uint64_t target);

 private:
  std::shared_ptr<prometheus::Registry> own_;
  prometheus::Counter* applied_;
  prometheus::Counter* refused_;
  prometheus::Histogram* apply_seconds_;
  prometheus::Histogram* apply_events_;
  prometheus::Gauge* position_;
  prometheus::Gauge* log_end_;
  prometheus::Gauge* lag_events_;
  prometheus::Gauge* lag_seconds_;
  prometheus::Gauge* caught_up_;
  prometheus::Gauge* rebuild_applied_;
  prometheus::Gauge* rebuild_target_;
};

// psc_readmodel_* and psc_programme_*, read from `model` at every scrape
// (it must outlive the collector). Register it with
// telemetry::Telemetry::AddCollectable.
std::shared_ptr<prometheus::Collectable> ReadModelCollector(const ReadModel& model);

}  // namespace psc::projection
