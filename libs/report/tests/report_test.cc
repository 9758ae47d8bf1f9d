// The quarterly report and series, built from a real read model folded from
// events made of the small catalogue. Every expected figure is worked out
// by hand in the comments.
//
// The small catalogue: wessex = RHM, RDZ; oxford = RTH, R1A; every
// organisation enrolled for every measure from 2024-01, except R1A (never
// enrolled in news2-on-time.v1) and RTH's falls-count.v1 (ends 2024-06).
#include "psc/report/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "psc/domain/strings.h"
#include "psc/domain/violations.h"
#include "psc/projection/read_model.h"
#include "psc/testing/fixtures.h"
#include "psc/testing/process.h"

namespace psc::report {
namespace {

using ::psc::testing::Batch;
using ::psc::testing::EventOf;
using ::psc::testing::Obs;
using ::psc::testing::SmallCatalogue;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr Quarter kQ4_2023 = Quarter::Of(2023, 4);  // Jan-Mar 2024
constexpr Quarter kQ1 = Quarter::Of(2024, 1);       // Apr-Jun 2024
constexpr Quarter kQ2 = Quarter::Of(2024, 2);       // Jul-Sep 2024
constexpr Quarter kQ4 = Quarter::Of(2024, 4);       // Jan-Mar 2025

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override { model_ = Open("readmodel"); }

  std::unique_ptr<projection::ReadModel> Open(const std::string& name) {
    auto model = projection::ReadModel::Open(dir_.Sub(name));
    EXPECT_TRUE(model.ok()) << model.status();
    return model.ok() ? std::move(*model) : nullptr;
  }

  // Appends one event at the next position and folds it.
  void Apply(std::string payload) {
    records_.push_back({LogPosition(records_.size() + 1), std::move(payload)});
    ASSERT_TRUE(model_->Apply({records_.back()}).ok());
  }

  v1::QuarterlyReport Report(Quarter q) { return Report(*model_, q); }
  static v1::QuarterlyReport Report(const projection::ReadModel& model, Quarter q) {
    auto view = model.Snapshot();
    auto report = BuildQuarterlyReport(view, q);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.value_or(v1::QuarterlyReport());
  }

  absl::StatusOr<v1::Series> Series(const v1::GetSeriesRequest& request) {
    auto view = model_->Snapshot();
    return BuildSeries(view, request);
  }

  ::psc::testing::TempDir dir_;
  std::unique_ptr<projection::ReadModel> model_;
  std::vector<eventlog::Record> records_;
};

const v1::MeasureReport& MeasureIn(const v1::QuarterlyReport& report, const std::string& id) {
  for (const auto& t : report.types()) {
    for (const auto& topic : t.topics()) {
      for (const auto& m : topic.measures()) {
        if (m.measure().id() == id) return m;
      }
    }
  }
  ADD_FAILURE() << "measure " << id << " not in the report";
  static const v1::MeasureReport kNone;
  return kNone;
}

const v1::Figure& AreaIn(const v1::MeasureReport& m, const std::string& collaborative) {
  for (const auto& a : m.collaboratives()) {
    if (a.collaborative_id() == collaborative) return a.figure();
  }
  ADD_FAILURE() << collaborative << " not listed for " << m.measure().id();
  static const v1::Figure kNone;
  return kNone;
}

std::vector<std::string> AreaIds(const v1::MeasureReport& m) {
  std::vector<std::string> out;
  for (const auto& a : m.collaboratives()) out.push_back(a.collaborative_id());
  return out;
}

// numerator, denominator, reported, expected of a figure, to compare at once.
struct Flat {
  int64_t numerator, denominator, reported, expected;
  bool operator==(const Flat&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Flat& f) {
  return os << "{" << f.numerator << ", " << f.denominator << ", " << f.reported << ", "
            << f.expected << "}";
}
Flat FlatOf(const v1::Figure& f) {
  return {f.numerator(), f.denominator(), f.coverage().reported(), f.coverage().expected()};
}

TEST_F(ReportTest, SumAddsEveryOrganisationMonthOfTheQuarter) {
  Apply(EventOf(SmallCatalogue()));
  Apply(EventOf(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 5),
                             Obs("RHM", "falls-count.v1", "2024-05", 2),
                             Obs("RHM", "falls-count.v1", "2024-06", 1),
                             Obs("RDZ", "falls-count.v1", "2024-04", 3),
                             Obs("RTH", "falls-count.v1", "2024-04", 4),
                             Obs("RTH", "falls-count.v1", "2024-06", 6),
                             Obs("R1A", "falls-count.v1", "2024-05", 0),
                             // Outside the quarter: not counted in Q1.
                             Obs("RHM", "falls-count.v1", "2024-03", 100),
                             Obs("RHM", "falls-count.v1", "2024-07", 100)})));
  v1::QuarterlyReport report = Report(kQ1);
  const auto& m = MeasureIn(report, "falls-count.v1");
  // wessex: RHM 5 + 2 + 1 + RDZ 3 = 11 from 4 org-months of 2 orgs x 3 = 6.
  EXPECT_EQ(FlatOf(AreaIn(m, "wessex")), (Flat{11, 0, 4, 6}));
  EXPECT_EQ(AreaIn(m, "wessex").value(), 11.0);
  // oxford: RTH 4 + 6 + R1A 0 = 10 from 3 org-months; RTH enrolled to
  // 2024-06 and R1A throughout: 6 expected.
  EXPECT_EQ(FlatOf(AreaIn(m, "oxford")), (Flat{10, 0, 3, 6}));
  // national: 21 from 7 of 12.
  EXPECT_EQ(FlatOf(m.national()), (Flat{21, 0, 7, 12}));
  EXPECT_EQ(m.national().value(), 21.0);
  EXPECT_THAT(AreaIds(m), ElementsAre("oxford", "wessex"));
}

TEST_F(ReportTest, EnrolmentThatEndsLeavesTheExpectedCount) {
  Apply(EventOf(SmallCatalogue()));
  Apply(EventOf(Batch("s1", {Obs("R1A", "falls-count.v1", "2024-07", 2)})));
  // 2024/25 Q2 (Jul-Sep): RTH's falls-count enrolment ended in 2024-06, so
  // oxford expects R1A only: 1 org x 3 months; national 3 orgs x 3 = 9.
  v1::QuarterlyReport report = Report(kQ2);
  const auto& m = MeasureIn(report, "falls-count.v1");
  EXPECT_EQ(FlatOf(AreaIn(m, "oxford")), (Flat{2, 0, 1, 3}));
  EXPECT_EQ(FlatOf(m.national()), (Flat{2, 0, 1, 9}));
  // wessex is enrolled but reported nothing: listed, with no value.
  EXPECT_EQ(FlatOf(AreaIn(m, "wessex")), (Flat{0, 0, 0, 6}));
  EXPECT_FALSE(AreaIn(m, "wessex").has_value());
}

TEST_F(ReportTest, RatioDividesSummedNumeratorsBySummedDenominators) {
  Apply(EventOf(SmallCatalogue()));
  Apply(EventOf(Batch("s1", {Obs("RHM", "falls-harm-rate.v1", "2024-04", 3, 2000),
                             Obs("RDZ", "falls-harm-rate.v1", "2024-05", 1, 1000),
                             Obs("RTH", "falls-harm-rate.v1", "2024-06", 2, 500),
                             Obs("RHM", "news2-on-time.v1", "2024-04", 45, 50),
                             Obs("RDZ", "news2-on-time.v1", "2024-04", 40, 50),
                             Obs("RTH", "news2-on-time.v1", "2024-04", 30, 40)})));
  v1::QuarterlyReport report = Report(kQ1);

  const auto& rate = MeasureIn(report, "falls-harm-rate.v1");
  // wessex: (3 + 1) / (2000 + 1000) x 1,000 = 1.3333... per 1,000 bed days.
  EXPECT_EQ(FlatOf(AreaIn(rate, "wessex")), (Flat{4, 3000, 2, 6}));
  EXPECT_DOUBLE_EQ(AreaIn(rate, "wessex").value(), 4.0 / 3000.0 * 1000.0);
  // oxford: 2 / 500 x 1,000 = 4.
  EXPECT_EQ(FlatOf(AreaIn(rate, "oxford")), (Flat{2, 500, 1, 6}));
  EXPECT_DOUBLE_EQ(AreaIn(rate, "oxford").value(), 4.0);
  // national: (3 + 1 + 2) / 3500 x 1,000 = 1.714285... (not the mean of the
  // two areas' rates).
  EXPECT_EQ(FlatOf(rate.national()), (Flat{6, 3500, 3, 12}));
  EXPECT_DOUBLE_EQ(rate.national().value(), 6.0 / 3500.0 * 1000.0);

  const auto& news2 = MeasureIn(report, "news2-on-time.v1");
  // national: (45 + 40 + 30) / (50 + 50 + 40) = 115 / 140 = 82.142857...%.
  // R1A is not enrolled in news2: oxford expects RTH's 3 months only, the
  // nation 3 organisations x 3 months = 9.
  EXPECT_EQ(FlatOf(news2.national()), (Flat{115, 140, 3, 9}));
  EXPECT_DOUBLE_EQ(news2.national().value(), 115.0 / 140.0 * 100.0);
  EXPECT_EQ(FlatOf(AreaIn(news2, "oxford")), (Flat{30, 40, 1, 3}));
  EXPECT_DOUBLE_EQ(AreaIn(news2, "oxford").value(), 75.0);
  EXPECT_EQ(FlatOf(AreaIn(news2, "wessex")), (Flat{85, 100, 2, 6}));
  EXPECT_DOUBLE_EQ(AreaIn(news2, "wessex").value(), 85.0);
}

TEST_F(ReportTest, LastTakesEachOrganisationsLatestMonthInTheQuarter) {
  Apply(EventOf(SmallCatalogue()));
  // 2024/25 Q4 = Jan-Mar 2025. RHM: Jan 10, Mar 12 -> Mar 12. RDZ: Feb only
  // -> 7. RTH: Jan 4, Feb 5 -> 5. R1A: nothing.
  Apply(EventOf(Batch("s1", {Obs("RHM", "staff-trained.v1", "2025-01", 10),
                             Obs("RHM", "staff-trained.v1", "2025-03", 12),
                             Obs("RDZ", "staff-trained.v1", "2025-02", 7),
                             Obs("RTH", "staff-trained.v1", "2025-01", 4),
                             Obs("RTH", "staff-trained.v1", "2025-02", 5),
                             // The previous quarter does not carry over.
                             Obs("R1A", "staff-trained.v1", "2024-12", 50)})));
  {
    v1::QuarterlyReport report = Report(kQ4);
    const auto& m = MeasureIn(report, "staff-trained.v1");
    // wessex 12 + 7 = 19; coverage counts org-months: RHM Jan, Mar, RDZ Feb
    // = 3 of 2 x 3 = 6.
    EXPECT_EQ(FlatOf(AreaIn(m, "wessex")), (Flat{19, 0, 3, 6}));
    EXPECT_EQ(AreaIn(m, "wessex").value(), 19.0);
    // oxford: RTH 5, from RTH Jan, Feb = 2 of 6.
    EXPECT_EQ(FlatOf(AreaIn(m, "oxford")), (Flat{5, 0, 2, 6}));
    // national 19 + 5 = 24, from 5 of 12 org-months.
    EXPECT_EQ(FlatOf(m.national()), (Flat{24, 0, 5, 12}));
    EXPECT_EQ(m.national().value(), 24.0);
  }
  // A late February value for RHM does not displace its March one; it adds
  // an org-month to the coverage only.
  Apply(EventOf(Batch("s2", {Obs("RHM", "staff-trained.v1", "2025-02", 11)})));
  {
    v1::QuarterlyReport report = Report(kQ4);
    const auto& m = MeasureIn(report, "staff-trained.v1");
    EXPECT_EQ(FlatOf(AreaIn(m, "wessex")), (Flat{19, 0, 4, 6}));
    EXPECT_EQ(FlatOf(m.national()), (Flat{24, 0, 6, 12}));
  }
  // RDZ reports March 9: it replaces its February 7. wessex 12 + 9 = 21.
  Apply(EventOf(Batch("s3", {Obs("RDZ", "staff-trained.v1", "2025-03", 9)})));
  {
    v1::QuarterlyReport report = Report(kQ4);
    const auto& m = MeasureIn(report, "staff-trained.v1");
    EXPECT_EQ(FlatOf(AreaIn(m, "wessex")), (Flat{21, 0, 5, 6}));
    EXPECT_EQ(FlatOf(m.national()), (Flat{26, 0, 7, 12}));
  }
}

TEST_F(ReportTest, CorrectionReplacesTheValueAndTheAggregateMovesByTheDelta) {
  Apply(EventOf(SmallCatalogue()));
  Apply(EventOf(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 5),
                             Obs("RDZ", "falls-count.v1", "2024-04", 3),
                             Obs("RHM", "falls-harm-rate.v1", "2024-04", 3, 2000),
                             Obs("RHM", "staff-trained.v1", "2024-06", 12)})));
  {
    v1::QuarterlyReport report = Report(kQ1);
    EXPECT_EQ(FlatOf(MeasureIn(report, "falls-count.v1").national()), (Flat{8, 0, 2, 12}));
    EXPECT_EQ(FlatOf(MeasureIn(report, "staff-trained.v1").national()), (Flat{12, 0, 1, 12}));
  }
  // RHM resubmits April under a new submission id: 5 -> 2, so the count
  // moves by -3 (8 -> 5) with the same coverage; the rate's key moves from
  // 3/2000 to 1/1000; the stock moves 12 -> 15.
  Apply(EventOf(Batch("s2", {Obs("RHM", "falls-count.v1", "2024-04", 2),
                             Obs("RHM", "falls-harm-rate.v1", "2024-04", 1, 1000),
                             Obs("RHM", "staff-trained.v1", "2024-06", 15)})));
  {
    v1::QuarterlyReport report = Report(kQ1);
    const auto& count = MeasureIn(report, "falls-count.v1");
    EXPECT_EQ(FlatOf(count.national()), (Flat{5, 0, 2, 12}));
    EXPECT_EQ(FlatOf(AreaIn(count, "wessex")), (Flat{5, 0, 2, 6}));
    const auto& rate = MeasureIn(report, "falls-harm-rate.v1");
    EXPECT_EQ(FlatOf(rate.national()), (Flat{1, 1000, 1, 12}));
    EXPECT_DOUBLE_EQ(rate.national().value(), 1.0);
    EXPECT_EQ(FlatOf(MeasureIn(report, "staff-trained.v1").national()), (Flat{15, 0, 1, 12}));
  }
  // A late retry of the first submission id cannot bring back 5.
  Apply(EventOf(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 5)})));
  EXPECT_EQ(FlatOf(MeasureIn(Report(kQ1), "falls-count.v1").national()), (Flat{5, 0, 2, 12}));
}

TEST_F(ReportTest, GroupsByTypeThenTopicThenMeasure) {
  Apply(EventOf(SmallCatalogue()));
  v1::QuarterlyReport report = Report(kQ1);
  EXPECT_EQ(report.quarter(), "2024/25 Q1");
  EXPECT_EQ(report.first_month(), "2024-04");
  EXPECT_EQ(report.last_month(), "2024-06");
  EXPECT_EQ(report.as_of_position(), 1u);

  // input: safety-culture/staff-trained; process: deterioration/news2;
  // outcome: falls/{falls-count, falls-harm-rate}; balancing:
  // deterioration/cc-admissions.
  std::vector<std::string> order;
  for (const auto& t : report.types()) {
    for (const auto& topic : t.topics()) {
      for (const auto& m : topic.measures()) {
        order.push_back(StrCat(v1::MeasureType_Name(t.type()), "/", topic.topic().id(), "/",
                               m.measure().id()));
      }
    }
  }
  EXPECT_THAT(order, ElementsAre("MEASURE_TYPE_INPUT/safety-culture/staff-trained.v1",
                                 "MEASURE_TYPE_PROCESS/deterioration/news2-on-time.v1",
                                 "MEASURE_TYPE_OUTCOME/falls/falls-count.v1",
                                 "MEASURE_TYPE_OUTCOME/falls/falls-harm-rate.v1",
                                 "MEASURE_TYPE_BALANCING/deterioration/cc-admissions.v1"));
  EXPECT_EQ(report.types(1).topics(0).topic().name(), "Deterioration of the patient");
  ASSERT_EQ(report.collaboratives_size(), 2);
  EXPECT_EQ(report.collaboratives(0).id(), "oxford");
  EXPECT_EQ(report.collaboratives(1).id(), "wessex");

  // Nothing reported: every figure is there, without a value.
  const auto& m = MeasureIn(report, "cc-admissions.v1");
  EXPECT_EQ(FlatOf(m.national()), (Flat{0, 0, 0, 12}));
  EXPECT_FALSE(m.national().has_value());
}

TEST_F(ReportTest, TypesWithoutMeasuresAreOmitted) {
  v1::CatalogueChanged change = SmallCatalogue();
  // Drop the one balancing measure and its enrolments.
  auto* measures = change.mutable_measures();
  for (int i = measures->size() - 1; i >= 0; --i) {
    if (measures->Get(i).type() == v1::MEASURE_TYPE_BALANCING) measures->DeleteSubrange(i, 1);
  }
  auto* enrolments = change.mutable_enrolments();
  for (int i = enrolments->size() - 1; i >= 0; --i) {
    if (enrolments->Get(i).measure_id() == "cc-admissions.v1") enrolments->DeleteSubrange(i, 1);
  }
  Apply(EventOf(change));
  v1::QuarterlyReport report = Report(kQ1);
  std::vector<int> types;
  for (const auto& t : report.types()) types.push_back(t.type());
  EXPECT_THAT(types, ElementsAre(v1::MEASURE_TYPE_INPUT, v1::MEASURE_TYPE_PROCESS,
                                 v1::MEASURE_TYPE_OUTCOME));
}

TEST_F(ReportTest, QuarterBeforeAnyEnrolmentListsNoCollaboratives) {
  Apply(EventOf(SmallCatalogue()));
  // 2023/24 Q3 = Oct-Dec 2023, before every enrolment (from 2024-01).
  v1::QuarterlyReport report = Report(Quarter::Of(2023, 3));
  const auto& m = MeasureIn(report, "falls-count.v1");
  EXPECT_EQ(m.collaboratives_size(), 0);
  EXPECT_EQ(FlatOf(m.national()), (Flat{0, 0, 0, 0}));
  // 2023/24 Q4 = Jan-Mar 2024, the first quarter enrolled.
  EXPECT_EQ(FlatOf(MeasureIn(Report(kQ4_2023), "falls-count.v1").national()),
            (Flat{0, 0, 0, 12}));
}

TEST_F(ReportTest, QuarterOutsideTheAcceptedYearsIsInvalid) {
  Apply(EventOf(SmallCatalogue()));
  auto view = model_->Snapshot();
  // 2199/00 Q4 is January-March 2200, after the last accepted year.
  auto report = BuildQuarterlyReport(view, Quarter::Of(Month::kMaxYear, 4));
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  auto violations = FieldViolationsOf(report.status());
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "quarter");
}

TEST_F(ReportTest, SameLogGivesTheSameReportBytes) {
  Apply(EventOf(SmallCatalogue()));
  Apply(EventOf(Batch("s1", {Obs("RHM", "falls-harm-rate.v1", "2025-01", 3, 2000),
                             Obs("RTH", "news2-on-time.v1", "2025-02", 30, 40),
                             Obs("RDZ", "staff-trained.v1", "2025-03", 7)})));
  Apply(EventOf(Batch("s2", {Obs("RHM", "falls-harm-rate.v1", "2025-01", 2, 2000)})));

  // A second read model folds the same records in one run.
  auto other = Open("other");
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->Apply(records_).ok());

  v1::QuarterlyReport a = Report(kQ4);
  v1::QuarterlyReport b = Report(*other, kQ4);
  EXPECT_EQ(a.as_of_position(), 3u);
  for (auto format : {v1::REPORT_FORMAT_TEXT, v1::REPORT_FORMAT_JSON, v1::REPORT_FORMAT_CSV}) {
    Rendered first = Render(a, format);
    EXPECT_FALSE(first.bytes.empty());
    EXPECT_EQ(first.bytes, Render(b, format).bytes);
    EXPECT_EQ(first.bytes, Render(Report(kQ4), format).bytes);
  }
}

// ---------------------------------------------------------------- series

v1::GetSeriesRequest SeriesRequest(const std::string& measure, const std::string& from = "",
                                   const std::string& to = "") {
  v1::GetSeriesRequest r;
  r.set_measure_id(measure);
  r.set_from_month(from);
  r.set_to_month(to);
  return r;
}

struct Point {
  std::string month;
  Flat figure;
  bool has_value;
  bool operator==(const Point&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Point& p) {
  return os << p.month << " " << p.figure << (p.has_value ? " value" : " no value");
}
std::vector<Point> PointsOf(const v1::Series& s) {
  std::vector<Point> out;
  for (const auto& p : s.points()) {
    out.push_back({p.month(), FlatOf(p.figure()), p.figure().has_value()});
  }
  return out;
}

class SeriesTest : public ReportTest {
 protected:
  void SetUp() override {
    ReportTest::SetUp();
    Apply(EventOf(SmallCatalogue()));
    // falls-count: April and June, nothing in May (a gap).
    Apply(EventOf(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 5),
                               Obs("RDZ", "falls-count.v1", "2024-04", 3),
                               Obs("RTH", "falls-count.v1", "2024-06", 1),
                               Obs("RTH", "falls-harm-rate.v1", "2024-04", 2, 500),
                               Obs("RHM", "falls-harm-rate.v1", "2024-04", 3, 2000)})));
  }
};

TEST_F(SeriesTest, NationalSeriesDefaultsToTheMonthsWithDataAndKeepsTheGap) {
  auto series = Series(SeriesRequest("falls-count.v1"));
  ASSERT_TRUE(series.ok()) << series.status();
  EXPECT_EQ(series->measure().id(), "falls-count.v1");
  EXPECT_EQ(series->collaborative_id(), "");
  EXPECT_EQ(series->as_of_position(), 2u);
  // April 5 + 3 = 8 from 2 of 4 enrolled; May nothing of 4; June 1 of 4.
  EXPECT_THAT(PointsOf(*series), ElementsAre(Point{"2024-04", {8, 0, 2, 4}, true},
                                             Point{"2024-05", {0, 0, 0, 4}, false},
                                             Point{"2024-06", {1, 0, 1, 4}, true}));
}

TEST_F(SeriesTest, ExplicitRangeIncludesMonthsWithoutDataAndFollowsEnrolment) {
  auto series = Series(SeriesRequest("falls-count.v1", "2023-12", "2024-07"));
  ASSERT_TRUE(series.ok()) << series.status();
  // December 2023: nobody enrolled yet. July 2024: RTH's enrolment ended, 3.
  EXPECT_THAT(PointsOf(*series), ElementsAre(Point{"2023-12", {0, 0, 0, 0}, false},
                                             Point{"2024-01", {0, 0, 0, 4}, false},
                                             Point{"2024-02", {0, 0, 0, 4}, false},
                                             Point{"2024-03", {0, 0, 0, 4}, false},
                                             Point{"2024-04", {8, 0, 2, 4}, true},
                                             Point{"2024-05", {0, 0, 0, 4}, false},
                                             Point{"2024-06", {1, 0, 1, 4}, true},
                                             Point{"2024-07", {0, 0, 0, 3}, false}));
}

TEST_F(SeriesTest, OneBoundGivenTheOtherDefaultsToTheData) {
  auto series = Series(SeriesRequest("falls-count.v1", "2024-05", ""));
  ASSERT_TRUE(series.ok()) << series.status();
  EXPECT_THAT(PointsOf(*series), ElementsAre(Point{"2024-05", {0, 0, 0, 4}, false},
                                             Point{"2024-06", {1, 0, 1, 4}, true}));
  // From after the last month with data: the defaulted range is empty.
  series = Series(SeriesRequest("falls-count.v1", "2024-09", ""));
  ASSERT_TRUE(series.ok()) << series.status();
  EXPECT_EQ(series->points_size(), 0);
}

TEST_F(SeriesTest, CollaborativeSeries) {
  v1::GetSeriesRequest request = SeriesRequest("falls-harm-rate.v1");
  request.set_collaborative_id("oxford");
  auto series = Series(request);
  ASSERT_TRUE(series.ok()) << series.status();
  EXPECT_EQ(series->collaborative_id(), "oxford");
  // oxford April: RTH 2 / 500 x 1,000 = 4 per 1,000 bed days; RTH and R1A
  // enrolled.
  EXPECT_THAT(PointsOf(*series), ElementsAre(Point{"2024-04", {2, 500, 1, 2}, true}));
  EXPECT_DOUBLE_EQ(series->points(0).figure().value(), 4.0);

  // wessex falls-count: April only (RHM 5 + RDZ 3), though the nation has
  // June too.
  request = SeriesRequest("falls-count.v1");
  request.set_collaborative_id("wessex");
  series = Series(request);
  ASSERT_TRUE(series.ok()) << series.status();
  EXPECT_THAT(PointsOf(*series), ElementsAre(Point{"2024-04", {8, 0, 2, 2}, true}));
}

TEST_F(SeriesTest, OrganisationSeriesReadsItsObservations) {
  Apply(EventOf(Batch("s2", {Obs("RHM", "falls-count.v1", "2024-06", 4)})));
  v1::GetSeriesRequest request = SeriesRequest("falls-count.v1");
  request.set_ods_code("RHM");
  auto series = Series(request);
  ASSERT_TRUE(series.ok()) << series.status();
  EXPECT_EQ(series->ods_code(), "RHM");
  EXPECT_THAT(PointsOf(*series), ElementsAre(Point{"2024-04", {5, 0, 1, 1}, true},
                                             Point{"2024-05", {0, 0, 0, 1}, false},
                                             Point{"2024-06", {4, 0, 1, 1}, true}));

  // R1A is not enrolled for news2: nothing expected in any month.
  request = SeriesRequest("news2-on-time.v1", "2024-04", "2024-05");
  request.set_ods_code("R1A");
  series = Series(request);
  ASSERT_TRUE(series.ok()) << series.status();
  EXPECT_THAT(PointsOf(*series), ElementsAre(Point{"2024-04", {0, 0, 0, 0}, false},
                                             Point{"2024-05", {0, 0, 0, 0}, false}));
}

TEST_F(SeriesTest, NoDataAndNoRangeGivesNoPoints) {
  auto series = Series(SeriesRequest("cc-admissions.v1"));
  ASSERT_TRUE(series.ok()) << series.status();
  EXPECT_EQ(series->measure().id(), "cc-admissions.v1");
  EXPECT_EQ(series->points_size(), 0);
  v1::GetSeriesRequest request = SeriesRequest("cc-admissions.v1");
  request.set_ods_code("RHM");
  series = Series(request);
  ASSERT_TRUE(series.ok()) << series.status();
  EXPECT_EQ(series->points_size(), 0);
}

TEST_F(SeriesTest, UnknownNamesAreNotFound) {
  auto series = Series(SeriesRequest("nope.v1"));
  EXPECT_EQ(series.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(series.status().message()), HasSubstr("'nope.v1'"));

  v1::GetSeriesRequest request = SeriesRequest("falls-count.v1");
  request.set_collaborative_id("atlantis");
  series = Series(request);
  EXPECT_EQ(series.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(series.status().message()), HasSubstr("collaborative 'atlantis'"));

  request.set_ods_code("ZZZ");
  series = Series(request);
  EXPECT_EQ(series.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(series.status().message()), HasSubstr("organisation 'ZZZ'"));
}

std::vector<std::string> FieldsOf(const absl::Status& status) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolationsOf(status)) out.push_back(v.field + " " + v.reason);
  return out;
}

TEST_F(SeriesTest, MalformedRequestsNameTheField) {
  auto series = Series(SeriesRequest("falls-count.v1", "2024-13", ""));
  EXPECT_EQ(series.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldsOf(series.status()), ElementsAre("from_month MALFORMED_MONTH"));

  series = Series(SeriesRequest("falls-count.v1", "", "April"));
  EXPECT_EQ(series.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldsOf(series.status()), ElementsAre("to_month MALFORMED_MONTH"));

  series = Series(SeriesRequest("falls-count.v1", "2024-06", "2024-04"));
  EXPECT_EQ(series.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldsOf(series.status()), ElementsAre("from_month INVALID_RANGE"));

  series = Series(SeriesRequest(""));
  EXPECT_EQ(series.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldsOf(series.status()), ElementsAre("measure_id REQUIRED"));

  // Shape is checked before existence: an unknown measure with a bad month
  // is refused for the month.
  series = Series(SeriesRequest("nope.v1", "24-01", ""));
  EXPECT_EQ(series.status().code(), absl::StatusCode::kInvalidArgument);

  v1::GetSeriesRequest request = SeriesRequest("falls-count.v1");
  request.set_ods_code("");
  series = Series(request);
  EXPECT_EQ(series.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldsOf(series.status()), ElementsAre("ods_code REQUIRED"));
}

}  // namespace
}  // namespace psc::report
