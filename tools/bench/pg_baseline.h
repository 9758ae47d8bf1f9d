// The PostgreSQL 15 baseline of the benchmark: what a careful engineer would
// build on PostgreSQL instead of our service, fed exactly the data the
// benchmark feeds our service (the catalogue and the requests, as the
// protobufs of proto/psc/v1/events.proto), in the same run.
//
// The server (PgServer): a PostgreSQL server of its own, made with initdb in
// a temporary folder, listening on a unix socket in that folder and on a
// free loopback port; durable before it answers, like ours (fsync,
// synchronous_commit and full_page_writes on); shared_buffers 256MB, the
// size of our RocksDB memory budget. Stopped and its folder removed when
// the PgServer goes, error or not. Run as root, the server runs as the
// `postgres` account (else `nobody`): PostgreSQL refuses root.
//
// The schema (see pg_baseline.cc for the SQL):
//   collaboratives, organisations (ODS code -> its registered
//   collaborative), topics, measures, enrolments (measure, organisation,
//   from_month, to_month): the catalogue, first registration wins.
//   Memberships are ignored: every month of an organisation counts under its
//   registered collaborative (our service moves the months a membership
//   covers; the demo data has none).
//   observations: primary key (measure_id, ods_code, month), values checked
//   (numerator 0..1e9, denominator 1..1e9), plus an index on month for the
//   report's quarter.
//   submissions: the submission id as primary key.
//
// One request, one transaction: COPY its rows into a temporary staging
// table; then one function call records the submission id (a repeated id
// changes nothing), upserts the rows that are enrolled and well formed
// (INSERT ... ON CONFLICT (measure_id, ods_code, month) DO UPDATE: a
// correction replaces) and refuses the whole request when any row was not
// (all-or-nothing, like ours); COMMIT. Deadlocks and serialisation failures
// are retried. No per-value history is kept (ours keeps one); timeliness is
// not tracked.
//
// Variant B (summary_table): statement-level AFTER INSERT and AFTER UPDATE
// triggers with transition tables move, in the same transaction,
// monthly_sums (month, measure, collaborative -> numerator, denominator,
// organisation-months) by the delta, and keep quarter_latest (quarter,
// measure, organisation -> its latest month with a value and that month's
// values) for AGGREGATION_LAST measures.
//
// The report: per measure, per collaborative and national (GROUPING SETS),
// the quarter's numerator and denominator sums (AGGREGATION_SUM, _RATIO),
// or for AGGREGATION_LAST the sums of each organisation's latest month in
// the quarter; and the organisation-months reporting. Variant A: one GROUP
// BY over the quarter's observations joined to organisations and measures,
// DISTINCT ON for the latest months. Variant B: the same figures read from
// monthly_sums and quarter_latest.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "psc/domain/period.h"
#include "psc/v1/events.pb.h"
#include "psc/v1/query.pb.h"

namespace psc::bench {

// ------------------------------------------------------------ the server

struct PgServerOptions {
  // Where initdb and postgres are; empty: /usr/lib/postgresql/15/bin if it
  // has them, else `pg_config --bindir`.
  std::string bin_dir;
  // The folder the server's temporary folder goes in; empty: $TMPDIR, else
  // /tmp. Run as root, the server's account must be able to enter it.
  std::string work_dir;
  std::string shared_buffers = "256MB";
};

// Memory of the server's processes (the postmaster and its children: one
// backend per connection, checkpointer, WAL writer, autovacuum, ...), read
// from /proc.
struct PgMemory {
  int processes = 0;
  // Sum of each process's peak resident set (VmHWM). Shared memory
  // (shared_buffers) is counted once in every process that touched it, so
  // this overstates the total.
  uint64_t peak_rss_bytes = 0;
  // Sum of each process's resident set now (VmRSS), same caveat.
  uint64_t rss_bytes = 0;
  // Sum of each process's proportional set size now (Pss): shared pages
  // divided among the processes sharing them, so counted once in all.
  uint64_t pss_bytes = 0;
};

class PgServer {
 public:
  // initdb in a new temporary folder, then the server, waiting until it
  // accepts connections. The server is told to quit (SIGQUIT) should this
  // thread end first: start it from a thread that outlives it.
  static absl::StatusOr<std::unique_ptr<PgServer>> Start(const PgServerOptions& options = {});
  // Stop(), errors ignored.
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // Fast shutdown (SIGINT), escalating to SIGQUIT and SIGKILL if it does
  // not end within 60 s and 10 s; then removes the folder. Idempotent.
  absl::Status Stop();

  // libpq connection strings: over loopback TCP, and over the unix socket.
  std::string conninfo() const;
  std::string unix_conninfo() const;
  // The postmaster's process id.
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  // The temporary folder (data directory, socket, logs).
  const std::string& dir() const { return dir_; }
  const std::string& bin_dir() const { return bin_dir_; }
  // The server's processes' memory now (0 processes once stopped).
  PgMemory Memory() const;

 private:
  PgServer() = default;
  std::string dir_;
  std::string bin_dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// ------------------------------------------------------------ the figures

// One figure of the quarterly national report, in a shape both PostgreSQL
// and our report give.
struct PgFigure {
  std::string measure_id;
  std::string collaborative_id;  // "" = national
  // The quarter's sums; for AGGREGATION_LAST, of each organisation's latest
  // month in the quarter. 0 denominator for counts.
  int64_t numerator = 0;
  int64_t denominator = 0;
  // Organisation-months with a value in the quarter (every rule; for
  // AGGREGATION_LAST every month, not only the latest).
  int64_t reported = 0;
  bool operator==(const PgFigure&) const = default;
};

// `measure/collaborative: numerator/denominator reported` ("national" for "").
std::string ToString(const PgFigure& figure);

// Our report's figures in the same shape: national and per collaborative,
// leaving out those with nothing reported (PostgreSQL has no row for
// them), sorted by measure then collaborative ("" first).
std::vector<PgFigure> FiguresOf(const v1::QuarterlyReport& report);

// ------------------------------------------------------------ the baseline

enum class PgReportVariant {
  kGroupBy,       // A: a GROUP BY over the quarter's observations
  kSummaryTable,  // B: read monthly_sums and quarter_latest
};

// What loading requests did.
struct PgLoadStats {
  uint64_t requests = 0;  // sent
  uint64_t rows = 0;      // rows sent, repeats and refused ones included
  uint64_t applied = 0;   // requests applied
  uint64_t repeats = 0;   // requests whose submission id was already stored (no-op)
  uint64_t refused = 0;   // requests refused whole (a row not enrolled or malformed)
  uint64_t retries = 0;   // transactions retried after a deadlock or serialisation failure
  double seconds = 0;
};

// Client-side and server-side times of the report query.
struct PgReportTiming {
  int repeats = 0;
  double p50_ms = 0, p99_ms = 0;
  // EXPLAIN (ANALYZE, TIMING OFF) of the same prepared statement: planning
  // plus execution time as the server measures it, no network or result
  // transfer. Run once after every timed query.
  double server_p50_ms = 0, server_p99_ms = 0;
};

// One database made ready for the baseline, with the connections that use
// it. Not thread-safe: one caller at a time (Load runs its own threads).
class PgBaseline {
 public:
  // Creates the schema in the (empty) database `conninfo` names, with the
  // summary tables and their triggers when `summary_table`, and loads the
  // catalogue changes in order (first registration wins), then ANALYZEs.
  static absl::StatusOr<std::unique_ptr<PgBaseline>> Create(
      const std::string& conninfo, const std::vector<v1::CatalogueChanged>& catalogue,
      bool summary_table);
  ~PgBaseline();

  // Sends `requests` over `clients` connections, each taking the next
  // request in order and sending it whole (one transaction). `progress`,
  // when set, is called with the rows done about once a second from a
  // thread of its own, and once at the end. The connections stay open
  // until this object goes (their backends then count in PgMemory).
  // Errors: the first error that is neither a refusal nor retryable.
  absl::StatusOr<PgLoadStats> Load(const std::vector<v1::ObservationsSubmitted>& requests,
                                   int clients,
                                   const std::function<void(uint64_t rows_done)>& progress = {});

  // VACUUM (ANALYZE) of the tables the reports read, as autovacuum would
  // eventually: statistics for the planner, visibility for index-only scans.
  absl::Status Vacuum();

  // The report's figures, sorted by measure then collaborative ("" first).
  // kSummaryTable needs summary_table.
  absl::StatusOr<std::vector<PgFigure>> Report(Quarter quarter, PgReportVariant variant);
  // Runs the report query `repeats` times (after 3 untimed runs).
  absl::StatusOr<PgReportTiming> TimeReport(Quarter quarter, PgReportVariant variant, int repeats);

  // Rows in observations (distinct keys stored).
  absl::StatusOr<uint64_t> CountObservations();
  // Memberships in the catalogue, ignored.
  int memberships_ignored() const { return memberships_ignored_; }
  // SHOW server_version.
  const std::string& server_version() const { return server_version_; }

 private:
  struct Impl;
  explicit PgBaseline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  int memberships_ignored_ = 0;
  std::string server_version_;
};

// ------------------------------------------------------------ one call

struct PgOptions {
  int clients = 4;             // concurrent connections, each sending whole requests
  bool summary_table = false;  // variant B: monthly_sums and quarter_latest kept by triggers
  int report_repeats = 200;    // report queries timed for p50/p99
  Quarter quarter;             // the quarter the report asks for (required)
  std::string bin_dir;         // see PgServerOptions
  std::string work_dir;        // see PgServerOptions
  // Connect over the unix socket instead of loopback TCP (our service's
  // clients use loopback TCP).
  bool unix_socket = false;
  std::function<void(uint64_t rows_done)> progress;  // about once a second
};

struct PgResult {
  uint64_t rows = 0;  // rows sent, resends included
  double ingest_seconds = 0;
  double rows_per_second = 0;  // rows / ingest_seconds
  PgLoadStats load;
  uint64_t observations = 0;  // distinct keys stored at the end
  double vacuum_seconds = 0;  // VACUUM (ANALYZE) after the load, before the report (not in ingest)
  // The report of options.summary_table's variant, client-side (prepared
  // statement, every row read) ...
  double report_p50_ms = 0, report_p99_ms = 0;
  // ... and server-side (EXPLAIN ANALYZE: planning + execution).
  double report_server_p50_ms = 0, report_server_p99_ms = 0;
  // The report's figures (with summary_table, checked equal to variant A's).
  std::vector<PgFigure> figures;
  // Sum over the server's processes of VmHWM, read at the end with the
  // load connections still open (shared memory counted in each process;
  // see PgMemory), and of Pss at the same moment.
  uint64_t peak_rss_bytes = 0;
  uint64_t pss_bytes = 0;
  int server_processes = 0;
  int memberships_ignored = 0;
  std::string server_version;
  // Where the server ran; both gone when this returns.
  pid_t server_pid = -1;
  std::string server_dir;
};

// Starts a server, creates the schema, loads `catalogue` then `requests`,
// vacuums, computes the report for options.quarter, times it, reads the
// memory, stops the server and removes its folder (also on error).
absl::StatusOr<PgResult> RunPostgresBaseline(const std::vector<v1::CatalogueChanged>& catalogue,
                                             const std::vector<v1::ObservationsSubmitted>& requests,
                                             const PgOptions& options);
absl::StatusOr<PgResult> RunPostgresBaseline(const v1::CatalogueChanged& catalogue,
                                             const std::vector<v1::ObservationsSubmitted>& requests,
                                             const PgOptions& options);

}  // namespace psc::bench
