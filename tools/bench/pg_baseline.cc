// The PostgreSQL baseline: schema, loading, the report (see pg_baseline.h).
#include "pg_baseline.h"

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "psc/domain/strings.h"

namespace psc::bench {
namespace {

using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------ the SQL

// The catalogue, the observations and the submission ids. Months are dates
// (the first of the month). The index on month serves the report's quarter;
// the primary key serves the upsert.
constexpr const char* kSchema = R"sql(
CREATE TABLE topics (
  id        text PRIMARY KEY,
  name      text NOT NULL,
  essential boolean NOT NULL
);
CREATE TABLE collaboratives (
  id   text PRIMARY KEY,
  name text NOT NULL
);
CREATE TABLE organisations (
  ods_code         text PRIMARY KEY,
  name             text NOT NULL,
  sector           text NOT NULL,
  -- As registered; memberships are not modelled.
  collaborative_id text NOT NULL REFERENCES collaboratives
);
CREATE TABLE measures (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  topic_id    text NOT NULL REFERENCES topics,
  type        text NOT NULL,
  unit        text NOT NULL CHECK (unit IN ('count', 'proportion', 'rate')),
  rate_per    bigint NOT NULL,
  aggregation text NOT NULL CHECK (aggregation IN ('sum', 'ratio', 'last'))
);
CREATE TABLE enrolments (
  measure_id text NOT NULL REFERENCES measures,
  ods_code   text NOT NULL REFERENCES organisations,
  from_month date NOT NULL,
  to_month   date,  -- NULL: open-ended
  PRIMARY KEY (measure_id, ods_code, from_month)
);
CREATE TABLE submissions (
  submission_id text PRIMARY KEY,
  rows_sent     integer NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE observations (
  measure_id    text NOT NULL,
  ods_code      text NOT NULL,
  month         date NOT NULL,
  numerator     bigint NOT NULL CHECK (numerator BETWEEN 0 AND 1000000000),
  denominator   bigint CHECK (denominator BETWEEN 1 AND 1000000000),
  submission_id text NOT NULL,  -- the submission that set the value
  PRIMARY KEY (measure_id, ods_code, month)
);
CREATE INDEX observations_month ON observations (month);

-- One request, after its rows were copied into the session's staging
-- table: -1 when the submission id was already stored (nothing changes),
-- else the rows stored. Refuses the whole request (check_violation) when a
-- row is not enrolled that month or does not fit its measure's unit; a key
-- twice in one request fails the upsert (cardinality_violation).
CREATE FUNCTION apply_submission(p_submission_id text) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
  n_sent   bigint;
  n_stored bigint;
BEGIN
  SELECT count(*) INTO n_sent FROM staging;
  INSERT INTO submissions (submission_id, rows_sent) VALUES (p_submission_id, n_sent)
    ON CONFLICT (submission_id) DO NOTHING;
  IF NOT FOUND THEN
    RETURN -1;
  END IF;
  INSERT INTO observations AS o (measure_id, ods_code, month, numerator, denominator, submission_id)
  SELECT s.measure_id, s.ods_code, s.month, s.numerator, s.denominator, p_submission_id
  FROM staging s
  JOIN measures m ON m.id = s.measure_id
  WHERE (s.denominator IS NULL) = (m.unit = 'count')
    AND (m.unit <> 'proportion' OR s.numerator <= s.denominator)
    AND EXISTS (SELECT 1 FROM enrolments e
                WHERE e.measure_id = s.measure_id AND e.ods_code = s.ods_code
                  AND e.from_month <= s.month AND (e.to_month IS NULL OR s.month <= e.to_month))
  ORDER BY s.measure_id, s.ods_code, s.month  -- one lock order for every request
  ON CONFLICT (measure_id, ods_code, month) DO UPDATE
    SET numerator = excluded.numerator,
        denominator = excluded.denominator,
        submission_id = excluded.submission_id;
  GET DIAGNOSTICS n_stored = ROW_COUNT;
  IF n_stored <> n_sent THEN
    RAISE EXCEPTION 'submission %: % of % rows not enrolled or not fitting the measure',
      p_submission_id, n_sent - n_stored, n_sent
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN n_stored;
END
$fn$;
)sql";

// Variant B: sums kept current by statement-level triggers, in the
// transaction that changes the observations. The transition tables hold
// exactly the rows the upsert inserted (AFTER INSERT) and the old and new
// versions of the rows it updated (AFTER UPDATE), so the deltas are right
// whatever runs concurrently. Summary rows are upserted in key order.
constexpr const char* kSummarySchema = R"sql(
CREATE TABLE monthly_sums (
  month            date NOT NULL,
  measure_id       text NOT NULL,
  collaborative_id text NOT NULL,
  numerator        bigint NOT NULL,
  denominator      bigint NOT NULL,
  reported         bigint NOT NULL,  -- organisation-months with a value
  PRIMARY KEY (month, measure_id, collaborative_id)
);
-- AGGREGATION_LAST: each organisation's latest month with a value in a
-- quarter, with that month's values.
CREATE TABLE quarter_latest (
  quarter     date NOT NULL,  -- its first month
  measure_id  text NOT NULL,
  ods_code    text NOT NULL,
  month       date NOT NULL,
  numerator   bigint NOT NULL,
  denominator bigint NOT NULL,
  PRIMARY KEY (quarter, measure_id, ods_code)
);

CREATE FUNCTION observations_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO monthly_sums AS t (month, measure_id, collaborative_id, numerator, denominator, reported)
    SELECT n.month, n.measure_id, r.collaborative_id,
           sum(n.numerator), sum(coalesce(n.denominator, 0)), count(*)
    FROM new_rows n
    JOIN organisations r ON r.ods_code = n.ods_code
    GROUP BY n.month, n.measure_id, r.collaborative_id
    ORDER BY n.month, n.measure_id, r.collaborative_id
    ON CONFLICT (month, measure_id, collaborative_id) DO UPDATE
      SET numerator = t.numerator + excluded.numerator,
          denominator = t.denominator + excluded.denominator,
          reported = t.reported + excluded.reported;
  ELSE
    INSERT INTO monthly_sums AS t (month, measure_id, collaborative_id, numerator, denominator, reported)
    SELECT n.month, n.measure_id, r.collaborative_id,
           sum(n.numerator - o.numerator),
           sum(coalesce(n.denominator, 0) - coalesce(o.denominator, 0)), 0
    FROM new_rows n
    JOIN old_rows o ON o.measure_id = n.measure_id AND o.ods_code = n.ods_code AND o.month = n.month
    JOIN organisations r ON r.ods_code = n.ods_code
    GROUP BY n.month, n.measure_id, r.collaborative_id
    HAVING sum(n.numerator - o.numerator) <> 0
        OR sum(coalesce(n.denominator, 0) - coalesce(o.denominator, 0)) <> 0
    ORDER BY n.month, n.measure_id, r.collaborative_id
    ON CONFLICT (month, measure_id, collaborative_id) DO UPDATE
      SET numerator = t.numerator + excluded.numerator,
          denominator = t.denominator + excluded.denominator;
  END IF;
  -- Only inserts and corrections reach here (no withdrawals), so a quarter's
  -- latest month never moves back.
  INSERT INTO quarter_latest AS q (quarter, measure_id, ods_code, month, numerator, denominator)
  SELECT DISTINCT ON (date_trunc('quarter', n.month::timestamp), n.measure_id, n.ods_code)
         date_trunc('quarter', n.month::timestamp)::date, n.measure_id, n.ods_code, n.month,
         n.numerator, coalesce(n.denominator, 0)
  FROM new_rows n
  JOIN measures m ON m.id = n.measure_id
  WHERE m.aggregation = 'last'
  ORDER BY date_trunc('quarter', n.month::timestamp), n.measure_id, n.ods_code, n.month DESC
  ON CONFLICT (quarter, measure_id, ods_code) DO UPDATE
    SET month = excluded.month, numerator = excluded.numerator, denominator = excluded.denominator
    WHERE excluded.month >= q.month;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER observations_inserted AFTER INSERT ON observations
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION observations_changed();
CREATE TRIGGER observations_updated AFTER UPDATE ON observations
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION observations_changed();
)sql";

// Each loading connection's staging table: emptied at every commit.
constexpr const char* kStaging = R"sql(
CREATE TEMPORARY TABLE staging (
  ods_code    text NOT NULL,
  measure_id  text NOT NULL,
  month       date NOT NULL,
  numerator   bigint NOT NULL,
  denominator bigint
) ON COMMIT DELETE ROWS
)sql";

constexpr const char* kCopyStaging =
    "COPY staging (ods_code, measure_id, month, numerator, denominator) FROM STDIN";

// The columns both report queries return, national ("" collaborative)
// and per collaborative, by measure then collaborative.
//
// Variant A: every observation of the quarter. For AGGREGATION_LAST the
// figure is each organisation's latest month (DISTINCT ON), the coverage
// every month.
constexpr const char* kReportGroupBy = R"sql(
WITH quarter_rows AS MATERIALIZED (
  SELECT o.measure_id, r.collaborative_id, o.ods_code, o.month, o.numerator,
         coalesce(o.denominator, 0) AS denominator, m.aggregation = 'last' AS last
  FROM observations o
  JOIN organisations r ON r.ods_code = o.ods_code
  JOIN measures m ON m.id = o.measure_id
  WHERE o.month BETWEEN $1::date AND $2::date
), contributions AS (
  SELECT measure_id, collaborative_id, numerator, denominator, 1 AS reported
  FROM quarter_rows WHERE NOT last
  UNION ALL
  SELECT measure_id, collaborative_id, 0, 0, 1
  FROM quarter_rows WHERE last
  UNION ALL
  SELECT * FROM (
    SELECT DISTINCT ON (measure_id, ods_code) measure_id, collaborative_id, numerator, denominator, 0
    FROM quarter_rows WHERE last
    ORDER BY measure_id, ods_code, month DESC) latest
)
SELECT measure_id,
       CASE WHEN grouping(collaborative_id) = 1 THEN '' ELSE collaborative_id END,
       sum(numerator)::bigint, sum(denominator)::bigint, sum(reported)::bigint
FROM contributions
GROUP BY GROUPING SETS ((measure_id, collaborative_id), (measure_id))
ORDER BY 1, 2
)sql";

// Variant B: the quarter's months of monthly_sums, and quarter_latest for
// AGGREGATION_LAST (whose coverage still comes from monthly_sums).
constexpr const char* kReportSummary = R"sql(
WITH months AS (
  SELECT measure_id, collaborative_id, sum(numerator) AS numerator,
         sum(denominator) AS denominator, sum(reported) AS reported
  FROM monthly_sums
  WHERE month BETWEEN $1::date AND $2::date
  GROUP BY measure_id, collaborative_id
), latest AS (
  SELECT l.measure_id, r.collaborative_id, sum(l.numerator) AS numerator,
         sum(l.denominator) AS denominator
  FROM quarter_latest l
  JOIN organisations r ON r.ods_code = l.ods_code
  WHERE l.quarter = $1::date
  GROUP BY l.measure_id, r.collaborative_id
), areas AS (
  SELECT s.measure_id, s.collaborative_id,
         CASE WHEN m.aggregation = 'last' THEN coalesce(l.numerator, 0) ELSE s.numerator END
           AS numerator,
         CASE WHEN m.aggregation = 'last' THEN coalesce(l.denominator, 0) ELSE s.denominator END
           AS denominator,
         s.reported
  FROM months s
  JOIN measures m ON m.id = s.measure_id
  LEFT JOIN latest l ON l.measure_id = s.measure_id AND l.collaborative_id = s.collaborative_id
  WHERE s.reported > 0
)
SELECT measure_id,
       CASE WHEN grouping(collaborative_id) = 1 THEN '' ELSE collaborative_id END,
       sum(numerator)::bigint, sum(denominator)::bigint, sum(reported)::bigint
FROM areas
GROUP BY GROUPING SETS ((measure_id, collaborative_id), (measure_id))
ORDER BY 1, 2
)sql";

const char* StatementOf(PgReportVariant variant) {
  return variant == PgReportVariant::kGroupBy ? "report_groupby" : "report_summary";
}

// ------------------------------------------------------------ libpq

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;
struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultClearer>;

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// An error of `what`: ABORTED for a deadlock or serialisation failure (retry
// the transaction), INVALID_ARGUMENT for data the schema refuses (classes
// 21, 22, 23: the request is refused), INTERNAL otherwise. The SQLSTATE is
// in the message.
absl::Status ErrorOf(PGconn* conn, const PGresult* result, std::string_view what) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  std::string message = result != nullptr && *PQresultErrorMessage(result) != '\0'
                            ? PQresultErrorMessage(result)
                            : PQerrorMessage(conn);
  message = StrCat(what, ": ", sqlstate.empty() ? "" : StrCat("[", sqlstate, "] "),
                   Trimmed(message));
  if (sqlstate == "40P01" || sqlstate == "40001") return absl::AbortedError(message);
  const std::string_view cls = std::string_view(sqlstate).substr(0, 2);
  if (cls == "21" || cls == "22" || cls == "23") return absl::InvalidArgumentError(message);
  return absl::InternalError(message);
}

absl::StatusOr<Result> Checked(PGconn* conn, PGresult* raw, std::string_view what) {
  Result result(raw);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  return ErrorOf(conn, result.get(), what);
}

absl::StatusOr<Result> Exec(PGconn* conn, const char* sql, std::string_view what) {
  return Checked(conn, PQexec(conn, sql), what);
}

// Text parameters; nullopt is NULL.
absl::StatusOr<Result> ExecParams(PGconn* conn, const char* sql,
                                  const std::vector<std::optional<std::string>>& params,
                                  std::string_view what) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return Checked(conn,
                 PQexecParams(conn, sql, static_cast<int>(values.size()), nullptr, values.data(),
                              nullptr, nullptr, 0),
                 what);
}

absl::StatusOr<Result> ExecPrepared(PGconn* conn, const char* name,
                                    const std::vector<std::string>& params,
                                    std::string_view what) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  return Checked(conn,
                 PQexecPrepared(conn, name, static_cast<int>(values.size()), values.data(),
                                nullptr, nullptr, 0),
                 what);
}

absl::Status Prepare(PGconn* conn, const char* name, const char* sql) {
  auto r = Checked(conn, PQprepare(conn, name, sql, 0, nullptr), StrCat("prepare ", name));
  return r.ok() ? absl::OkStatus() : r.status();
}

absl::StatusOr<Conn> Connect(const std::string& conninfo) {
  Conn conn(PQconnectdb(conninfo.c_str()));
  if (conn == nullptr) return absl::ResourceExhaustedError("libpq: out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(
        StrCat("connect to PostgreSQL: ", Trimmed(PQerrorMessage(conn.get()))));
  }
  // Notices (e.g. from DDL) are not ours to print.
  PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

// ------------------------------------------------------------ helpers

// `YYYY-MM` -> `YYYY-MM-01`, or nullopt when not a month.
std::optional<std::string> MonthDate(std::string_view month) {
  auto m = Month::Parse(month);
  if (!m) return std::nullopt;
  return StrCat(m->ToString(), "-01");
}

std::string DateOf(Month m) { return StrCat(m.ToString(), "-01"); }

// COPY's text format: backslash, tab, newline and carriage return escaped.
void AppendCopyText(std::string* out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        out->push_back(c);
    }
  }
}

const char* UnitName(v1::Unit unit) {
  switch (unit) {
    case v1::UNIT_COUNT:
      return "count";
    case v1::UNIT_PROPORTION:
      return "proportion";
    case v1::UNIT_RATE:
      return "rate";
    default:
      return "unspecified";  // refused by the CHECK
  }
}

const char* AggregationName(v1::Aggregation aggregation) {
  switch (aggregation) {
    case v1::AGGREGATION_SUM:
      return "sum";
    case v1::AGGREGATION_RATIO:
      return "ratio";
    case v1::AGGREGATION_LAST:
      return "last";
    default:
      return "unspecified";  // refused by the CHECK
  }
}

double Percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  // Nearest rank.
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(samples.size())));
  rank = std::clamp<size_t>(rank, 1, samples.size());
  return samples[rank - 1];
}

double Millis(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// The number after `"key": ` in EXPLAIN's JSON, or nullopt.
std::optional<double> JsonNumber(std::string_view json, std::string_view key) {
  const std::string needle = StrCat("\"", key, "\": ");
  size_t at = json.find(needle);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string rest(json.substr(at + needle.size(), 40));
  char* end = nullptr;
  double v = std::strtod(rest.c_str(), &end);
  if (end == rest.c_str()) return std::nullopt;
  return v;
}

enum class Outcome { kApplied, kRepeat, kRefused };

}  // namespace

// ------------------------------------------------------------ figures

std::string ToString(const PgFigure& f) {
  return StrCat(f.measure_id, "/", f.collaborative_id.empty() ? "national" : f.collaborative_id,
                ": ", f.numerator, "/", f.denominator, " reported ", f.reported);
}

std::vector<PgFigure> FiguresOf(const v1::QuarterlyReport& report) {
  std::vector<PgFigure> out;
  auto add = [&](const std::string& measure, const std::string& collaborative,
                 const v1::Figure& f) {
    if (f.coverage().reported() == 0) return;
    out.push_back({measure, collaborative, f.numerator(), f.denominator(), f.coverage().reported()});
  };
  for (const auto& type : report.types()) {
    for (const auto& topic : type.topics()) {
      for (const auto& m : topic.measures()) {
        add(m.measure().id(), "", m.national());
        for (const auto& area : m.collaboratives()) {
          add(m.measure().id(), area.collaborative_id(), area.figure());
        }
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const PgFigure& a, const PgFigure& b) {
    return std::tie(a.measure_id, a.collaborative_id) < std::tie(b.measure_id, b.collaborative_id);
  });
  return out;
}

// ------------------------------------------------------------ PgBaseline

struct PgBaseline::Impl {
  std::string conninfo;
  bool summary_table = false;
  // Schema, catalogue, reports.
  Conn admin;
  // One per loading client, kept open.
  std::vector<Conn> clients;

  absl::Status LoadCatalogue(const std::vector<v1::CatalogueChanged>& changes,
                             int* memberships);
  absl::StatusOr<Conn> LoadingConnection();
  // One request, retried on deadlock or serialisation failure.
  absl::StatusOr<Outcome> Send(PGconn* conn, const v1::ObservationsSubmitted& request,
                               std::atomic<uint64_t>* retries);
  // One attempt: the stored rows, or -1 for a repeated id.
  absl::StatusOr<int64_t> Transaction(PGconn* conn, const std::string& submission_id,
                                      const std::string& copy_data);
};

PgBaseline::PgBaseline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PgBaseline::~PgBaseline() = default;

absl::StatusOr<std::unique_ptr<PgBaseline>> PgBaseline::Create(
    const std::string& conninfo, const std::vector<v1::CatalogueChanged>& catalogue,
    bool summary_table) {
  auto impl = std::make_unique<Impl>();
  impl->conninfo = conninfo;
  impl->summary_table = summary_table;
  auto admin = Connect(conninfo);
  if (!admin.ok()) return admin.status();
  impl->admin = std::move(*admin);
  PGconn* c = impl->admin.get();

  if (auto r = Exec(c, kSchema, "create the schema"); !r.ok()) return r.status();
  if (summary_table) {
    if (auto r = Exec(c, kSummarySchema, "create the summary tables"); !r.ok()) return r.status();
  }
  int memberships = 0;
  if (absl::Status s = impl->LoadCatalogue(catalogue, &memberships); !s.ok()) return s;
  if (auto r = Exec(c, "ANALYZE", "analyze"); !r.ok()) return r.status();
  if (absl::Status s = Prepare(c, StatementOf(PgReportVariant::kGroupBy), kReportGroupBy);
      !s.ok()) {
    return s;
  }
  if (summary_table) {
    if (absl::Status s = Prepare(c, StatementOf(PgReportVariant::kSummaryTable), kReportSummary);
        !s.ok()) {
      return s;
    }
  }
  auto version = Exec(c, "SHOW server_version", "server version");
  if (!version.ok()) return version.status();

  std::unique_ptr<PgBaseline> baseline(new PgBaseline(std::move(impl)));
  baseline->memberships_ignored_ = memberships;
  baseline->server_version_ = PQgetvalue(version->get(), 0, 0);
  return baseline;
}

absl::Status PgBaseline::Impl::LoadCatalogue(const std::vector<v1::CatalogueChanged>& changes,
                                             int* memberships) {
  PGconn* c = admin.get();
  if (auto r = Exec(c, "BEGIN", "begin"); !r.ok()) return r.status();
  auto run = [&](const char* sql, const std::vector<std::optional<std::string>>& params,
                 std::string_view what) -> absl::Status {
    auto r = ExecParams(c, sql, params, what);
    return r.ok() ? absl::OkStatus() : r.status();
  };
  for (const v1::CatalogueChanged& change : changes) {
    for (const auto& t : change.topics()) {
      if (absl::Status s = run("INSERT INTO topics VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                               {t.id(), t.name(), t.essential() ? "true" : "false"},
                               StrCat("topic ", t.id()));
          !s.ok()) {
        return s;
      }
    }
    for (const auto& x : change.collaboratives()) {
      if (absl::Status s = run("INSERT INTO collaboratives VALUES ($1, $2) ON CONFLICT DO NOTHING",
                               {x.id(), x.name()}, StrCat("collaborative ", x.id()));
          !s.ok()) {
        return s;
      }
    }
    for (const auto& o : change.organisations()) {
      if (absl::Status s =
              run("INSERT INTO organisations VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                  {o.ods_code(), o.name(), v1::Sector_Name(o.sector()), o.collaborative_id()},
                  StrCat("organisation ", o.ods_code()));
          !s.ok()) {
        return s;
      }
    }
    for (const auto& m : change.measures()) {
      if (absl::Status s = run(
              "INSERT INTO measures VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
              {m.id(), m.name(), m.topic_id(), v1::MeasureType_Name(m.type()), UnitName(m.unit()),
               StrCat(m.rate_per()), AggregationName(m.aggregation())},
              StrCat("measure ", m.id()));
          !s.ok()) {
        return s;
      }
    }
    for (const auto& e : change.enrolments()) {
      auto from = MonthDate(e.from_month());
      std::optional<std::string> to;
      if (!e.to_month().empty()) to = MonthDate(e.to_month());
      if (!from || (!e.to_month().empty() && !to)) {
        return absl::InvalidArgumentError(
            StrCat("enrolment ", e.ods_code(), " in ", e.measure_id(), ": malformed month"));
      }
      if (absl::Status s =
              run("INSERT INTO enrolments VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                  {e.measure_id(), e.ods_code(), *from, to},
                  StrCat("enrolment ", e.ods_code(), " in ", e.measure_id()));
          !s.ok()) {
        return s;
      }
    }
    *memberships += change.memberships_size();
  }
  auto r = Exec(c, "COMMIT", "commit the catalogue");
  return r.ok() ? absl::OkStatus() : r.status();
}

absl::StatusOr<Conn> PgBaseline::Impl::LoadingConnection() {
  auto conn = Connect(conninfo);
  if (!conn.ok()) return conn.status();
  if (auto r = Exec(conn->get(), kStaging, "create the staging table"); !r.ok()) {
    return r.status();
  }
  if (absl::Status s = Prepare(conn->get(), "apply", "SELECT apply_submission($1)"); !s.ok()) {
    return s;
  }
  return conn;
}

absl::StatusOr<int64_t> PgBaseline::Impl::Transaction(PGconn* c, const std::string& submission_id,
                                                      const std::string& copy_data) {
  if (auto r = Exec(c, "BEGIN", "begin"); !r.ok()) return r.status();
  {
    Result start(PQexec(c, kCopyStaging));
    if (PQresultStatus(start.get()) != PGRES_COPY_IN) {
      return ErrorOf(c, start.get(), "copy into staging");
    }
  }
  if (PQputCopyData(c, copy_data.data(), static_cast<int>(copy_data.size())) != 1 ||
      PQputCopyEnd(c, nullptr) != 1) {
    return absl::InternalError(StrCat("copy into staging: ", Trimmed(PQerrorMessage(c))));
  }
  absl::Status copied = absl::OkStatus();
  while (PGresult* raw = PQgetResult(c)) {
    Result r(raw);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && copied.ok()) {
      copied = ErrorOf(c, r.get(), "copy into staging");
    }
  }
  if (!copied.ok()) return copied;
  auto applied = ExecPrepared(c, "apply", {submission_id}, StrCat("submission ", submission_id));
  if (!applied.ok()) return applied.status();
  const int64_t stored = std::strtoll(PQgetvalue(applied->get(), 0, 0), nullptr, 10);
  if (auto r = Exec(c, "COMMIT", "commit"); !r.ok()) return r.status();
  return stored;
}

absl::StatusOr<Outcome> PgBaseline::Impl::Send(PGconn* c, const v1::ObservationsSubmitted& request,
                                               std::atomic<uint64_t>* retries) {
  std::string data;
  data.reserve(static_cast<size_t>(request.rows_size()) * 64);
  for (const v1::Observation& row : request.rows()) {
    auto month = MonthDate(row.month());
    if (!month) return Outcome::kRefused;  // not `YYYY-MM`: nothing sent
    AppendCopyText(&data, row.ods_code());
    data.push_back('\t');
    AppendCopyText(&data, row.measure_id());
    StrAppend(&data, "\t", *month, "\t", row.numerator(), "\t");
    if (row.has_denominator()) {
      StrAppend(&data, row.denominator());
    } else {
      data.append("\\N");
    }
    data.push_back('\n');
  }
  for (int attempt = 1;; ++attempt) {
    auto stored = Transaction(c, request.submission_id(), data);
    if (stored.ok()) return *stored < 0 ? Outcome::kRepeat : Outcome::kApplied;
    if (PQstatus(c) != CONNECTION_OK) return stored.status();
    if (PQtransactionStatus(c) != PQTRANS_IDLE) {
      if (auto r = Exec(c, "ROLLBACK", "rollback"); !r.ok()) return r.status();
    }
    if (absl::IsAborted(stored.status()) && attempt < 20) {
      retries->fetch_add(1);
      continue;
    }
    if (absl::IsInvalidArgument(stored.status())) return Outcome::kRefused;
    return stored.status();
  }
}

absl::StatusOr<PgLoadStats> PgBaseline::Load(const std::vector<v1::ObservationsSubmitted>& requests,
                                             int clients,
                                             const std::function<void(uint64_t)>& progress) {
  if (clients < 1) return absl::InvalidArgumentError("clients must be at least 1");
  while (impl_->clients.size() < static_cast<size_t>(clients)) {
    auto conn = impl_->LoadingConnection();
    if (!conn.ok()) return conn.status();
    impl_->clients.push_back(std::move(*conn));
  }

  std::atomic<size_t> next{0};
  std::atomic<uint64_t> rows_done{0}, applied{0}, repeats{0}, refused{0}, retries{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::condition_variable finished_cv;
  bool finished = false;
  absl::Status first_error = absl::OkStatus();

  const auto start = Clock::now();
  std::thread reporter;
  if (progress) {
    reporter = std::thread([&] {
      std::unique_lock lock(mu);
      while (!finished_cv.wait_for(lock, std::chrono::seconds(1), [&] { return finished; })) {
        progress(rows_done.load());
      }
    });
  }
  std::vector<std::thread> workers;
  for (int i = 0; i < clients; ++i) {
    PGconn* conn = impl_->clients[i].get();
    workers.emplace_back([&, conn] {
      while (!failed.load()) {
        const size_t index = next.fetch_add(1);
        if (index >= requests.size()) break;
        auto outcome = impl_->Send(conn, requests[index], &retries);
        if (!outcome.ok()) {
          std::lock_guard lock(mu);
          if (first_error.ok()) first_error = outcome.status();
          failed = true;
          break;
        }
        switch (*outcome) {
          case Outcome::kApplied:
            applied.fetch_add(1);
            break;
          case Outcome::kRepeat:
            repeats.fetch_add(1);
            break;
          case Outcome::kRefused:
            refused.fetch_add(1);
            break;
        }
        rows_done.fetch_add(static_cast<uint64_t>(requests[index].rows_size()));
      }
    });
  }
  for (auto& w : workers) w.join();
  const auto end = Clock::now();
  {
    std::lock_guard lock(mu);
    finished = true;
  }
  finished_cv.notify_all();
  if (reporter.joinable()) reporter.join();
  if (progress) progress(rows_done.load());
  if (!first_error.ok()) return first_error;

  PgLoadStats stats;
  stats.requests = requests.size();
  stats.rows = rows_done.load();
  stats.applied = applied.load();
  stats.repeats = repeats.load();
  stats.refused = refused.load();
  stats.retries = retries.load();
  stats.seconds = std::chrono::duration<double>(end - start).count();
  return stats;
}

absl::Status PgBaseline::Vacuum() {
  const char* sql = impl_->summary_table
                        ? "VACUUM (ANALYZE) observations, submissions, monthly_sums, quarter_latest"
                        : "VACUUM (ANALYZE) observations, submissions";
  auto r = Exec(impl_->admin.get(), sql, "vacuum");
  return r.ok() ? absl::OkStatus() : r.status();
}

absl::StatusOr<std::vector<PgFigure>> PgBaseline::Report(Quarter quarter,
                                                         PgReportVariant variant) {
  if (variant == PgReportVariant::kSummaryTable && !impl_->summary_table) {
    return absl::FailedPreconditionError("the summary table report needs summary_table");
  }
  auto r = ExecPrepared(impl_->admin.get(), StatementOf(variant),
                        {DateOf(quarter.FirstMonth()), DateOf(quarter.LastMonth())},
                        StrCat("report ", quarter.ToString()));
  if (!r.ok()) return r.status();
  std::vector<PgFigure> figures;
  PGresult* res = r->get();
  for (int i = 0; i < PQntuples(res); ++i) {
    PgFigure f;
    f.measure_id = PQgetvalue(res, i, 0);
    f.collaborative_id = PQgetvalue(res, i, 1);
    f.numerator = std::strtoll(PQgetvalue(res, i, 2), nullptr, 10);
    f.denominator = std::strtoll(PQgetvalue(res, i, 3), nullptr, 10);
    f.reported = std::strtoll(PQgetvalue(res, i, 4), nullptr, 10);
    figures.push_back(std::move(f));
  }
  // The server's ORDER BY already; sorted here too so the order never
  // depends on its collation.
  std::sort(figures.begin(), figures.end(), [](const PgFigure& a, const PgFigure& b) {
    return std::tie(a.measure_id, a.collaborative_id) < std::tie(b.measure_id, b.collaborative_id);
  });
  return figures;
}

absl::StatusOr<PgReportTiming> PgBaseline::TimeReport(Quarter quarter, PgReportVariant variant,
                                                      int repeats) {
  if (repeats < 1) return absl::InvalidArgumentError("repeats must be at least 1");
  if (variant == PgReportVariant::kSummaryTable && !impl_->summary_table) {
    return absl::FailedPreconditionError("the summary table report needs summary_table");
  }
  PGconn* c = impl_->admin.get();
  const std::vector<std::string> params = {DateOf(quarter.FirstMonth()),
                                           DateOf(quarter.LastMonth())};
  const std::string explain =
      StrCat("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY, FORMAT JSON) EXECUTE ", StatementOf(variant),
             "('", params[0], "', '", params[1], "')");
  std::vector<double> client_ms, server_ms;
  size_t bytes_read = 0;
  for (int i = -3; i < repeats; ++i) {
    const auto t0 = Clock::now();
    auto r = ExecPrepared(c, StatementOf(variant), params, "report");
    if (!r.ok()) return r.status();
    PGresult* res = r->get();
    for (int row = 0; row < PQntuples(res); ++row) {
      for (int col = 0; col < PQnfields(res); ++col) bytes_read += PQgetlength(res, row, col);
    }
    const auto t1 = Clock::now();
    auto plan = Exec(c, explain.c_str(), "explain the report");
    if (!plan.ok()) return plan.status();
    const std::string_view json = PQgetvalue(plan->get(), 0, 0);
    auto planning = JsonNumber(json, "Planning Time");
    auto execution = JsonNumber(json, "Execution Time");
    if (!execution) return absl::InternalError("EXPLAIN ANALYZE gave no Execution Time");
    if (i < 0) continue;  // warming up
    client_ms.push_back(Millis(t1 - t0));
    server_ms.push_back(planning.value_or(0) + *execution);
  }
  (void)bytes_read;
  PgReportTiming t;
  t.repeats = repeats;
  t.p50_ms = Percentile(client_ms, 0.50);
  t.p99_ms = Percentile(client_ms, 0.99);
  t.server_p50_ms = Percentile(server_ms, 0.50);
  t.server_p99_ms = Percentile(server_ms, 0.99);
  return t;
}

absl::StatusOr<uint64_t> PgBaseline::CountObservations() {
  auto r = Exec(impl_->admin.get(), "SELECT count(*) FROM observations", "count observations");
  if (!r.ok()) return r.status();
  return std::strtoull(PQgetvalue(r->get(), 0, 0), nullptr, 10);
}

// ------------------------------------------------------------ one call

absl::StatusOr<PgResult> RunPostgresBaseline(const std::vector<v1::CatalogueChanged>& catalogue,
                                             const std::vector<v1::ObservationsSubmitted>& requests,
                                             const PgOptions& options) {
  if (options.quarter.fy_start_year() < Month::kMinYear ||
      options.quarter.fy_start_year() > Month::kMaxYear) {
    return absl::InvalidArgumentError("PgOptions.quarter: set the quarter the report asks for");
  }
  if (options.clients < 1) return absl::InvalidArgumentError("PgOptions.clients must be >= 1");
  if (options.report_repeats < 1) {
    return absl::InvalidArgumentError("PgOptions.report_repeats must be >= 1");
  }
  PgServerOptions server_options;
  server_options.bin_dir = options.bin_dir;
  server_options.work_dir = options.work_dir;
  auto server = PgServer::Start(server_options);
  if (!server.ok()) return server.status();

  PgResult result;
  result.server_pid = (*server)->pid();
  result.server_dir = (*server)->dir();
  {
    // Destroyed (connections closed) before the server stops; on an error
    // return, `server` stops it and removes the folder.
    auto baseline = PgBaseline::Create(
        options.unix_socket ? (*server)->unix_conninfo() : (*server)->conninfo(), catalogue,
        options.summary_table);
    if (!baseline.ok()) return baseline.status();
    PgBaseline& pg = **baseline;
    result.server_version = pg.server_version();
    result.memberships_ignored = pg.memberships_ignored();

    auto load = pg.Load(requests, options.clients, options.progress);
    if (!load.ok()) return load.status();
    result.load = *load;
    result.rows = load->rows;
    result.ingest_seconds = load->seconds;
    result.rows_per_second = load->seconds > 0 ? static_cast<double>(load->rows) / load->seconds : 0;

    const auto vacuum_start = Clock::now();
    if (absl::Status s = pg.Vacuum(); !s.ok()) return s;
    result.vacuum_seconds = std::chrono::duration<double>(Clock::now() - vacuum_start).count();

    const PgReportVariant variant =
        options.summary_table ? PgReportVariant::kSummaryTable : PgReportVariant::kGroupBy;
    auto figures = pg.Report(options.quarter, variant);
    if (!figures.ok()) return figures.status();
    if (options.summary_table) {
      auto raw = pg.Report(options.quarter, PgReportVariant::kGroupBy);
      if (!raw.ok()) return raw.status();
      if (*raw != *figures) {
        std::string diff;
        for (size_t i = 0; i < std::max(raw->size(), figures->size()); ++i) {
          if (i < raw->size() && i < figures->size() && (*raw)[i] == (*figures)[i]) continue;
          diff = StrCat(i < raw->size() ? ToString((*raw)[i]) : "(none)", " vs ",
                        i < figures->size() ? ToString((*figures)[i]) : "(none)");
          break;
        }
        return absl::InternalError(
            StrCat("the summary table's report differs from the GROUP BY's: ", diff));
      }
    }
    result.figures = std::move(*figures);

    auto timing = pg.TimeReport(options.quarter, variant, options.report_repeats);
    if (!timing.ok()) return timing.status();
    result.report_p50_ms = timing->p50_ms;
    result.report_p99_ms = timing->p99_ms;
    result.report_server_p50_ms = timing->server_p50_ms;
    result.report_server_p99_ms = timing->server_p99_ms;

    auto observations = pg.CountObservations();
    if (!observations.ok()) return observations.status();
    result.observations = *observations;

    const PgMemory memory = (*server)->Memory();
    result.peak_rss_bytes = memory.peak_rss_bytes;
    result.pss_bytes = memory.pss_bytes;
    result.server_processes = memory.processes;
  }
  if (absl::Status s = (*server)->Stop(); !s.ok()) return s;
  return result;
}

absl::StatusOr<PgResult> RunPostgresBaseline(const v1::CatalogueChanged& catalogue,
                                             const std::vector<v1::ObservationsSubmitted>& requests,
                                             const PgOptions& options) {
  return RunPostgresBaseline(std::vector<v1::CatalogueChanged>{catalogue}, requests, options);
}

}  // namespace psc::bench
