// The event log's metrics (docs/metrics.md): appends, their latency and the
// events made durable together, and for Kafka the producer's queue and
// delivery errors. The log backends call these methods; nothing else does.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace psc::eventlog {

class LogProbe {
 public:
  // Registers in `registry`; null keeps the metrics in a registry of the
  // probe's own (counted, never served). `backend` is "journal" or "kafka";
  // only "kafka" registers the producer metrics.
  LogProbe(prometheus::Registry* registry, const std::string& backend);
  ~LogProbe();
  LogProbe(const LogProbe&) = delete;
  LogProbe& operator=(const LogProbe&) = delete;

  // One event is durable, `seconds` after its append was called.
  void Appended(double seconds);
  // One append failed.
  void AppendFailed();
  // `events` became durable together (one sync, one delivery poll).
  void Durable(size_t events);
  // Kafka: messages in the producer's queue; a message not acknowledged.
  void ProducerQueue(int64_t messages);
  void DeliveryFailed();

 private:
  std::shared_ptr<prometheus::Registry> own_;
  prometheus::Counter* appends_;
  prometheus::Counter* errors_;
  prometheus::Histogram* latency_;
  prometheus::Histogram* batch_;
  prometheus::Gauge* queue_ = nullptr;
  prometheus::Counter* delivery_errors_ = nullptr;
};

}  // namespace psc::eventlog
