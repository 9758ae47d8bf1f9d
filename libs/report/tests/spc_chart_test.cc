// XmR charts of read-model series, worked by hand on SmallCatalogue's
// falls-count.v1 (a count where lower is better; RTH's enrolment ends
// 2024-06, so 4 organisations are enrolled to June and 3 after).
#include "psc/report/spc_chart.h"

#include <gtest/gtest.h>

#include "psc/domain/strings.h"
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

}  // namespace
}  // namespace psc::report
