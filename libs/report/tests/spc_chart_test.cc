// XmR charts of read-model series, worked by hand on SmallCatalogue's
// falls-count.v1 (a count where lower is better; RTH's enrolment ends
// 2024-06, so 4 organisations are enrolled to June and 3 after).
#include "psc/report/spc_chart.h"

#include <gtest/gtest.h>

#include <cmath>

#include "psc/domain/strings.h"
#include "psc/domain/violations.h"
#include "psc/report/publication.h"
#include "psc/report/report.h"
#include "psc/testing/fixtures.h"
#include "psc/testing/process.h"

namespace psc::report {
namespace {

using ::psc::testing::Batch;
using ::psc::testing::EventOf;
using ::psc::testing::Obs;

class SpcChartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto model = projection::ReadModel::Open(dir_.path());
    ASSERT_TRUE(model.ok());
    model_ = std::move(*model);
    Apply(EventOf(::psc::testing::SmallCatalogue()));
    // 2 falls per enrolled organisation every month of 2024, except
    // December: RHM reports 26, so 30 falls over 3 organisations = 10 each.
    for (int month = 1; month <= 12; ++month) {
      std::string m = month < 10 ? StrCat("2024-0", month) : StrCat("2024-", month);
      std::vector<v1::Observation> rows = {Obs("RHM", "falls-count.v1", m, month == 12 ? 26 : 2),
                                           Obs("RDZ", "falls-count.v1", m, 2),
                                           Obs("R1A", "falls-count.v1", m, 2)};
      if (month <= 6) rows.push_back(Obs("RTH", "falls-count.v1", m, 2));
      Apply(EventOf(Batch(StrCat("s", month), rows)));
    }
  }

  void Apply(std::string payload) {
    ++position_;
    ASSERT_TRUE(model_->Apply({{LogPosition(position_), std::move(payload)}}).ok());
  }

  ::psc::testing::TempDir dir_;
  std::unique_ptr<projection::ReadModel> model_;
  uint64_t position_ = 0;
};

TEST_F(SpcChartTest, NationalCountIsChartedPerEnrolledOrganisation) {
  v1::GetSeriesRequest request;
  request.set_measure_id("falls-count.v1");
  auto view = model_->Snapshot();
  auto chart = BuildSpcChart(view, request);
  ASSERT_TRUE(chart.ok()) << chart.status();
  ASSERT_EQ(chart->points_size(), 12);
  // Per organisation: 8/4 = 2 to June, 6/3 = 2 to November, 30/3 = 10.
  EXPECT_DOUBLE_EQ(chart->points(0).value(), 2.0);
  EXPECT_DOUBLE_EQ(chart->points(6).value(), 2.0);
  EXPECT_DOUBLE_EQ(chart->points(11).value(), 10.0);
  // Mean (11 x 2 + 10) / 12 = 2.6667; moving ranges all 0 but the last, 8:
  // mean MR 8/11; upper limit 2.6667 + 2.66 x 8/11 = 4.6012.
  const double mean = 32.0 / 12.0;
  const double upper = mean + 2.66 * 8.0 / 11.0;
  EXPECT_NEAR(chart->summary().mean(), mean, 1e-12);
  EXPECT_NEAR(chart->summary().upper_process_limit(), upper, 1e-12);
  EXPECT_NEAR(chart->points(0).upper_process_limit(), upper, 1e-12);
  // December is above the limit; fewer falls is better: concern, high.
  EXPECT_EQ(chart->points(11).special_cause(), "outside_limits");
  EXPECT_EQ(chart->points(11).classification(), "concern");
  // The 11 months at 2 all sit below the mean 2.6667: a shift (7 or more on
  // one side), low, which is improvement for a count where down is better.
  for (int i = 0; i < 11; ++i) {
    EXPECT_EQ(chart->points(i).special_cause(), "shift") << i;
    EXPECT_EQ(chart->points(i).classification(), "improvement") << i;
  }
  EXPECT_EQ(chart->summary().variation(), "concern_high");
  EXPECT_EQ(chart->summary().assurance(), "none");
  EXPECT_TRUE(chart->summary().per_organisation());
  EXPECT_FALSE(chart->summary().trial_limits());
}

TEST_F(SpcChartTest, QuarterlyReportCarriesTheSummaryUpToItsLastMonth) {
  auto view = model_->Snapshot();
  // 2024/25 Q2 ends in September: 9 points all at 2, common cause.
  auto q2 = BuildQuarterlyReport(view, Quarter::Of(2024, 2));
  ASSERT_TRUE(q2.ok());
  const v1::MeasureReport* falls = nullptr;
  for (const auto& t : q2->types()) {
    for (const auto& topic : t.topics()) {
      for (const auto& m : topic.measures()) {
        if (m.measure().id() == "falls-count.v1") falls = &m;
      }
    }
  }
  ASSERT_NE(falls, nullptr);
  EXPECT_EQ(falls->spc().points(), 9);
  EXPECT_EQ(falls->spc().variation(), "common_cause");
  EXPECT_TRUE(falls->spc().trial_limits());
  EXPECT_NE(RenderText(*q2).find("  SPC: common_cause, assurance none; mean 2.000"),
            std::string::npos);
  auto q3 = BuildQuarterlyReport(view, Quarter::Of(2024, 3));
  ASSERT_TRUE(q3.ok());
  bool found = false;
  for (const auto& t : q3->types()) {
    for (const auto& topic : t.topics()) {
      for (const auto& m : topic.measures()) {
        if (m.measure().id() == "falls-count.v1") {
          found = true;
          EXPECT_EQ(m.spc().variation(), "concern_high");
          EXPECT_EQ(m.spc().points(), 12);
        }
      }
    }
  }
  EXPECT_TRUE(found);
}

v1::Learning LearningOf(const std::string& id, v1::LearningKind kind, const std::string& month,
                        const std::string& title, std::vector<std::string> measures) {
  v1::Learning l;
  l.set_learning_id(id);
  l.set_collaborative_id("wessex");
  l.set_topic_id("falls");
  l.set_kind(kind);
  l.set_month(month);
  l.set_title(title);
  l.set_summary("What we did and what happened.");
  l.set_outcome("Fewer falls with harm on the two wards.");
  for (auto& m : measures) l.add_measure_ids(m);
  return l;
}

TEST_F(SpcChartTest, LearningIsSummarisedAndListedBesideItsMeasure) {
  Apply(EventOf(LearningOf("l1", v1::LEARNING_KIND_CASE_STUDY, "2024-11",
                           "Falls huddles on two wards", {"falls-count.v1"})));
  Apply(EventOf(LearningOf("l2", v1::LEARNING_KIND_STORY, "2024-12", "A patient's story", {})));
  Apply(EventOf(LearningOf("l3", v1::LEARNING_KIND_STORY, "2024-09", "Outside the quarter", {})));
  auto view = model_->Snapshot();
  auto q3 = BuildQuarterlyReport(view, Quarter::Of(2024, 3));
  ASSERT_TRUE(q3.ok());
  // Oct-Dec 2024: l1 and l2 (l3 is September), both wessex / falls.
  ASSERT_EQ(q3->learning_size(), 1);
  const auto& s = q3->learning(0);
  EXPECT_EQ(s.collaborative_id(), "wessex");
  EXPECT_EQ(s.topic_id(), "falls");
  EXPECT_EQ(s.case_studies(), 1);
  EXPECT_EQ(s.stories(), 1);
  ASSERT_EQ(s.items_size(), 2);
  EXPECT_EQ(s.items(0).learning_id(), "l1");
  EXPECT_EQ(s.items(1).learning_id(), "l2");
  std::string text = RenderText(*q3);
  EXPECT_NE(text.find("  Learning: Falls huddles on two wards (Wessex, 2024-11)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("Wessex / falls: 1 case study, 1 story\n  - Falls huddles on two wards "
                      "(2024-11)\n  - A patient's story (2024-12)\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("Outside the quarter"), std::string::npos);
}


v1::SpcLimitsChanged LimitsChange(const std::string& id, const std::string& rebase_month,
                                  int fix_after_points, const std::string& reason) {
  v1::SpcLimitsChanged c;
  c.set_change_id(id);
  c.set_measure_id("falls-count.v1");
  c.set_rebase_month(rebase_month);
  c.set_fix_after_points(fix_after_points);
  c.set_reason(reason);
  return c;
}

TEST_F(SpcChartTest, RebaseEventsSplitTheChartIntoSegmentsWithTheirOwnLimits) {
  // A new falls bundle from July: January-June (2 each) and July-December
  // (2, 2, 2, 2, 2, 10) get limits of their own.
  Apply(EventOf(LimitsChange("x1", "2024-07", 0, "falls bundle started"), "wessex-analyst"));
  v1::GetSeriesRequest request;
  request.set_measure_id("falls-count.v1");
  auto chart = BuildSpcChart(model_->Snapshot(), request);
  ASSERT_TRUE(chart.ok()) << chart.status();
  ASSERT_EQ(chart->segments_size(), 2);
  const v1::SpcSegment& first = chart->segments(0);
  EXPECT_EQ(first.first_month(), "2024-01");
  EXPECT_EQ(first.last_month(), "2024-06");
  EXPECT_EQ(first.points(), 6);
  EXPECT_TRUE(first.trial_limits());
  EXPECT_DOUBLE_EQ(first.mean(), 2.0);
  EXPECT_DOUBLE_EQ(first.upper_process_limit(), 2.0);  // no variation at all
  EXPECT_EQ(first.rebase_reason(), "");
  // Second segment: mean 20/6; moving ranges 0, 0, 0, 0, 8: mean MR 1.6;
  // upper limit 20/6 + 2.66 x 1.6 = 7.5893; December's 10 is above it.
  const v1::SpcSegment& second = chart->segments(1);
  EXPECT_EQ(second.first_month(), "2024-07");
  EXPECT_EQ(second.rebase_reason(), "falls bundle started");
  EXPECT_EQ(second.rebase_author(), "wessex-analyst");
  EXPECT_NEAR(second.mean(), 20.0 / 6.0, 1e-12);
  EXPECT_NEAR(second.upper_process_limit(), 20.0 / 6.0 + 2.66 * 1.6, 1e-12);
  EXPECT_EQ(chart->points(6).segment(), 1);
  EXPECT_NEAR(chart->points(6).mean(), 20.0 / 6.0, 1e-12);
  // No shift any more: January-June sit on their mean, and only five
  // months of the second segment are below its mean.
  for (int i = 0; i < 11; ++i) EXPECT_EQ(chart->points(i).special_cause(), "") << i;
  EXPECT_EQ(chart->points(11).special_cause(), "outside_limits");
  EXPECT_EQ(chart->summary().variation(), "concern_high");
  EXPECT_TRUE(chart->summary().trial_limits());

  // Fixing limits after 3 points, and a new reason for the same rebase:
  // July-September (all 2) fix the second segment's limits at 2.
  Apply(EventOf(LimitsChange("x2", "2024-07", 3, "bundle start confirmed by the board"), "lead"));
  auto fixed = BuildSpcChart(model_->Snapshot(), request);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  ASSERT_EQ(fixed->segments_size(), 2);
  EXPECT_EQ(fixed->segments(1).rebase_reason(), "bundle start confirmed by the board");
  EXPECT_EQ(fixed->segments(1).rebase_author(), "lead");
  EXPECT_EQ(fixed->segments(1).fixed_after_points(), 3);
  EXPECT_EQ(fixed->segments(1).base_points(), 3);
  EXPECT_DOUBLE_EQ(fixed->segments(1).mean(), 2.0);
  EXPECT_DOUBLE_EQ(fixed->segments(1).upper_process_limit(), 2.0);

  // -1 lets the limits float again; the rebase stays.
  Apply(EventOf(LimitsChange("x3", "", -1, "fixed too early"), "lead"));
  auto floating = BuildSpcChart(model_->Snapshot(), request);
  ASSERT_TRUE(floating.ok());
  EXPECT_EQ(floating->segments(1).fixed_after_points(), 0);
  EXPECT_NEAR(floating->segments(1).mean(), 20.0 / 6.0, 1e-12);

  // Limits changes of the national series leave a collaborative's alone.
  request.set_collaborative_id("wessex");
  auto wessex = BuildSpcChart(model_->Snapshot(), request);
  ASSERT_TRUE(wessex.ok());
  EXPECT_EQ(wessex->segments_size(), 1);
}

TEST_F(SpcChartTest, ALimitsChangeNamingUnknownThingsIsRefusedAtReplay) {
  v1::SpcLimitsChanged bad = LimitsChange("x1", "2024-13", 1, "");
  bad.set_measure_id("nope");
  Apply(EventOf(bad));
  auto view = model_->Snapshot();
  EXPECT_EQ(view.refused_events(), 1u);
  auto changes = view.SpcLimitChanges("nope", "", "");
  ASSERT_TRUE(changes.ok());
  EXPECT_TRUE(changes->empty());
}

TEST_F(SpcChartTest, LinkedLearningIsMarkedOnTheChartAtItsMonth) {
  Apply(EventOf(LearningOf("l1", v1::LEARNING_KIND_INNOVATIVE_PRACTICE, "2024-03",
                           "Falls huddles started", {"falls-count.v1"})));
  Apply(EventOf(LearningOf("l2", v1::LEARNING_KIND_STORY, "2024-04", "Not linked", {})));
  auto view = model_->Snapshot();
  auto q3 = BuildQuarterlyReport(view, Quarter::Of(2024, 3));
  ASSERT_TRUE(q3.ok());
  const v1::MeasureReport* falls = nullptr;
  for (const auto& t : q3->types()) {
    for (const auto& topic : t.topics()) {
      for (const auto& m : topic.measures()) {
        if (m.measure().id() == "falls-count.v1") falls = &m;
      }
    }
  }
  ASSERT_NE(falls, nullptr);
  // The chart runs January-December 2024: March's learning is marked on it,
  // though it is not the quarter's learning.
  ASSERT_EQ(falls->spc_points_size(), 12);
  EXPECT_EQ(falls->spc_points(11).month(), "2024-12");
  EXPECT_EQ(falls->spc_points(11).special_cause(), "outside_limits");
  ASSERT_EQ(falls->spc_segments_size(), 1);
  ASSERT_EQ(falls->chart_learning_size(), 1);
  EXPECT_EQ(falls->chart_learning(0).learning_id(), "l1");
  EXPECT_EQ(falls->chart_learning(0).month(), "2024-03");
  EXPECT_EQ(falls->learning_size(), 0);
  // Oxford's chart has none of Wessex's learning.
  v1::GetSeriesRequest oxford;
  oxford.set_measure_id("falls-count.v1");
  oxford.set_collaborative_id("oxford");
  auto chart = BuildSpcChart(view, oxford);
  ASSERT_TRUE(chart.ok());
  EXPECT_EQ(chart->learning_size(), 0);
}

const v1::MeasureReport* FindIn(const v1::QuarterlyReport& report, const std::string& id) {
  for (const auto& t : report.types()) {
    for (const auto& topic : t.topics()) {
      for (const auto& m : topic.measures()) {
        if (m.measure().id() == id) return &m;
      }
    }
  }
  return nullptr;
}

TEST_F(SpcChartTest, RatioMeasuresHaveAFunnelOfCollaboratives) {
  // NEWS2 on time, October-December: Wessex 90% and 60% (450/600 = 75%),
  // Oxford 95% (285/300). National 735/900 = 81.667%.
  for (const char* m : {"2024-10", "2024-11", "2024-12"}) {
    Apply(EventOf(Batch(StrCat("n", m), {Obs("RHM", "news2-on-time.v1", m, 90, 100),
                                         Obs("RDZ", "news2-on-time.v1", m, 60, 100),
                                         Obs("RTH", "news2-on-time.v1", m, 95, 100)})));
  }
  auto q3 = BuildQuarterlyReport(model_->Snapshot(), Quarter::Of(2024, 3));
  ASSERT_TRUE(q3.ok());
  const v1::MeasureReport* news2 = FindIn(*q3, "news2-on-time.v1");
  ASSERT_NE(news2, nullptr);
  ASSERT_TRUE(news2->has_funnel());
  const v1::Funnel& f = news2->funnel();
  EXPECT_EQ(f.model(), "proportion");
  EXPECT_DOUBLE_EQ(f.display_factor(), 100.0);
  EXPECT_NEAR(f.centre(), 73500.0 / 900.0, 1e-9);
  ASSERT_EQ(f.units_size(), 2);
  // Oxford, by id first: p = 0.81667, D = 300: sd = sqrt(p(1-p)/300) =
  // 0.022340; 99.8% upper = 81.667 + 100 x 3.090232 x 0.022340 = 88.570.
  const double p = 735.0 / 900.0;
  const v1::FunnelUnit& oxford = f.units(0);
  EXPECT_EQ(oxford.id(), "oxford");
  EXPECT_EQ(oxford.numerator(), 285);
  EXPECT_EQ(oxford.denominator(), 300);
  EXPECT_NEAR(oxford.value(), 95.0, 1e-9);
  EXPECT_NEAR(oxford.upper_998(), 100.0 * (p + 3.090232 * std::sqrt(p * (1 - p) / 300)), 1e-9);
  EXPECT_NEAR(oxford.upper_998(), 88.570, 1e-3);
  EXPECT_EQ(oxford.position_95(), "above");
  EXPECT_EQ(oxford.position_998(), "above");
  // Wessex 75% at D = 600: 95% lower 78.57, 99.8% lower 76.79: below both.
  const v1::FunnelUnit& wessex = f.units(1);
  EXPECT_EQ(wessex.id(), "wessex");
  EXPECT_NEAR(wessex.lower_95(), 78.571, 1e-3);
  EXPECT_NEAR(wessex.lower_998(), 76.785, 1e-3);
  EXPECT_EQ(wessex.position_95(), "below");
  EXPECT_EQ(wessex.position_998(), "below");
  // Counts have no funnel.
  EXPECT_FALSE(FindIn(*q3, "falls-count.v1")->has_funnel());

  // Within Wessex: RHM 270/300 = 90% and RDZ 180/300 = 60%, around the
  // same national 81.667%; at D = 300 the 99.8% limits are 81.667 +/-
  // 6.904, so RHM is above and RDZ below.
  v1::GetFunnelRequest request;
  request.set_measure_id("news2-on-time.v1");
  request.set_quarter("2024/25 Q3");
  request.set_collaborative_id("wessex");
  auto within = BuildFunnelPlot(model_->Snapshot(), request);
  ASSERT_TRUE(within.ok()) << within.status();
  EXPECT_NEAR(within->centre(), 73500.0 / 900.0, 1e-9);
  ASSERT_EQ(within->units_size(), 2);
  EXPECT_EQ(within->units(0).id(), "RDZ");
  EXPECT_EQ(within->units(0).numerator(), 180);
  EXPECT_EQ(within->units(0).position_998(), "below");
  EXPECT_EQ(within->units(1).id(), "RHM");
  EXPECT_NEAR(within->units(1).value(), 90.0, 1e-9);
  EXPECT_NEAR(within->units(1).upper_998(), 88.570, 1e-3);
  EXPECT_EQ(within->units(1).position_998(), "above");
  // Without a collaborative: the same collaboratives as the report's.
  request.clear_collaborative_id();
  auto national = BuildFunnelPlot(model_->Snapshot(), request);
  ASSERT_TRUE(national.ok());
  EXPECT_EQ(national->SerializeAsString(), news2->funnel().SerializeAsString());
  // A count measure has no funnel; the field is named.
  request.set_measure_id("falls-count.v1");
  auto count = BuildFunnelPlot(model_->Snapshot(), request);
  ASSERT_FALSE(count.ok());
  ASSERT_EQ(FieldViolationsOf(count.status()).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(count.status())[0].field, "measure_id");
  EXPECT_EQ(FieldViolationsOf(count.status())[0].reason, "NOT_A_RATIO");
}

TEST_F(SpcChartTest, ChangesAfterASignOffAreShownAsRevisions) {
  auto q3 = BuildQuarterlyReport(model_->Snapshot(), Quarter::Of(2024, 3));
  ASSERT_TRUE(q3.ok());
  v1::QuarterSignedOff sign_off = SignOffFigures(*q3, "wessex", "wessex-q3");
  // Wessex is enrolled for all five measures.
  ASSERT_EQ(sign_off.figures_size(), 5);
  EXPECT_EQ(sign_off.as_of_position(), position_);
  Apply(EventOf(sign_off));
  // December's 26 falls at RHM corrected to 6: Wessex's quarter goes from
  // 2 + 2 + 26 + 2 + 2 + 2 = 36 to 16.
  Apply(EventOf(Batch("fix", {Obs("RHM", "falls-count.v1", "2024-12", 6)})));
  auto after = BuildQuarterlyReport(model_->Snapshot(), Quarter::Of(2024, 3));
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->sign_offs_size(), 1);
  const v1::SignOff& s = after->sign_offs(0);
  EXPECT_EQ(s.collaborative_id(), "wessex");
  EXPECT_EQ(s.sign_off_id(), "wessex-q3");
  EXPECT_EQ(s.position(), position_ - 1);
  ASSERT_EQ(s.revisions_size(), 2);
  EXPECT_EQ(s.revisions(0).measure_id(), "falls-count.v1");
  EXPECT_EQ(s.revisions(0).area(), "wessex");
  EXPECT_EQ(s.revisions(0).field(), "numerator");
  EXPECT_DOUBLE_EQ(s.revisions(0).published(), 36);
  EXPECT_DOUBLE_EQ(s.revisions(0).current(), 16);
  EXPECT_EQ(s.revisions(1).field(), "value");
  // Oxford did not sign off.
  auto q2 = BuildQuarterlyReport(model_->Snapshot(), Quarter::Of(2024, 2));
  ASSERT_TRUE(q2.ok());
  EXPECT_EQ(q2->sign_offs_size(), 0);
}

TEST_F(SpcChartTest, TheReportListsEachMonthsOutstandingReturns) {
  auto q3 = BuildQuarterlyReport(model_->Snapshot(), Quarter::Of(2024, 3));
  ASSERT_TRUE(q3.ok());
  ASSERT_EQ(q3->outstanding_size(), 3);
  EXPECT_EQ(q3->outstanding(0).month(), "2024-10");
  EXPECT_EQ(q3->outstanding(2).month(), "2024-12");
  // Wessex in October: 2 organisations x 5 measures enrolled, falls-count
  // reported by both.
  ASSERT_GE(q3->outstanding(0).collaboratives_size(), 1);
  const auto& oxford = q3->outstanding(0).collaboratives(0);
  EXPECT_EQ(oxford.collaborative_id(), "oxford");
  const auto& wessex = q3->outstanding(0).collaboratives(1);
  EXPECT_EQ(wessex.collaborative_id(), "wessex");
  EXPECT_EQ(wessex.expected(), 10);
  EXPECT_EQ(wessex.reported(), 2);
}

}  // namespace
}  // namespace psc::report
