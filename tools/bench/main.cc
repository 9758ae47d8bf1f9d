// psc-bench: how fast psc-aggregate ingests, rebuilds and reports, beside
// the raw log and PostgreSQL, on the same data in the same run. Every figure
// is in observation rows and is printed with N and its parameters.
//
//   psc-bench [--rows 1000000] [--clients 4] [--batch 1000]
//             [--curve 1,100,1000,10000] [--json FILE] [--svg FILE]
#include <signal.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "client.h"
#include "demo_load.h"
#include "psc/domain/number_format.h"
#include "psc/domain/strings.h"
#include "psc/eventlog/journal.h"
#include "psc/eventlog/kafka_log.h"
#include "psc/projection/read_model.h"
#include "psc/report/report.h"
#include "psc/server/app.h"
#include "psc/server/flags.h"
#include "psc/server/services.h"
#include "psc/testing/kafka_cluster.h"
#include "psc/testing/process.h"
#include "pg_baseline.h"
#include "results.h"
#include "workload.h"

namespace psc::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Say(const std::string& line) { std::cerr << "bench: " << line << std::endl; }

std::string Fixed(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

struct Settings {
  uint64_t rows = 1'000'000;
  int clients = 4;
  size_t batch = 1000;
  std::vector<size_t> curve = {1, 100, 1000, 10000};
  int report_repeats = 200;
  uint64_t kafka_rows = 100'000;
  bool kafka = true;
  bool postgres = true;
  std::string work;  // temporary folder for servers' data
  std::string keep_journal;  // copy the main run's journal here
};

// Rows a curve point uses: small batches are one durable sync per few rows,
// so they run on a prefix (printed beside the figure).
uint64_t CurveRows(const Settings& s, size_t batch) {
  if (batch <= 1) return std::min<uint64_t>(s.rows, 20'000);
  if (batch <= 100) return std::min<uint64_t>(s.rows, 200'000);
  return s.rows;
}

std::map<std::string, std::string> Params(const Settings& s, size_t batch) {
  return {{"rows_per_request", std::to_string(batch)},
          {"clients", std::to_string(s.clients)},
          {"sync", "one durable sync per request (group commit)"}};
}

// A started server program and clients to it.
struct Running {
  std::unique_ptr<testing::ChildProcess> process;
  std::string address;
};

absl::StatusOr<Running> Start(const std::string& program, std::vector<std::string> args) {
  args.insert(args.begin(), testing::BinPath(program));
  args.push_back("--listen");
  args.push_back("127.0.0.1:0");
  // Started from the main thread, they stop when psc-bench ends, even
  // killed hard.
  auto child = testing::ChildProcess::Start(std::move(args), {.stop_with_parent = true});
  if (!child.ok()) return child.status();
  auto address = (*child)->WaitForValue("listening on ", std::chrono::seconds(60));
  if (!address.ok()) return address.status();
  if (auto ready = (*child)->WaitForLine("ready:", std::chrono::minutes(30)); !ready.ok()) {
    return ready.status();
  }
  return Running{std::move(*child), *address};
}

// Stops a server; its peak resident memory, read just before.
uint64_t Stop(Running& server) {
  const uint64_t rss = PeakRss(server.process->pid());
  server.process->Signal(SIGTERM);
  (void)server.process->Wait(std::chrono::seconds(60));
  server.process.reset();
  return rss;
}

absl::Status LoadCatalogue(cli::Client& client, const Workload& w) {
  for (const auto& change : w.catalogue) {
    v1::ChangeCatalogueRequest request;
    *request.mutable_change() = change;
    v1::Receipt receipt;
    auto status = client.catalog->ChangeCatalogue(cli::Context(600).get(), request, &receipt);
    if (!status.ok()) return absl::InternalError(cli::Describe(status));
  }
  return absl::OkStatus();
}

struct Ingest {
  uint64_t rows = 0;
  double seconds = 0;
  uint64_t last_position = 0;
};

// Sends the plan's requests, wave by wave, with one connection per client to `writer`, then asks
// `reader` for its status at the last receipt's position: the clock runs
// from the first request until that answer (everything queryable).
absl::StatusOr<Ingest> IngestUntilQueryable(const std::string& writer, const std::string& reader,
                                            const Plan& plan, int clients, Quarter quarter) {
  std::vector<std::unique_ptr<cli::Client>> owned;
  std::vector<cli::Client*> pool;
  for (int i = 0; i < clients; ++i) {
    owned.push_back(std::make_unique<cli::Client>(writer, /*own_connection=*/true));
    pool.push_back(owned.back().get());
  }
  const uint64_t rows = plan.rows();
  const auto start = Clock::now();
  auto last_report = start;
  uint64_t sent = 0;
  uint64_t last_position = 0;
  for (const auto& [begin, end] : plan.waves()) {
    auto make = [&, begin = begin](size_t i) { return plan.Demo(begin + i); };
    auto stats = cli::LoadRequests(pool, end - begin, make, [&](const cli::LoadStats& st) {
      if (Since(last_report) < 5) return;
      last_report = Clock::now();
      Say(StrCat("  ", Grouped(sent + st.rows), " rows sent (repeats included) of ", Grouped(rows),
                 ", ",
                 Grouped(static_cast<uint64_t>((sent + st.rows) / std::max(Since(start), 1e-9))),
                 " rows/s"));
    });
    if (!stats.ok()) return stats.status();
    sent += stats->rows;
    last_position = std::max(last_position, stats->last_position);
  }
  cli::Client query(reader);
  v1::GetQuarterlyReportRequest request;
  // A query at the last receipt's position answers once it is applied.
  request.set_quarter(quarter.ToString());
  request.set_min_position(last_position);
  // The server bounds one wait (DEADLINE_EXCEEDED names how far it got):
  // ask again until the projection has caught up.
  for (;;) {
    v1::GetQuarterlyReportResponse response;
    auto status = query.query->GetQuarterlyReport(cli::Context(3600).get(), request, &response);
    if (status.ok()) break;
    if (status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      return absl::InternalError(cli::Describe(status));
    }
    Say(StrCat("  waiting for the projection: ", status.error_message()));
  }
  return Ingest{rows, Since(start), last_position};
}

// Appends the requests' events straight to `log` from `clients` threads.
absl::StatusOr<double> AppendRaw(eventlog::EventLog& log, const Plan& plan, int clients) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::string failure;
  std::mutex mu;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      for (size_t i; !failed && (i = next.fetch_add(1)) < plan.size();) {
        if (plan.request(i).resend) continue;  // the gateway would append nothing
        auto position = log.Append(plan.SubmissionId(i), plan.Event(i));
        if (!position.ok()) {
          std::lock_guard lock(mu);
          failure = std::string(position.status().message());
          failed = true;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed) return absl::InternalError(failure);
  return Since(start);
}

absl::StatusOr<double> RawJournal(const Settings& s, const Plan& plan, const std::string& dir) {
  auto journal = eventlog::Journal::Open(dir);
  if (!journal.ok()) return journal.status();
  auto seconds = AppendRaw(**journal, plan, s.clients);
  journal->reset();
  std::filesystem::remove_all(dir);
  return seconds;
}

// End-to-end through pscd on the embedded journal; leaves the data folder
// for the rebuild and report phases when `keep` is set.
absl::StatusOr<Ingest> EndToEndPscd(const Settings& s, const Workload& w, const Plan& plan,
                                    const std::string& data, uint64_t* peak_rss,
                                    const std::function<void(const std::string&)>& while_up) {
  auto pscd = Start("pscd", {"--data-dir", data});
  if (!pscd.ok()) return pscd.status();
  cli::Client client(pscd->address);
  if (auto st = LoadCatalogue(client, w); !st.ok()) return st;
  auto ingest =
      IngestUntilQueryable(pscd->address, pscd->address, plan, s.clients, w.report_quarter);
  if (ingest.ok() && while_up) while_up(pscd->address);
  const uint64_t rss = Stop(*pscd);
  if (peak_rss != nullptr) *peak_rss = rss;
  return ingest;
}

// Report calls stop after this long even when fewer than --report-repeats
// were made (the figure says how many).
constexpr double kReportSeconds = 30;

// Report latency over gRPC, `repeats` calls: milliseconds at the client,
// and what the server says it spent (its server-timing trailer).
struct ReportTimes {
  std::vector<double> client_ms;
  std::vector<double> server_ms;
};
ReportTimes TimeReports(const std::string& address, Quarter quarter, int repeats) {
  const auto phase = Clock::now();
  cli::Client client(address, /*own_connection=*/true);
  ReportTimes out;
  v1::GetQuarterlyReportRequest request;
  request.set_quarter(quarter.ToString());
  for (int i = 0; i < repeats && (i < 5 || Since(phase) < kReportSeconds); ++i) {
    v1::GetQuarterlyReportResponse response;
    const auto start = Clock::now();
    auto context = cli::Context(60);
    auto status = client.query->GetQuarterlyReport(context.get(), request, &response);
    if (!status.ok()) {
      Say(StrCat("report failed: ", cli::Describe(status)));
      break;
    }
    out.client_ms.push_back(Since(start) * 1000);
    const auto& trailers = context->GetServerTrailingMetadata();
    if (auto t = trailers.find(std::string(server::kServerTimingKey)); t != trailers.end()) {
      const std::string value(t->second.data(), t->second.size());
      if (auto at = value.find("dur="); at != std::string::npos) {
        out.server_ms.push_back(std::strtod(value.c_str() + at + 4, nullptr));
      }
    }
  }
  return out;
}

// The report built in this process from the read model in `dir` (what the
// server does for a call, without gRPC); milliseconds.
absl::StatusOr<std::vector<double>> TimeReportsInProcess(const std::string& dir, Quarter quarter,
                                                         int repeats) {
  auto model = projection::ReadModel::Open(dir);
  if (!model.ok()) return model.status();
  std::vector<double> ms;
  const auto phase = Clock::now();
  for (int i = 0; i < repeats && (i < 5 || Since(phase) < kReportSeconds); ++i) {
    const auto start = Clock::now();
    auto view = (*model)->Snapshot();
    auto report = report::BuildQuarterlyReport(view, quarter);
    if (!report.ok()) return report.status();
    ms.push_back(Since(start) * 1000);
  }
  return ms;
}

void AddLatency(Results& results, const std::string& name, const std::string& what,
                const std::vector<double>& ms, uint64_t n, std::map<std::string, std::string> params) {
  params["calls"] = std::to_string(ms.size());
  results.Add({name + "_p50", what + " p50", Percentile(ms, 50), "ms", n, params});
  results.Add({name + "_p99", what + " p99", Percentile(ms, 99), "ms", n, params});
}

absl::Status Run(const Settings& s, Results& results) {
  const auto t0 = Clock::now();
  Say(StrCat("generating about ", Grouped(s.rows), " observation rows"));
  Workload w = MakeWorkload(s.rows, 20250401);
  const uint64_t n = std::min<uint64_t>(s.rows, w.rows.size());
  Say(StrCat("  ", Grouped(w.rows.size()), " rows generated in ", Fixed(Since(t0)), " s; using ",
             Grouped(n), "; report quarter ", w.report_quarter.ToString()));

  // 1. End-to-end through pscd, and the raw journal, at every batch size.
  std::string main_data;
  Ingest main_ingest;
  uint64_t load_rows = 0;  // rows the under-load phase added to the journal
  std::optional<Plan> main_plan;
  uint64_t pscd_rss = 0;
  for (size_t batch : s.curve) {
    const uint64_t rows = std::min<uint64_t>(CurveRows(s, batch), n);
    const Plan plan(w, rows, batch, StrCat("b", batch));
    const bool is_main = batch == s.batch;
    const std::string data = StrCat(s.work, "/pscd-", batch);
    Say(StrCat("pscd end-to-end, ", batch, " rows per request, ", Grouped(plan.rows()),
               " rows"));
    ReportTimes idle_ms, loaded_ms;
    uint64_t rss = 0;
    auto ingest = EndToEndPscd(
        s, w, plan, data, &rss, [&](const std::string& address) {
          if (!is_main) return;
          Say("report latency over gRPC, idle");
          idle_ms = TimeReports(address, w.report_quarter, s.report_repeats);
          Say("report latency over gRPC, under ingest load");
          // The load: the same rows again under new ids (every one a
          // correction), sent until the reports are done.
          const Plan load(w, std::min<uint64_t>(n, 400'000), s.batch, "load");
          load_rows = load.rows();
          std::thread loader([&] {
            std::vector<std::unique_ptr<cli::Client>> owned;
            std::vector<cli::Client*> pool;
            for (int i = 0; i < s.clients; ++i) {
              owned.push_back(std::make_unique<cli::Client>(address, true));
              pool.push_back(owned.back().get());
            }
            // Wave by wave, as the main run: every value ends as it was.
            for (const auto& [begin, end] : load.waves()) {
              auto make = [&, begin = begin](size_t i) { return load.Demo(begin + i); };
              if (!cli::LoadRequests(pool, end - begin, make, nullptr).ok()) break;
            }
          });
          std::this_thread::sleep_for(std::chrono::milliseconds(300));
          loaded_ms = TimeReports(address, w.report_quarter, s.report_repeats);
          loader.join();
        });
    if (!ingest.ok()) return ingest.status();
    const double e2e = static_cast<double>(ingest->rows) / ingest->seconds;
    auto raw = RawJournal(s, plan, StrCat(s.work, "/raw-", batch));
    if (!raw.ok()) return raw.status();
    const double raw_rate = static_cast<double>(ingest->rows) / *raw;
    results.AddCurve({"pscd end-to-end", batch, e2e, ingest->rows});
    results.AddCurve({"journal append", batch, raw_rate, ingest->rows});
    Say(StrCat("  end-to-end ", Grouped(static_cast<uint64_t>(e2e)), " rows/s; journal append ",
               Grouped(static_cast<uint64_t>(raw_rate)), " rows/s"));
    if (is_main) {
      results.Add({"ingest_end_to_end", "pscd ingest, gRPC in until queryable", e2e, "rows/s",
                   ingest->rows, Params(s, batch)});
      results.Add({"append_raw_journal", "journal append of the same requests", raw_rate,
                   "rows/s", ingest->rows, Params(s, batch)});
      results.Add({"ingest_over_raw", "end-to-end / raw append", e2e / raw_rate, "ratio",
                   ingest->rows, Params(s, batch)});
      const std::map<std::string, std::string> idle = {{"quarter", w.report_quarter.ToString()}};
      const std::map<std::string, std::string> loaded = {
          {"quarter", w.report_quarter.ToString()}, {"load_clients", std::to_string(s.clients)}};
      AddLatency(results, "report_grpc_idle", "quarterly report over gRPC, idle",
                 idle_ms.client_ms, ingest->rows, idle);
      AddLatency(results, "report_served_idle",
                 "quarterly report server-side in pscd, idle (built once per position)",
                 idle_ms.server_ms, ingest->rows, idle);
      AddLatency(results, "report_grpc_loaded", "quarterly report over gRPC, under ingest",
                 loaded_ms.client_ms, ingest->rows, loaded);
      AddLatency(results, "report_served_loaded", "quarterly report server-side in pscd, under ingest",
                 loaded_ms.server_ms, ingest->rows, loaded);
      main_data = data;
      main_ingest = *ingest;
      main_plan.emplace(plan);
      pscd_rss = rss;
    } else {
      std::filesystem::remove_all(data);
    }
  }
  if (main_data.empty()) return absl::InvalidArgumentError("--batch must be one of --curve");
  results.Add({"pscd_peak_rss", "pscd peak resident memory", static_cast<double>(pscd_rss) / (1 << 20),
               "MiB", main_ingest.rows, {{"memory_budget_mib", "256"}}});

  if (!s.keep_journal.empty()) {
    std::error_code ec;
    std::filesystem::copy(main_data + "/journal", s.keep_journal,
                          std::filesystem::copy_options::recursive, ec);
    if (ec) return absl::InternalError(StrCat("--keep-journal: ", ec.message()));
    Say(StrCat("journal kept in ", s.keep_journal, " (psc-projection --journal ", s.keep_journal,
               " --rebuild-only replays it)"));
  }

  // 2. The report in process (server-side), idle; its figures are the
  // reference PostgreSQL's must equal.
  std::vector<PgFigure> our_figures;
  {
    auto model = projection::ReadModel::Open(main_data + "/readmodel");
    if (!model.ok()) return model.status();
    auto view = (*model)->Snapshot();
    auto report = report::BuildQuarterlyReport(view, w.report_quarter);
    if (!report.ok()) return report.status();
    our_figures = FiguresOf(*report);
  }
  Say("report latency in process (server-side)");
  auto server_ms = TimeReportsInProcess(main_data + "/readmodel", w.report_quarter, s.report_repeats);
  if (!server_ms.ok()) return server_ms.status();
  AddLatency(results, "report_server", "quarterly report build in process, every call (no cache)",
             *server_ms,
             main_ingest.rows, {{"quarter", w.report_quarter.ToString()}});

  // 3. Rebuild: the journal pscd wrote (the main run and the load sent
  // while timing reports), replayed into a fresh read model by the code
  // psc-projection --rebuild runs (progress on stderr).
  Say("rebuild from the journal");
  {
    eventlog::Journal::Options options;
    options.read_only = true;
    auto journal = eventlog::Journal::Open(main_data + "/journal", options);
    if (!journal.ok()) return journal.status();
    auto events = (*journal)->End();
    if (!events.ok()) return events.status();
    const auto start = Clock::now();
    auto model = server::OpenReadModel(s.work + "/rebuild", **journal, /*rebuild=*/true, 256u << 20);
    if (!model.ok()) return model.status();
    const double seconds = Since(start);
    const uint64_t journal_rows = main_ingest.rows + load_rows;
    results.Add({"rebuild", "rebuild from the journal", static_cast<double>(journal_rows) / seconds,
                 "rows/s", journal_rows,
                 {{"events", std::to_string(events->value())},
                  {"memory_budget_mib", "256"}}});
    model->reset();
    std::filesystem::remove_all(s.work + "/rebuild");
  }
  std::filesystem::remove_all(main_data);

  // 4. PostgreSQL 15 on the same requests: a raw GROUP BY, then a summary
  // table kept current in the same transactions.
  if (s.postgres) {
    for (bool summary : {false, true}) {
      const std::string variant = summary ? "summary table" : "GROUP BY";
      Say(StrCat("PostgreSQL 15, ", variant, ", ", Grouped(main_ingest.rows), " rows"));
      auto server = PgServer::Start();
      if (!server.ok()) return server.status();
      auto pg = PgBaseline::Create((*server)->conninfo(), w.catalogue, summary);
      if (!pg.ok()) return pg.status();
      double ingest_seconds = 0;
      uint64_t loaded = 0;
      auto last = Clock::now();
      for (const auto& [begin, end] : main_plan->waves()) {
        std::vector<v1::ObservationsSubmitted> batches(end - begin);
        for (size_t i = begin; i < end; ++i) main_plan->Fill(i, batches[i - begin]);
        auto stats = (*pg)->Load(batches, s.clients);
        if (!stats.ok()) return stats.status();
        ingest_seconds += stats->seconds;
        loaded += stats->rows;
        if (Since(last) >= 5) {
          last = Clock::now();
          Say(StrCat("  ", Grouped(loaded), " rows loaded"));
        }
      }
      if (auto st = (*pg)->Vacuum(); !st.ok()) return st;
      const auto report_variant = summary ? PgReportVariant::kSummaryTable : PgReportVariant::kGroupBy;
      auto figures = (*pg)->Report(w.report_quarter, report_variant);
      if (!figures.ok()) return figures.status();
      if (*figures != our_figures) {
        std::string diff;
        const size_t shown = std::max(figures->size(), our_figures.size());
        for (size_t i = 0, listed = 0; i < shown && listed < 5; ++i) {
          const std::string ours = i < our_figures.size() ? ToString(our_figures[i]) : "-";
          const std::string theirs = i < figures->size() ? ToString((*figures)[i]) : "-";
          if (ours == theirs) continue;
          StrAppend(&diff, "\n  pscd ", ours, "\n  pg   ", theirs);
          ++listed;
        }
        return absl::InternalError(StrCat("PostgreSQL (", variant, ") and pscd disagree on the ",
                                          w.report_quarter.ToString(), " report (",
                                          our_figures.size(), " and ", figures->size(),
                                          " figures):", diff));
      }
      auto timing = (*pg)->TimeReport(w.report_quarter, report_variant, s.report_repeats);
      if (!timing.ok()) return timing.status();
      const PgMemory memory = (*server)->Memory();
      const std::string version = (*pg)->server_version();
      pg->reset();
      if (auto st = (*server)->Stop(); !st.ok()) return st;
      const std::string key = summary ? "pg_summary" : "pg_groupby";
      auto params = Params(s, s.batch);
      params["variant"] = variant;
      params["server"] = version;
      params["durability"] = "fsync, synchronous_commit on";
      const double rate = static_cast<double>(main_ingest.rows) / ingest_seconds;
      results.Add({key + "_ingest", StrCat("PostgreSQL ingest (COPY + upsert, ", variant, ")"), rate,
                   "rows/s", main_ingest.rows, params});
      results.AddCurve({StrCat("PostgreSQL (", variant, ")"), s.batch, rate, main_ingest.rows});
      results.Add({key + "_ingest_ratio", StrCat("pscd / PostgreSQL ingest (", variant, ")"),
                   results.Value("ingest_end_to_end") / rate, "ratio", main_ingest.rows, params});
      std::map<std::string, std::string> q = {{"quarter", w.report_quarter.ToString()},
                                              {"variant", variant},
                                              {"calls", std::to_string(s.report_repeats)}};
      results.Add({key + "_report_p50", StrCat("PostgreSQL report server-side (", variant, ") p50"),
                   timing->server_p50_ms, "ms", main_ingest.rows, q});
      results.Add({key + "_report_p99", StrCat("PostgreSQL report server-side (", variant, ") p99"),
                   timing->server_p99_ms, "ms", main_ingest.rows, q});
      results.Add({key + "_report_client_p99", StrCat("PostgreSQL report client-side (", variant, ") p99"),
                   timing->p99_ms, "ms", main_ingest.rows, q});
      results.Add({key + "_report_ratio",
                   StrCat("PostgreSQL / pscd report p99, server-side (", variant, ")"),
                   timing->server_p99_ms / std::max(results.Value("report_server_p99"), 1e-9),
                   "ratio", main_ingest.rows, q});
      results.Add({key + "_memory", StrCat("PostgreSQL memory (", variant, ", sum of Pss)"),
                   static_cast<double>(memory.pss_bytes) / (1 << 20), "MiB", main_ingest.rows,
                   {{"processes", std::to_string(memory.processes)},
                    {"shared_buffers", "256MB"}}});
    }
  }

  // 5. Kafka: psc-gateway and psc-projection on the test cluster, and
  // librdkafka producing the same events straight to it.
  if (s.kafka) {
    const uint64_t rows = std::min<uint64_t>(n, s.kafka_rows);
    const Plan plan(w, rows, s.batch, "k");
    Say(StrCat("psc-gateway + psc-projection on psc-kafka-test-cluster, ", Grouped(plan.rows()),
               " rows"));
    auto cluster = testing::KafkaCluster::Start({.brokers = 1, .topics = {{"psc.events", 1}, {"raw", 1}}});
    if (!cluster.ok()) return cluster.status();
    auto gateway = Start("psc-gateway", {"--kafka-brokers", (*cluster)->Bootstrap()});
    if (!gateway.ok()) return gateway.status();
    auto projection = Start("psc-projection", {"--kafka-brokers", (*cluster)->Bootstrap(),
                                               "--data-dir", s.work + "/kafka-projection"});
    if (!projection.ok()) return projection.status();
    cli::Client client(gateway->address);
    if (auto st = LoadCatalogue(client, w); !st.ok()) return st;
    auto ingest = IngestUntilQueryable(gateway->address, projection->address, plan, s.clients,
                                       w.report_quarter);
    if (!ingest.ok()) return ingest.status();
    const uint64_t gateway_rss = Stop(*gateway);
    const uint64_t projection_rss = Stop(*projection);
    eventlog::KafkaOptions options;
    options.brokers = (*cluster)->Bootstrap();
    options.topic = "raw";
    auto log = eventlog::KafkaLog::Open(options);
    if (!log.ok()) return log.status();
    auto raw = AppendRaw(**log, plan, s.clients);
    if (!raw.ok()) return raw.status();
    const double e2e = static_cast<double>(ingest->rows) / ingest->seconds;
    const double raw_rate = static_cast<double>(ingest->rows) / *raw;
    auto params = Params(s, s.batch);
    params["log"] = "psc-kafka-test-cluster (librdkafka mock, ~5 MiB kept per partition)";
    results.Add({"kafka_ingest_end_to_end", "gateway + projection on Kafka, until queryable", e2e,
                 "rows/s", ingest->rows, params});
    results.Add({"kafka_append_raw", "librdkafka produce of the same events", raw_rate, "rows/s",
                 ingest->rows, params});
    results.Add({"kafka_ingest_over_raw", "Kafka end-to-end / raw produce", e2e / raw_rate, "ratio",
                 ingest->rows, params});
    results.Add({"gateway_peak_rss", "psc-gateway peak resident memory",
                 static_cast<double>(gateway_rss) / (1 << 20), "MiB", ingest->rows, {}});
    results.Add({"projection_peak_rss", "psc-projection peak resident memory",
                 static_cast<double>(projection_rss) / (1 << 20), "MiB", ingest->rows,
                 {{"memory_budget_mib", "256"}}});
    std::filesystem::remove_all(s.work + "/kafka-projection");
  }
  return absl::OkStatus();
}

// What the figures were measured on.
std::map<std::string, std::string> Machine() {
  std::map<std::string, std::string> out = {
      {"cores", std::to_string(std::thread::hardware_concurrency())}};
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string line; std::getline(cpu, line);) {
    if (line.rfind("model name", 0) == 0) {
      out["cpu"] = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::ifstream mem("/proc/meminfo");
  for (std::string line; std::getline(mem, line);) {
    if (line.rfind("MemTotal:", 0) == 0) {
      out["memory_mib"] = std::to_string(std::stoull(line.substr(9)) / 1024);
      break;
    }
  }
  return out;
}

absl::StatusOr<std::vector<size_t>> ParseSizes(const std::string& text) {
  std::vector<size_t> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    try {
      out.push_back(static_cast<size_t>(std::stoull(item)));
    } catch (...) {
      return absl::InvalidArgumentError(StrCat("--curve: '", item, "' is not a number"));
    }
  }
  return out;
}

}  // namespace
}  // namespace psc::bench

int main(int argc, char** argv) {
  using namespace psc;
  server::Flags flags("psc-bench",
                      "Measures ingest, rebuild and report latency of psc-aggregate beside the "
                      "raw log and PostgreSQL, on the same generated data.");
  flags.Add("rows", "1000000", "observation rows in the dataset (N)")
      .Add("clients", "4", "concurrent clients, one connection each")
      .Add("batch", "1000", "rows per request for the main figures")
      .Add("curve", "1,100,1000,10000", "rows per request of the batch-size curve")
      .Add("report-repeats", "200", "report calls timed for p50/p99")
      .Add("kafka-rows", "100000",
           "rows sent through Kafka (the test cluster keeps about 5 MiB per partition)")
      .AddBool("no-kafka", "skip the Kafka figures")
      .AddBool("no-postgres", "skip the PostgreSQL figures")
      .Add("keep-journal", "", "copy the main run's journal to this new folder (for profiling a rebuild)")
      .Add("json", "", "write the figures as JSON here")
      .Add("svg", "", "write the batch-size curve as an SVG chart here");
  server::ParseOrExit(flags, argc, argv);
  bench::Settings s;
  auto rows = flags.GetInt("rows");
  auto clients = flags.GetInt("clients");
  auto batch = flags.GetInt("batch");
  auto repeats = flags.GetInt("report-repeats");
  auto kafka_rows = flags.GetInt("kafka-rows");
  auto curve = bench::ParseSizes(flags.Get("curve"));
  for (const absl::Status& st : {rows.status(), clients.status(), batch.status(), repeats.status(),
                                 kafka_rows.status(), curve.status()}) {
    if (!st.ok()) return server::Fail("psc-bench", st);
  }
  s.rows = static_cast<uint64_t>(*rows);
  s.clients = static_cast<int>(*clients);
  s.batch = static_cast<size_t>(*batch);
  s.report_repeats = static_cast<int>(*repeats);
  s.kafka_rows = static_cast<uint64_t>(*kafka_rows);
  s.kafka = !flags.GetBool("no-kafka");
  s.postgres = !flags.GetBool("no-postgres");
  s.curve = *curve;
  s.keep_journal = flags.Get("keep-journal");
  testing::TempDir work;
  s.work = work.path();
  // Servers stop with psc-bench however it ends; this folder is removed
  // only when it ends normally.
  std::cerr << "bench: servers' data in " << s.work << " (removed at the end)" << std::endl;

  bench::Results results;
  if (auto st = bench::Run(s, results); !st.ok()) return server::Fail("psc-bench", st);
  std::cout << results.Table();
  const std::map<std::string, std::string> machine = bench::Machine();
  if (!flags.Get("json").empty()) std::ofstream(flags.Get("json")) << results.Json(machine);
  if (!flags.Get("svg").empty()) std::ofstream(flags.Get("svg")) << results.CurveSvg();
  return 0;
}
