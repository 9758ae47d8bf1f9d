// Micro-benchmarks of the hot paths behind psc-bench's figures: decoding an
// event, validating a request, applying events to the read model, and
// building the quarterly report. Items are observation rows (per second in
// the output), on the benchmark's own dataset at 100k rows.
//
//   psc-bench-micro [--benchmark_filter=Apply] [--benchmark_min_time=2]
#include <benchmark/benchmark.h>

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <optional>

#include "psc/domain/catalogue.h"
#include "psc/domain/strings.h"
#include "psc/domain/validation.h"
#include "psc/eventlog/event_log.h"
#include "psc/projection/read_model.h"
#include "psc/report/report.h"
#include "psc/testing/process.h"
#include "results.h"
#include "workload.h"

namespace psc::bench {
namespace {

// The dataset and its 1,000-row requests, built once.
struct Data {
  Workload workload = MakeWorkload(100'000, 20250401);
  Plan plan{workload, workload.rows.size(), 1000, "m"};
  Catalogue catalogue;
  std::vector<std::string> catalogue_events;      // the catalogue changes as events
  std::vector<v1::ObservationsSubmitted> batches;  // the requests, no resends
  std::vector<std::string> events;                 // the same as events

  Data() {
    for (const auto& change : workload.catalogue) {
      catalogue.Apply(change);
      v1::Envelope envelope;
      *envelope.mutable_catalogue_changed() = change;
      catalogue_events.push_back(envelope.SerializeAsString());
    }
    for (size_t i = 0; i < plan.size(); ++i) {
      if (plan.request(i).resend) continue;
      plan.Fill(i, batches.emplace_back());
      events.push_back(plan.Event(i));
    }
  }
  static const Data& Get() {
    static const Data* data = new Data();
    return *data;
  }
};

void BM_DecodeEvent(benchmark::State& state) {
  const Data& d = Data::Get();
  size_t i = 0;
  int64_t rows = 0;
  for (auto _ : state) {
    v1::Envelope envelope;
    benchmark::DoNotOptimize(envelope.ParseFromString(d.events[i++ % d.events.size()]));
    rows += envelope.observations_submitted().rows_size();
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_DecodeEvent);

void BM_ValidateRequest(benchmark::State& state) {
  const Data& d = Data::Get();
  size_t i = 0;
  int64_t rows = 0;
  for (auto _ : state) {
    const auto& batch = d.batches[i++ % d.batches.size()];
    benchmark::DoNotOptimize(ValidateObservations(d.catalogue, batch, 0, std::nullopt));
    rows += batch.rows_size();
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_ValidateRequest);

// Folds every event into a fresh read model, in runs of range(0) events.
void BM_ApplyEvents(benchmark::State& state) {
  const Data& d = Data::Get();
  const size_t run = static_cast<size_t>(state.range(0));
  int64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    testing::TempDir dir;
    auto model = projection::ReadModel::Open(dir.path());
    if (!model.ok() || !(*model)->BindToLog("bench").ok()) {
      state.SkipWithError("cannot open a read model");
      return;
    }
    std::vector<eventlog::Record> catalogue;
    for (const auto& e : d.catalogue_events) {
      catalogue.push_back({LogPosition(catalogue.size() + 1), e});
    }
    (void)(*model)->Apply(catalogue);
    state.ResumeTiming();
    for (size_t begin = 0; begin < d.events.size(); begin += run) {
      std::vector<eventlog::Record> records;
      for (size_t i = begin; i < std::min(d.events.size(), begin + run); ++i) {
        records.push_back({LogPosition((*model)->applied().value() + records.size() + 1),
                           d.events[i]});
      }
      if (!(*model)->Apply(records).ok()) {
        state.SkipWithError("apply failed");
        return;
      }
    }
    rows += static_cast<int64_t>(d.plan.rows());
    state.PauseTiming();
    model->reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_ApplyEvents)->Arg(1)->Arg(8)->Arg(48)->Unit(benchmark::kMillisecond);

// The read model the report benchmark reads: built on first use, closed and
// removed by main() before the process exits (not by a static destructor,
// which would run after RocksDB's own).
struct ReportModel {
  testing::TempDir dir;
  std::unique_ptr<projection::ReadModel> model;
};
std::unique_ptr<ReportModel> report_model;

void BM_QuarterlyReport(benchmark::State& state) {
  const Data& d = Data::Get();
  if (!report_model) report_model = std::make_unique<ReportModel>();
  std::unique_ptr<projection::ReadModel>& model = report_model->model;
  if (!model) {
    auto opened = projection::ReadModel::Open(report_model->dir.path());
    if (!opened.ok() || !(*opened)->BindToLog("bench").ok()) {
      state.SkipWithError("cannot open a read model");
      return;
    }
    model = std::move(*opened);
    std::vector<eventlog::Record> records;
    uint64_t position = 0;
    for (const auto* list : {&d.catalogue_events, &d.events}) {
      for (const auto& e : *list) records.push_back({LogPosition(++position), e});
    }
    if (!model->Apply(records).ok()) {
      state.SkipWithError("apply failed");
      return;
    }
  }
  for (auto _ : state) {
    auto view = model->Snapshot();
    benchmark::DoNotOptimize(report::BuildQuarterlyReport(view, d.workload.report_quarter));
  }
  state.counters["rows_stored"] = static_cast<double>(d.plan.rows());
}
BENCHMARK(BM_QuarterlyReport)->Unit(benchmark::kMillisecond);

// Heap bytes held by one Catalogue folded from the benchmark's catalogue at
// range(0) rows (glibc's count of allocated bytes before and after): the
// gateway's fold and the read model each hold one.
void BM_CatalogueMemory(benchmark::State& state) {
  const auto changes =
      demo::DemoCatalogue(demo::BenchOptions(static_cast<uint64_t>(state.range(0)), 20250401));
  size_t bytes = 0, enrolments = 0;
  for (auto _ : state) {
    const size_t before = mallinfo2().uordblks;
    auto catalogue = std::make_unique<Catalogue>();
    for (const auto& change : changes) catalogue->Apply(change);
    bytes = mallinfo2().uordblks - before;
    enrolments = catalogue->enrolments().size();
    benchmark::DoNotOptimize(catalogue.get());
  }
  state.counters["enrolments"] = static_cast<double>(enrolments);
  state.counters["heap_MiB"] = static_cast<double>(bytes) / (1 << 20);
  state.counters["bytes_per_enrolment"] =
      enrolments == 0 ? 0 : static_cast<double>(bytes) / static_cast<double>(enrolments);
}
BENCHMARK(BM_CatalogueMemory)->Arg(1'000'000)->Arg(10'000'000)->Arg(50'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

// The catalogue folded as the read model folds it at replay: each change
// applied to a copy of the catalogue before it (readers keep the old one
// until the run commits), the old one then released. Heap in use at the
// end and at its peak, and how much the process's resident memory grew:
// the gap between the last two is memory freed but kept by the allocator.
// Run alone (--benchmark_filter=FoldWithCopies/10000000) for a clean RSS.
void BM_CatalogueFoldWithCopies(benchmark::State& state) {
  const auto changes =
      demo::DemoCatalogue(demo::BenchOptions(static_cast<uint64_t>(state.range(0)), 20250401));
  size_t peak = 0, held = 0, rss_growth = 0;
  for (auto _ : state) {
    const size_t before = mallinfo2().uordblks;
    const size_t rss_before = ResidentBytes(getpid());
    auto current = std::make_shared<const Catalogue>();
    for (const auto& change : changes) {
      auto next = std::make_shared<Catalogue>(*current);
      next->Apply(change);
      peak = std::max(peak, mallinfo2().uordblks - before);
      current = std::move(next);
    }
    held = mallinfo2().uordblks - before;
    rss_growth = ResidentBytes(getpid()) - rss_before;
    benchmark::DoNotOptimize(current.get());
  }
  state.counters["changes"] = static_cast<double>(changes.size());
  state.counters["held_MiB"] = static_cast<double>(held) / (1 << 20);
  state.counters["peak_MiB"] = static_cast<double>(peak) / (1 << 20);
  state.counters["rss_growth_MiB"] = static_cast<double>(rss_growth) / (1 << 20);
}
BENCHMARK(BM_CatalogueFoldWithCopies)->Arg(1'000'000)->Arg(10'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

// The quarterly report on a read model already built elsewhere, named by
// PSC_BENCH_READ_MODEL (for example by `psc-projection --journal J
// --data-dir D --rebuild-only` on a journal psc-bench kept at 10M rows):
// the last whole quarter with data. Skipped when the variable is unset.
void BM_QuarterlyReportOnReadModel(benchmark::State& state) {
  const char* dir = std::getenv("PSC_BENCH_READ_MODEL");
  if (dir == nullptr || *dir == '\0') {
    state.SkipWithError("PSC_BENCH_READ_MODEL is not set");
    return;
  }
  auto model = projection::ReadModel::Open(dir);
  if (!model.ok()) {
    state.SkipWithError(std::string(model.status().message()).c_str());
    return;
  }
  std::optional<Quarter> quarter;
  uint64_t stored = 0, position = 0;
  {
    auto view = (*model)->Snapshot();
    stored = view.observation_count();
    position = view.position().value();
    if (auto last = view.LatestReportedMonth()) {
      quarter = Quarter::Containing(*last);
      if (quarter->LastMonth() != *last) quarter = Quarter::Containing(quarter->FirstMonth().Plus(-1));
    }
  }
  if (!quarter) {
    state.SkipWithError(StrCat("the read model holds no values (position ", position, ", ",
                               stored, " observations)")
                            .c_str());
    return;
  }
  for (auto _ : state) {
    auto view = (*model)->Snapshot();
    benchmark::DoNotOptimize(report::BuildQuarterlyReport(view, *quarter));
  }
  state.counters["values_stored"] = static_cast<double>(stored);
}
BENCHMARK(BM_QuarterlyReportOnReadModel)->Unit(benchmark::kMillisecond);

}  // namespace

void CloseReportModel() { report_model.reset(); }

}  // namespace psc::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  psc::bench::CloseReportModel();
  benchmark::Shutdown();
  return 0;
}
