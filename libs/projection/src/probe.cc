#include "psc/projection/probe.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <iostream>

#include "psc/projection/programme.h"

namespace psc::projection {

ProjectionProbe::ProjectionProbe(prometheus::Registry* registry) {
  if (registry == nullptr) {
    own_ = std::make_shared<prometheus::Registry>();
    registry = own_.get();
  }
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry).Add({});
  };
  applied_ = &prometheus::BuildCounter()
                  .Name("psc_projection_applied_events_total")
                  .Help("Events folded into the read model")
                  .Register(*registry)
                  .Add({});
  refused_ = &prometheus::BuildCounter()
                  .Name("psc_projection_refused_events_total")
                  .Help("Events refused at replay (recorded, not applied)")
                  .Register(*registry)
                  .Add({});
  apply_seconds_ = &prometheus::BuildHistogram()
                        .Name("psc_projection_apply_duration_seconds")
                        .Help("One WriteBatch: decode, fold and write a run of events")
                        .Register(*registry)
                        .Add({}, prometheus::Histogram::BucketBoundaries{
                                     0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
  apply_events_ = &prometheus::BuildHistogram()
                       .Name("psc_projection_apply_batch_events")
                       .Help("Events per WriteBatch")
                       .Register(*registry)
                       .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64,
                                                                        128, 256, 512, 1024});
  position_ = gauge("psc_projection_position", "Log position the read model has applied");
  log_end_ = gauge("psc_projection_log_end_position",
                   "Log end last seen by the projection (refreshed at least once a second)");
  lag_events_ = gauge("psc_projection_lag_events", "Log end minus applied position");
  lag_seconds_ = gauge("psc_projection_lag_seconds",
                       "0 when caught up; otherwise seconds since the last applied event was "
                       "recorded (an upper bound of how stale queries are)");
  caught_up_ = gauge("psc_projection_caught_up",
                     "1 once the log end seen at start-up is applied (health SERVING from then)");
  rebuild_applied_ = gauge("psc_projection_rebuild_applied_events",
                           "Events replayed by the running or last --rebuild");
  rebuild_target_ = gauge("psc_projection_rebuild_target_events",
                          "Log end the rebuild replays to (0: no rebuild in this process)");
}

ProjectionProbe::~ProjectionProbe() = default;

void ProjectionProbe::Applied(size_t events, uint64_t refused, double seconds) {
  applied_->Increment(static_cast<double>(events));
  if (refused > 0) refused_->Increment(static_cast<double>(refused));
  apply_seconds_->Observe(seconds);
  apply_events_->Observe(static_cast<double>(events));
}

void ProjectionProbe::Position(uint64_t applied, uint64_t log_end, double lag_seconds) {
  if (log_end < applied) log_end = applied;
  position_->Set(static_cast<double>(applied));
  log_end_->Set(static_cast<double>(log_end));
  lag_events_->Set(static_cast<double>(log_end - applied));
  lag_seconds_->Set(lag_seconds);
}

void ProjectionProbe::CaughtUp(bool caught_up) { caught_up_->Set(caught_up ? 1 : 0); }

void ProjectionProbe::Rebuild(uint64_t applied, uint64_t target) {
  rebuild_applied_->Set(static_cast<double>(applied));
  rebuild_target_->Set(static_cast<double>(target));
}

namespace {

double Yyyymm(Month m) { return m.year() * 100 + m.month(); }

class ReadModelCollectorImpl final : public prometheus::Collectable {
 public:
  explicit ReadModelCollectorImpl(const ReadModel& model) : model_(model) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    // family() hands out references into `out`: no reallocation may move
    // them (14 families).
    out.reserve(16);
    auto family = [&](const char* name, const char* help) -> prometheus::MetricFamily& {
      prometheus::MetricFamily f;
      f.name = name;
      f.help = help;
      f.type = prometheus::MetricType::Gauge;
      out.push_back(std::move(f));
      return out.back();
    };
    auto add = [](prometheus::MetricFamily& f, double value,
                  std::vector<prometheus::ClientMetric::Label> labels = {}) {
      prometheus::ClientMetric metric;
      metric.label = std::move(labels);
      metric.gauge.value = value;
      f.metric.push_back(std::move(metric));
    };

    const StorageStats storage = model_.Storage();
    {
      auto& keys = family("psc_readmodel_keys",
                          "RocksDB's estimate of the keys in each column family");
      for (const auto& [cf, n] : storage.keys) {
        add(keys, static_cast<double>(n), {{"column_family", cf}});
      }
    }
    add(family("psc_readmodel_disk_bytes", "Size of the read model's live SST files"),
        static_cast<double>(storage.disk_bytes));
    {
      auto& memory = family("psc_readmodel_memory_bytes",
                            "RocksDB memory: memtables and block cache (within "
                            "--memory-budget-mib)");
      add(memory, static_cast<double>(storage.memtable_bytes), {{"kind", "memtables"}});
      add(memory, static_cast<double>(storage.block_cache_bytes), {{"kind", "block_cache"}});
    }

    absl::StatusOr<ProgrammeFigures> programme;
    {
      View view = model_.Snapshot();
      add(family("psc_readmodel_observations", "Distinct observation keys stored"),
          static_cast<double>(view.observation_count()));
      programme = ProgrammeOf(view);
    }
    if (!programme.ok()) {
      std::cerr << "metrics: programme figures unavailable: " << programme.status().message()
                << "\n";
      return out;
    }
    add(family("psc_programme_month",
               "The programme's current month, as YYYYMM: the latest month holding any value"),
        programme->month ? Yyyymm(*programme->month) : 0);
    auto& reported = family("psc_programme_values_reported",
                            "Values (organisation x measure) stored for the programme month");
    auto& expected = family("psc_programme_values_expected",
                            "Enrolled organisation x measure pairs for the programme month");
    auto& orgs_reporting = family("psc_programme_organisations_reporting",
                                  "Distinct organisations with any value in the programme month");
    auto& orgs_enrolled =
        family("psc_programme_organisations_enrolled",
               "Distinct organisations enrolled in any measure in the programme month");
    for (const auto& [id, area] : programme->areas) {
      const std::vector<prometheus::ClientMetric::Label> label{{"collaborative", id}};
      add(reported, static_cast<double>(area.values_reported), label);
      add(expected, static_cast<double>(area.values_expected), label);
      add(orgs_reporting, static_cast<double>(area.organisations_reporting), label);
      add(orgs_enrolled, static_cast<double>(area.organisations_enrolled), label);
    }
    {
      auto& learning = family("psc_programme_learning_items",
                              "Learning submissions stored, by topic");
      for (const auto& [topic, n] : programme->learning_by_topic) {
        add(learning, static_cast<double>(n), {{"topic", topic}});
      }
    }
    {
      auto& value = family("psc_programme_national_value",
                           "A measure's national value in its latest month with data, in "
                           "display units");
      for (const auto& [measure, v] : programme->national) {
        add(value, v.value, {{"measure", measure}});
      }
    }
    {
      auto& month = family("psc_programme_national_value_month",
                           "The month of psc_programme_national_value, as YYYYMM");
      for (const auto& [measure, v] : programme->national) {
        add(month, Yyyymm(v.month), {{"measure", measure}});
      }
    }
    return out;
  }

 private:
  const ReadModel& model_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> ReadModelCollector(const ReadModel& model) {
  return std::make_shared<ReadModelCollectorImpl>(model);
}

}  // namespace psc::projection
