#include "psc/eventlog/probe.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace psc::eventlog {

LogProbe::LogProbe(prometheus::Registry* registry, const std::string& backend) {
  if (registry == nullptr) {
    own_ = std::make_shared<prometheus::Registry>();
    registry = own_.get();
  }
  const prometheus::Labels labels{{"backend", backend}};
  appends_ = &prometheus::BuildCounter()
                  .Name("psc_log_appends_total")
                  .Help("Events appended and durable")
                  .Register(*registry)
                  .Add(labels);
  errors_ = &prometheus::BuildCounter()
                 .Name("psc_log_append_errors_total")
                 .Help("Appends that failed (the caller answered an error)")
                 .Register(*registry)
                 .Add(labels);
  latency_ = &prometheus::BuildHistogram()
                  .Name("psc_log_append_duration_seconds")
                  .Help("From an append's call until its event is durable")
                  .Register(*registry)
                  .Add(labels, prometheus::Histogram::BucketBoundaries{
                                   0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                   0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  batch_ = &prometheus::BuildHistogram()
                .Name("psc_log_append_batch_events")
                .Help("Events made durable together: one group-commit sync of the journal, one "
                      "delivery-report poll of Kafka")
                .Register(*registry)
                .Add(labels, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128,
                                                                     256, 512, 1024});
  if (backend == "kafka") {
    queue_ = &prometheus::BuildGauge()
                  .Name("psc_kafka_producer_queue_messages")
                  .Help("Messages in the Kafka producer's queue, not yet acknowledged")
                  .Register(*registry)
                  .Add({});
    delivery_errors_ = &prometheus::BuildCounter()
                            .Name("psc_kafka_delivery_errors_total")
                            .Help("Messages the Kafka brokers did not acknowledge")
                            .Register(*registry)
                            .Add({});
  }
}

LogProbe::~LogProbe() = default;

void LogProbe::Appended(double seconds) {
  appends_->Increment();
  latency_->Observe(seconds);
}

void LogProbe::AppendFailed() { errors_->Increment(); }

void LogProbe::Durable(size_t events) { batch_->Observe(static_cast<double>(events)); }

void LogProbe::ProducerQueue(int64_t messages) {
  if (queue_ != nullptr) queue_->Set(static_cast<double>(messages));
}

void LogProbe::DeliveryFailed() {
  if (delivery_errors_ != nullptr) delivery_errors_->Increment();
}

}  // namespace psc::eventlog
