// The PostgreSQL baseline against a real PostgreSQL 15 server: figures worked
// out by hand for the small catalogue, both report variants, the same
// figures as our own report folded from the same events, and the server
// stopped with its folder removed afterwards, on success and on error.
//
// The small catalogue: wessex = RHM, RDZ; oxford = RTH, R1A; every
// organisation enrolled for every measure from 2024-01, except R1A (never
// enrolled in news2-on-time.v1) and RTH's falls-count.v1 (ends 2024-06).
#include "pg_baseline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "psc/demo/demo.h"
#include "psc/projection/read_model.h"
#include "psc/report/report.h"
#include "psc/testing/fixtures.h"
#include "psc/testing/process.h"

namespace psc::bench {

void PrintTo(const PgFigure& f, std::ostream* os) { *os << ToString(f); }

namespace {

using ::psc::testing::Batch;
using ::psc::testing::EventOf;
using ::psc::testing::Obs;
using ::psc::testing::SmallCatalogue;
using ::testing::ElementsAreArray;

constexpr Quarter kQ1 = Quarter::Of(2024, 1);  // Apr-Jun 2024

// A folder the server's account may enter (the server runs as `postgres`
// when the tests run as root).
class WorkDir {
 public:
  WorkDir() { chmod(dir_.path().c_str(), 0711); }
  const std::string& path() const { return dir_.path(); }
  bool Empty() const { return std::filesystem::is_empty(dir_.path()); }

 private:
  ::psc::testing::TempDir dir_;
};

bool ProcessGone(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

// Processes whose parent is this test process.
int ChildrenOfThisProcess() {
  int n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 1));
    std::string state;
    pid_t ppid = -1;
    rest >> state >> ppid;
    if (ppid == getpid()) ++n;
  }
  return n;
}

// Our own report of `quarter`, folded from the same catalogue and requests.
std::vector<PgFigure> OurFigures(const std::vector<v1::CatalogueChanged>& catalogue,
                                 const std::vector<v1::ObservationsSubmitted>& requests,
                                 Quarter quarter) {
  ::psc::testing::TempDir dir;
  auto model = projection::ReadModel::Open(dir.Sub("readmodel"));
  EXPECT_TRUE(model.ok()) << model.status();
  if (!model.ok()) return {};
  std::vector<eventlog::Record> records;
  for (const auto& c : catalogue) {
    records.push_back({LogPosition(records.size() + 1), EventOf(c)});
  }
  for (const auto& r : requests) {
    records.push_back({LogPosition(records.size() + 1), EventOf(r)});
  }
  EXPECT_TRUE((*model)->Apply(records).ok());
  auto view = (*model)->Snapshot();
  auto report = report::BuildQuarterlyReport(view, quarter);
  EXPECT_TRUE(report.ok()) << report.status();
  return report.ok() ? FiguresOf(*report) : std::vector<PgFigure>{};
}

// Requests with a correction, a repeated submission id and refusals.
std::vector<v1::ObservationsSubmitted> HandRequests() {
  return {
      Batch("r1", {Obs("RHM", "falls-harm-rate.v1", "2024-04", 3, 1000),
                   Obs("RHM", "falls-count.v1", "2024-04", 5),
                   Obs("RHM", "staff-trained.v1", "2024-04", 100),
                   Obs("RDZ", "falls-harm-rate.v1", "2024-04", 2, 800)}),
      Batch("r2", {Obs("RTH", "falls-harm-rate.v1", "2024-05", 4, 1200),
                   Obs("RTH", "falls-count.v1", "2024-05", 7),
                   Obs("RHM", "staff-trained.v1", "2024-06", 120),
                   Obs("R1A", "cc-admissions.v1", "2024-06", 1),
                   Obs("RHM", "news2-on-time.v1", "2024-05", 90, 100)}),
      // Corrections: replace 3/1000 and 120.
      Batch("r3", {Obs("RHM", "falls-harm-rate.v1", "2024-04", 6, 1000),
                   Obs("RHM", "staff-trained.v1", "2024-06", 125)}),
      // r2 again, other values: a repeated id changes nothing.
      Batch("r2", {Obs("RTH", "falls-count.v1", "2024-05", 999)}),
      // March is in the quarter before; RDZ's latest month is May.
      Batch("r4", {Obs("RHM", "falls-count.v1", "2024-03", 50),
                   Obs("RDZ", "staff-trained.v1", "2024-05", 40),
                   Obs("RDZ", "staff-trained.v1", "2024-04", 30)}),
      // Refused whole: R1A is not enrolled in news2 (RDZ's row goes too) ...
      Batch("bad-enrolment", {Obs("RDZ", "falls-count.v1", "2024-04", 3),
                              Obs("R1A", "news2-on-time.v1", "2024-04", 90, 100)}),
      // ... RTH's falls-count enrolment ended in June ...
      Batch("bad-ended", {Obs("RTH", "falls-count.v1", "2024-07", 2)}),
      // ... and a count has no denominator.
      Batch("bad-unit", {Obs("RDZ", "cc-admissions.v1", "2024-05", 2, 10)}),
  };
}

// 2024/25 Q1 worked out by hand:
//   falls-harm-rate  wessex RHM Apr 6/1000 (corrected) + RDZ Apr 2/800 = 8/1800, 2 months;
//                    oxford RTH May 4/1200, 1; national 12/3000, 3.
//   falls-count      wessex RHM Apr 5 (March is Q4); oxford RTH May 7 (not 999);
//                    national 12, 2.
//   news2-on-time    wessex RHM May 90/100.
//   staff-trained    LAST: RHM's latest month Jun 125 (corrected), RDZ's May 40:
//                    wessex and national 165, from 4 organisation-months.
//   cc-admissions    oxford R1A Jun 1.
std::vector<PgFigure> HandFigures() {
  return {
      {"cc-admissions.v1", "", 1, 0, 1},
      {"cc-admissions.v1", "oxford", 1, 0, 1},
      {"falls-count.v1", "", 12, 0, 2},
      {"falls-count.v1", "oxford", 7, 0, 1},
      {"falls-count.v1", "wessex", 5, 0, 1},
      {"falls-harm-rate.v1", "", 12, 3000, 3},
      {"falls-harm-rate.v1", "oxford", 4, 1200, 1},
      {"falls-harm-rate.v1", "wessex", 8, 1800, 2},
      {"news2-on-time.v1", "", 90, 100, 1},
      {"news2-on-time.v1", "wessex", 90, 100, 1},
      {"staff-trained.v1", "", 165, 0, 4},
      {"staff-trained.v1", "wessex", 165, 0, 4},
  };
}

TEST(PgBaselineTest, HandWorkedFiguresFromBothVariantsAndOurReport) {
  WorkDir work;
  pid_t pid = -1;
  std::string dir;
  {
    PgServerOptions options;
    options.work_dir = work.path();
    auto server = PgServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    pid = (*server)->pid();
    dir = (*server)->dir();
    EXPECT_FALSE(ProcessGone(pid));
    EXPECT_TRUE(std::filesystem::exists(dir + "/data/PG_VERSION"));

    auto pg = PgBaseline::Create((*server)->conninfo(), {SmallCatalogue()}, /*summary_table=*/true);
    ASSERT_TRUE(pg.ok()) << pg.status();
    EXPECT_THAT((*pg)->server_version(), ::testing::StartsWith("15."));

    // One client: the requests apply in the order given.
    auto load = (*pg)->Load(HandRequests(), /*clients=*/1);
    ASSERT_TRUE(load.ok()) << load.status();
    EXPECT_EQ(load->requests, 8u);
    EXPECT_EQ(load->rows, 4u + 5 + 2 + 1 + 3 + 2 + 1 + 1);
    EXPECT_EQ(load->applied, 4u);
    EXPECT_EQ(load->repeats, 1u);
    EXPECT_EQ(load->refused, 3u);
    auto stored = (*pg)->CountObservations();
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(*stored, 4u + 5 + 3);  // distinct keys: r3 corrected two of them

    ASSERT_TRUE((*pg)->Vacuum().ok());
    auto a = (*pg)->Report(kQ1, PgReportVariant::kGroupBy);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_THAT(*a, ElementsAreArray(HandFigures()));
    auto b = (*pg)->Report(kQ1, PgReportVariant::kSummaryTable);
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_THAT(*b, ElementsAreArray(HandFigures()));
    EXPECT_THAT(OurFigures({SmallCatalogue()}, HandRequests(), kQ1),
                ElementsAreArray(HandFigures()));

    // The quarter before holds only RHM's March falls.
    auto q4 = (*pg)->Report(Quarter::Of(2023, 4), PgReportVariant::kSummaryTable);
    ASSERT_TRUE(q4.ok()) << q4.status();
    EXPECT_THAT(*q4, ElementsAreArray(std::vector<PgFigure>{
                         {"falls-count.v1", "", 50, 0, 1}, {"falls-count.v1", "wessex", 50, 0, 1}}));

    auto timing = (*pg)->TimeReport(kQ1, PgReportVariant::kGroupBy, 5);
    ASSERT_TRUE(timing.ok()) << timing.status();
    EXPECT_GT(timing->p50_ms, 0);
    EXPECT_GT(timing->server_p50_ms, 0);
    EXPECT_LE(timing->p50_ms, timing->p99_ms);

    const PgMemory memory = (*server)->Memory();
    EXPECT_GE(memory.processes, 3);  // postmaster, checkpointer, two backends, ...
    EXPECT_GT(memory.peak_rss_bytes, 0u);
    EXPECT_GT(memory.pss_bytes, 0u);
    pg->reset();
  }
  EXPECT_TRUE(ProcessGone(pid));
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_TRUE(work.Empty());
}

TEST(PgBaselineTest, WithoutSummaryTableOnlyTheGroupByReport) {
  WorkDir work;
  PgServerOptions options;
  options.work_dir = work.path();
  auto server = PgServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto pg = PgBaseline::Create((*server)->unix_conninfo(), {SmallCatalogue()}, false);
  ASSERT_TRUE(pg.ok()) << pg.status();
  auto load = (*pg)->Load(HandRequests(), 1);
  ASSERT_TRUE(load.ok()) << load.status();
  auto a = (*pg)->Report(kQ1, PgReportVariant::kGroupBy);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(*a, ElementsAreArray(HandFigures()));
  EXPECT_EQ((*pg)->Report(kQ1, PgReportVariant::kSummaryTable).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// A small demo programme (2023/24 Q1 and Q2, with gaps, corrections and
// resends) loaded by four concurrent clients.
class PgBaselineDemoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    demo::DemoOptions o;
    o.organisations_per_collaborative = 2;
    o.months = 6;
    data_ = new demo::DemoData(demo::Generate(o));
    requests_ = new std::vector<v1::ObservationsSubmitted>();
    resends_ = 0;
    for (const auto& r : data_->requests) {
      if (!r.observations) continue;
      requests_->push_back(*r.observations);
      if (r.resend) ++resends_;
    }
  }
  static void TearDownTestSuite() {
    delete data_;
    delete requests_;
  }
  static demo::DemoData* data_;
  static std::vector<v1::ObservationsSubmitted>* requests_;
  static uint64_t resends_;
};
demo::DemoData* PgBaselineDemoTest::data_ = nullptr;
std::vector<v1::ObservationsSubmitted>* PgBaselineDemoTest::requests_ = nullptr;
uint64_t PgBaselineDemoTest::resends_ = 0;

TEST_F(PgBaselineDemoTest, BothVariantsGiveOurReportsFigures) {
  ASSERT_GT(requests_->size(), 100u);
  WorkDir work;
  PgServerOptions options;
  options.work_dir = work.path();
  auto server = PgServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto pg = PgBaseline::Create((*server)->conninfo(), {data_->catalogue}, true);
  ASSERT_TRUE(pg.ok()) << pg.status();
  auto load = (*pg)->Load(*requests_, /*clients=*/4);
  ASSERT_TRUE(load.ok()) << load.status();
  EXPECT_EQ(load->rows, data_->rows);
  EXPECT_EQ(load->refused, 0u);
  EXPECT_EQ(load->repeats, resends_);
  EXPECT_EQ(load->applied + load->repeats, requests_->size());
  auto stored = (*pg)->CountObservations();
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(*stored, data_->distinct_observations);
  for (Quarter quarter : {Quarter::Of(2023, 1), Quarter::Of(2023, 2)}) {
    SCOPED_TRACE(quarter.ToString());
    const std::vector<PgFigure> ours = OurFigures({data_->catalogue}, *requests_, quarter);
    EXPECT_FALSE(ours.empty());
    for (PgReportVariant variant : {PgReportVariant::kGroupBy, PgReportVariant::kSummaryTable}) {
      auto figures = (*pg)->Report(quarter, variant);
      ASSERT_TRUE(figures.ok()) << figures.status();
      EXPECT_THAT(*figures, ElementsAreArray(ours));
    }
  }
}

TEST_F(PgBaselineDemoTest, RunPostgresBaselineReportsAndLeavesNothingBehind) {
  const Quarter quarter = Quarter::Of(2023, 2);
  WorkDir work;
  PgOptions options;
  options.clients = 4;
  options.summary_table = true;  // also checks variant B's figures against A's
  options.report_repeats = 5;
  options.quarter = quarter;
  options.work_dir = work.path();
  int progress_calls = 0;
  uint64_t last_progress = 0;
  options.progress = [&](uint64_t rows) {
    ++progress_calls;
    last_progress = rows;
  };
  auto result = RunPostgresBaseline(data_->catalogue, *requests_, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->rows, data_->rows);
  EXPECT_EQ(last_progress, data_->rows);
  EXPECT_GE(progress_calls, 1);
  EXPECT_EQ(result->load.refused, 0u);
  EXPECT_EQ(result->load.repeats, resends_);
  EXPECT_EQ(result->observations, data_->distinct_observations);
  EXPECT_GT(result->ingest_seconds, 0);
  EXPECT_NEAR(result->rows_per_second, result->rows / result->ingest_seconds, 1e-6);
  EXPECT_GT(result->report_p50_ms, 0);
  EXPECT_LE(result->report_p50_ms, result->report_p99_ms);
  EXPECT_GT(result->report_server_p50_ms, 0);
  EXPECT_GT(result->peak_rss_bytes, 0u);
  EXPECT_GT(result->pss_bytes, 0u);
  EXPECT_EQ(result->memberships_ignored, 0);
  EXPECT_THAT(result->server_version, ::testing::StartsWith("15."));
  EXPECT_THAT(result->figures,
              ElementsAreArray(OurFigures({data_->catalogue}, *requests_, quarter)));
  EXPECT_TRUE(ProcessGone(result->server_pid));
  EXPECT_FALSE(std::filesystem::exists(result->server_dir));
  EXPECT_TRUE(work.Empty());
}

TEST(PgBaselineTest, ServerStoppedAndFolderRemovedOnError) {
  WorkDir work;
  v1::CatalogueChanged broken = SmallCatalogue();
  broken.mutable_measures(0)->set_topic_id("no-such-topic");  // a foreign key violation
  PgOptions options;
  options.quarter = kQ1;
  options.work_dir = work.path();
  auto result = RunPostgresBaseline(broken, {}, options);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()), ::testing::HasSubstr("no-such-topic"));
  EXPECT_TRUE(work.Empty());
  EXPECT_EQ(ChildrenOfThisProcess(), 0);
}

TEST(PgBaselineTest, OptionsChecked) {
  PgOptions options;  // no quarter
  EXPECT_EQ(RunPostgresBaseline(SmallCatalogue(), {}, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.quarter = kQ1;
  options.clients = 0;
  EXPECT_EQ(RunPostgresBaseline(SmallCatalogue(), {}, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace psc::bench
