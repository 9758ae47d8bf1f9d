// The small-number rule on reports built by hand, every expected number
// worked out by hand in the comments beside it.
#include "psc/disclosure/disclosure.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "psc/domain/aggregation.h"

namespace psc::disclosure {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

v1::Measure MakeMeasure(const std::string& id, v1::Unit unit, int64_t rate_per) {
  v1::Measure m;
  m.set_id(id);
  m.set_name(id);
  m.set_unit(unit);
  m.set_rate_per(rate_per);
  m.set_aggregation(unit == v1::UNIT_COUNT ? v1::AGGREGATION_SUM : v1::AGGREGATION_RATIO);
  return m;
}

// A figure as the report builder makes it: the value from DisplayValue.
void SetFigure(v1::Figure* f, const v1::Measure& m, int64_t numerator, int64_t denominator,
               int64_t reported, int64_t expected) {
  f->set_numerator(numerator);
  f->set_denominator(denominator);
  if (auto v = DisplayValue(m, numerator, denominator, reported > 0)) f->set_value(*v);
  f->mutable_coverage()->set_reported(reported);
  f->mutable_coverage()->set_expected(expected);
}

struct Area {
  std::string id;
  int64_t numerator;
  int64_t denominator;
  int64_t reported = 3;
  int64_t expected = 3;
};

// A measure whose national figure is the sum of its collaboratives'.
v1::MeasureReport MakeMeasureReport(const v1::Measure& m, const std::vector<Area>& areas) {
  v1::MeasureReport mr;
  *mr.mutable_measure() = m;
  int64_t n = 0, d = 0, reported = 0, expected = 0;
  for (const Area& a : areas) {
    auto* area = mr.add_collaboratives();
    area->set_collaborative_id(a.id);
    SetFigure(area->mutable_figure(), m, a.numerator, a.denominator, a.reported, a.expected);
    n += a.numerator;
    d += a.denominator;
    reported += a.reported;
    expected += a.expected;
  }
  SetFigure(mr.mutable_national(), m, n, d, reported, expected);
  return mr;
}

v1::QuarterlyReport OneMeasure(const v1::MeasureReport& mr) {
  v1::QuarterlyReport r;
  r.set_quarter("2024/25 Q4");
  auto* topic = r.add_types()->add_topics();
  topic->mutable_topic()->set_id("falls");
  *topic->add_measures() = mr;
  return r;
}

const v1::Measure kCount = MakeMeasure("falls-count.v1", v1::UNIT_COUNT, 0);
const v1::Measure kRate = MakeMeasure("falls-harm-rate.v1", v1::UNIT_RATE, 1000);
const v1::Measure kProportion = MakeMeasure("news2-on-time.v1", v1::UNIT_PROPORTION, 0);

const PublicFigure& Collaborative(const PublicMeasure& m, const std::string& id) {
  for (const auto& [cid, f] : m.collaboratives) {
    if (cid == id) return f;
  }
  ADD_FAILURE() << "no collaborative " << id;
  static const PublicFigure kNone;
  return kNone;
}

// ---------------------------------------------------------------- counts

TEST(PublishCount, SuppressesOneToSevenAndRoundsTheRestToFive) {
  const DisclosurePolicy hes;
  EXPECT_EQ(PublishCount(0, hes), 0);
  EXPECT_EQ(PublishCount(1, hes), std::nullopt);
  EXPECT_EQ(PublishCount(7, hes), std::nullopt);
  EXPECT_EQ(PublishCount(8, hes), 10);      // 8 is 2 below 10, 3 above 5
  EXPECT_EQ(PublishCount(12, hes), 10);     // remainder 2 of 5: down
  EXPECT_EQ(PublishCount(13, hes), 15);     // remainder 3 of 5: up
  EXPECT_EQ(PublishCount(15, hes), 15);     // already a multiple
  EXPECT_EQ(PublishCount(1002, hes), 1000);
  EXPECT_EQ(PublishCount(1234, hes), 1235);
}

TEST(PublishCount, HalfRoundsUpWithAnEvenStep) {
  DisclosurePolicy tens;
  tens.round_to = 10;
  EXPECT_EQ(PublishCount(14, tens), 10);
  EXPECT_EQ(PublishCount(15, tens), 20);  // exactly half: up
}

TEST(PublishCount, NeverRoundsANonZeroCountToZero) {
  DisclosurePolicy no_primary;
  no_primary.suppress_below = 1;
  EXPECT_EQ(PublishCount(0, no_primary), 0);
  EXPECT_EQ(PublishCount(1, no_primary), 5);  // nearest multiple is 0: published as 5
  EXPECT_EQ(PublishCount(2, no_primary), 5);
  EXPECT_EQ(PublishCount(3, no_primary), 5);
}

TEST(PublishCount, DisabledPolicyLeavesCountsExact) {
  const DisclosurePolicy internal = DisclosurePolicy::Internal();
  EXPECT_EQ(PublishCount(7, internal), 7);
  EXPECT_EQ(PublishCount(12, internal), 12);
}

// ---------------------------------------------------------------- values

TEST(Disclose, RateIsRecomputedFromRoundedCounts) {
  // national 53 / 5,000 per 1,000 = 10.6, published exactly.
  const auto report = OneMeasure(MakeMeasureReport(kRate, {
                                                              {"north-east", 13, 1002},
                                                              {"oxford", 40, 3998},
                                                          }));
  const PublicReport pub = Disclose(report, DisclosurePolicy::Public());
  ASSERT_EQ(pub.measures.size(), 1u);
  const PublicMeasure& m = pub.measures[0];

  // 13 -> 15, 1,002 -> 1,000: 15 / 1,000 x 1,000 = 15 (not 12.9741).
  const PublicFigure& ne = Collaborative(m, "north-east");
  EXPECT_EQ(ne.numerator, 15);
  EXPECT_EQ(ne.denominator, 1000);
  ASSERT_TRUE(ne.value.has_value());
  EXPECT_DOUBLE_EQ(*ne.value, 15.0);
  EXPECT_TRUE(ne.rounded);
  EXPECT_EQ(ne.protection, Protection::kRounded);
  EXPECT_FALSE(ne.numerator_suppressed || ne.denominator_suppressed || ne.value_suppressed);

  // 40 stays 40, 3,998 -> 4,000: 10 per 1,000. Marked rounded although the
  // numerator did not change.
  const PublicFigure& ox = Collaborative(m, "oxford");
  EXPECT_EQ(ox.numerator, 40);
  EXPECT_EQ(ox.denominator, 4000);
  EXPECT_DOUBLE_EQ(*ox.value, 10.0);
  EXPECT_EQ(ox.protection, Protection::kRounded);

  // National untouched: exact sums, the report's own value, coverage.
  EXPECT_EQ(m.national.numerator, 53);
  EXPECT_EQ(m.national.denominator, 5000);
  EXPECT_EQ(m.national.value, report.types(0).topics(0).measures(0).national().value());
  EXPECT_EQ(m.national.protection, Protection::kNone);
  EXPECT_FALSE(m.national.rounded);
  EXPECT_EQ(m.national.coverage.reported(), 6);
  EXPECT_EQ(m.national.coverage.expected(), 6);
}

TEST(Disclose, SuppressedNumeratorSuppressesValueAndForcesASecondCell) {
  const auto report = OneMeasure(MakeMeasureReport(kRate, {
                                                              {"eastern", 3, 500},
                                                              {"oxford", 9, 1234},
                                                              {"wessex", 20, 2000},
                                                              {"west-midlands", 0, 800},
                                                          }));
  const PublicMeasure m = Disclose(report, DisclosurePolicy::Public()).measures.at(0);

  // 3 is small: numerator and value suppressed; 500 is published.
  const PublicFigure& eastern = Collaborative(m, "eastern");
  EXPECT_EQ(eastern.numerator, std::nullopt);
  EXPECT_TRUE(eastern.numerator_suppressed);
  EXPECT_EQ(eastern.denominator, 500);
  EXPECT_FALSE(eastern.denominator_suppressed);
  EXPECT_EQ(eastern.value, std::nullopt);
  EXPECT_TRUE(eastern.value_suppressed);
  EXPECT_EQ(eastern.protection, Protection::kPrimary);

  // National 32 minus the others would give 3: the smallest other non-zero
  // numerator, 9 (not the 0 of west-midlands), is suppressed too.
  const PublicFigure& oxford = Collaborative(m, "oxford");
  EXPECT_EQ(oxford.numerator, std::nullopt);
  EXPECT_TRUE(oxford.numerator_suppressed);
  EXPECT_EQ(oxford.denominator, 1235);
  EXPECT_TRUE(oxford.value_suppressed);
  EXPECT_EQ(oxford.protection, Protection::kSecondary);

  const PublicFigure& wessex = Collaborative(m, "wessex");
  EXPECT_EQ(wessex.numerator, 20);
  EXPECT_DOUBLE_EQ(*wessex.value, 10.0);
  EXPECT_EQ(wessex.protection, Protection::kRounded);

  // 0 stays 0; its denominator 800 is rounded (unchanged), value 0.
  const PublicFigure& wm = Collaborative(m, "west-midlands");
  EXPECT_EQ(wm.numerator, 0);
  EXPECT_EQ(wm.denominator, 800);
  EXPECT_DOUBLE_EQ(*wm.value, 0.0);
  EXPECT_EQ(wm.protection, Protection::kRounded);

  EXPECT_FALSE(m.numerator_recoverable);
  EXPECT_EQ(m.national.numerator, 32);
  EXPECT_EQ(m.national.denominator, 4534);
}

TEST(Disclose, SecondaryTieGoesToTheLowerCollaborativeId) {
  // Listed out of id order on purpose: the pick must not depend on it.
  const auto report = OneMeasure(MakeMeasureReport(kCount, {
                                                               {"wessex", 8, 0},
                                                               {"oxford", 8, 0},
                                                               {"kent-surrey-sussex", 9, 0},
                                                               {"eastern", 5, 0},
                                                               {"south-west", 0, 0},
                                                           }));
  const PublicMeasure m = Disclose(report, DisclosurePolicy::Public()).measures.at(0);
  // eastern 5 is primary. Smallest non-zero others: wessex 8 and oxford 8;
  // oxford < wessex by id. kent-surrey-sussex is first by id but larger.
  EXPECT_EQ(Collaborative(m, "eastern").protection, Protection::kPrimary);
  EXPECT_EQ(Collaborative(m, "oxford").protection, Protection::kSecondary);
  EXPECT_EQ(Collaborative(m, "oxford").numerator, std::nullopt);
  EXPECT_EQ(Collaborative(m, "oxford").value, std::nullopt);
  EXPECT_TRUE(Collaborative(m, "oxford").value_suppressed);
  EXPECT_EQ(Collaborative(m, "wessex").numerator, 10);
  EXPECT_EQ(Collaborative(m, "wessex").protection, Protection::kRounded);
  EXPECT_EQ(Collaborative(m, "kent-surrey-sussex").numerator, 10);
  EXPECT_EQ(Collaborative(m, "south-west").numerator, 0);
  EXPECT_EQ(Collaborative(m, "south-west").protection, Protection::kNone);
  // Counts have no denominator to protect.
  EXPECT_EQ(Collaborative(m, "wessex").denominator, 0);
  EXPECT_FALSE(Collaborative(m, "wessex").denominator_suppressed);
  EXPECT_EQ(m.national.numerator, 30);
}

TEST(Disclose, NoSecondaryWhenTwoCellsAreAlreadySuppressed) {
  const auto report = OneMeasure(MakeMeasureReport(kCount, {
                                                               {"eastern", 2, 0},
                                                               {"oxford", 6, 0},
                                                               {"wessex", 30, 0},
                                                           }));
  const PublicMeasure m = Disclose(report, DisclosurePolicy::Public()).measures.at(0);
  // National 38 - 30 gives only eastern + oxford = 8.
  EXPECT_EQ(Collaborative(m, "eastern").protection, Protection::kPrimary);
  EXPECT_EQ(Collaborative(m, "oxford").protection, Protection::kPrimary);
  EXPECT_EQ(Collaborative(m, "wessex").numerator, 30);
  EXPECT_EQ(Collaborative(m, "wessex").protection, Protection::kRounded);
  EXPECT_EQ(m.national.numerator, 38);
}

TEST(Disclose, NumeratorsAndDenominatorsAreProtectedSeparately) {
  const auto report = OneMeasure(MakeMeasureReport(kProportion, {
                                                                    {"eastern", 5, 6},
                                                                    {"oxford", 33, 41},
                                                                    {"wessex", 45, 50},
                                                                    {"west-midlands", 0, 0, 0, 3},
                                                                }));
  const PublicMeasure m = Disclose(report, DisclosurePolicy::Public()).measures.at(0);
  // Numerators: 5 primary, then the smallest non-zero other, 33.
  // Denominators: 6 primary, then the smallest non-zero other, 41.
  const PublicFigure& eastern = Collaborative(m, "eastern");
  EXPECT_TRUE(eastern.numerator_suppressed && eastern.denominator_suppressed);
  EXPECT_EQ(eastern.protection, Protection::kPrimary);
  const PublicFigure& oxford = Collaborative(m, "oxford");
  EXPECT_TRUE(oxford.numerator_suppressed && oxford.denominator_suppressed);
  EXPECT_TRUE(oxford.value_suppressed);
  EXPECT_EQ(oxford.protection, Protection::kSecondary);
  // 45 / 50 = 90%.
  EXPECT_DOUBLE_EQ(*Collaborative(m, "wessex").value, 90.0);
  // Nothing reported: zeros, no value, nothing to suppress.
  const PublicFigure& wm = Collaborative(m, "west-midlands");
  EXPECT_EQ(wm.numerator, 0);
  EXPECT_EQ(wm.denominator, 0);
  EXPECT_EQ(wm.value, std::nullopt);
  EXPECT_FALSE(wm.value_suppressed);
  EXPECT_EQ(wm.protection, Protection::kNone);
  EXPECT_EQ(wm.coverage.reported(), 0);
  EXPECT_EQ(wm.coverage.expected(), 3);
}

TEST(Disclose, AllButOneZeroCannotBeProtectedAndSaysSo) {
  const auto report = OneMeasure(MakeMeasureReport(kCount, {
                                                               {"eastern", 0, 0},
                                                               {"oxford", 4, 0},
                                                               {"wessex", 0, 0},
                                                           }));
  const PublicMeasure m = Disclose(report, DisclosurePolicy::Public()).measures.at(0);
  // National 4 = oxford; zeros are published and never suppressed.
  EXPECT_EQ(Collaborative(m, "oxford").protection, Protection::kPrimary);
  EXPECT_EQ(Collaborative(m, "eastern").numerator, 0);
  EXPECT_EQ(Collaborative(m, "eastern").protection, Protection::kNone);
  EXPECT_EQ(Collaborative(m, "wessex").numerator, 0);
  EXPECT_TRUE(m.numerator_recoverable);
  EXPECT_FALSE(m.denominator_recoverable);
  EXPECT_EQ(m.national.numerator, 4);
}

TEST(Disclose, ZerosAreSkippedForTheSmallestNonZeroCell) {
  const auto report = OneMeasure(MakeMeasureReport(kCount, {
                                                               {"eastern", 0, 0},
                                                               {"oxford", 4, 0},
                                                               {"wessex", 0, 0},
                                                               {"west-midlands", 90, 0},
                                                           }));
  const PublicMeasure m = Disclose(report, DisclosurePolicy::Public()).measures.at(0);
  EXPECT_EQ(Collaborative(m, "west-midlands").protection, Protection::kSecondary);
  EXPECT_EQ(Collaborative(m, "west-midlands").numerator, std::nullopt);
  EXPECT_EQ(Collaborative(m, "eastern").numerator, 0);
  EXPECT_EQ(Collaborative(m, "wessex").numerator, 0);
  EXPECT_FALSE(m.numerator_recoverable);
}

TEST(Disclose, SecondaryCanBeSwitchedOff) {
  DisclosurePolicy primary_only;
  primary_only.secondary = false;
  const auto report = OneMeasure(MakeMeasureReport(kCount, {
                                                               {"eastern", 3, 0},
                                                               {"oxford", 8, 0},
                                                           }));
  const PublicMeasure m = Disclose(report, primary_only).measures.at(0);
  EXPECT_EQ(Collaborative(m, "eastern").protection, Protection::kPrimary);
  EXPECT_EQ(Collaborative(m, "oxford").numerator, 10);
  EXPECT_EQ(Collaborative(m, "oxford").protection, Protection::kRounded);
  EXPECT_FALSE(m.numerator_recoverable);
}

TEST(Disclose, DisabledPolicyPublishesFiguresUnchanged) {
  const auto report = OneMeasure(MakeMeasureReport(kRate, {
                                                              {"eastern", 3, 500},
                                                              {"north-east", 13, 1002},
                                                          }));
  const PublicReport pub = Disclose(report, DisclosurePolicy::Internal());
  EXPECT_FALSE(pub.applied);
  EXPECT_EQ(pub.policy_name, "unsuppressed");
  const PublicMeasure& m = pub.measures.at(0);
  const v1::MeasureReport& mr = report.types(0).topics(0).measures(0);
  for (int i = 0; i < mr.collaboratives_size(); ++i) {
    const v1::Figure& f = mr.collaboratives(i).figure();
    const auto& [id, p] = m.collaboratives.at(static_cast<size_t>(i));
    EXPECT_EQ(id, mr.collaboratives(i).collaborative_id());
    EXPECT_EQ(p.numerator, f.numerator());
    EXPECT_EQ(p.denominator, f.denominator());
    EXPECT_EQ(p.value, f.value());
    EXPECT_FALSE(p.numerator_suppressed || p.denominator_suppressed || p.value_suppressed ||
                 p.rounded);
    EXPECT_EQ(p.protection, Protection::kNone);
  }
  EXPECT_EQ(Collaborative(m, "eastern").numerator, 3);
  EXPECT_EQ(Collaborative(m, "north-east").numerator, 13);

  // A disabled policy never claims its name, whatever it is.
  DisclosurePolicy off;
  off.enabled = false;
  EXPECT_EQ(Disclose(report, off).policy_name, "unsuppressed");
  EXPECT_EQ(Disclose(report, DisclosurePolicy::Public()).policy_name, "HES small-number rule");
  EXPECT_TRUE(Disclose(report, DisclosurePolicy::Public()).applied);
}

TEST(Disclose, NationalIsIdenticalUnderEveryPolicy) {
  const auto report = OneMeasure(MakeMeasureReport(kCount, {
                                                               {"eastern", 7, 0},
                                                               {"oxford", 12, 0},
                                                           }));
  const PublicFigure pub = Disclose(report, DisclosurePolicy::Public()).measures.at(0).national;
  const PublicFigure internal =
      Disclose(report, DisclosurePolicy::Internal()).measures.at(0).national;
  EXPECT_EQ(pub, internal);
  EXPECT_EQ(pub.numerator, 19);  // not rounded to 20
  EXPECT_DOUBLE_EQ(*pub.value, 19.0);
}

// ---------------------------------------------------------------- CSV

// Two types, three measures, every kind of cell.
v1::QuarterlyReport GoldenReport() {
  v1::QuarterlyReport r;
  r.set_quarter("2024/25 Q4");
  auto* process = r.add_types();
  process->set_type(v1::MEASURE_TYPE_PROCESS);
  auto* deterioration = process->add_topics();
  deterioration->mutable_topic()->set_id("deterioration");
  // national 83 / 97 = 85.5670%
  *deterioration->add_measures() = MakeMeasureReport(kProportion, {
                                                                      {"eastern", 5, 6},
                                                                      {"oxford", 33, 41},
                                                                      {"wessex", 45, 50},
                                                                      {"west-midlands", 0, 0, 0, 3},
                                                                  });
  auto* outcome = r.add_types();
  outcome->set_type(v1::MEASURE_TYPE_OUTCOME);
  auto* falls = outcome->add_topics();
  falls->mutable_topic()->set_id("falls");
  // national 40
  *falls->add_measures() = MakeMeasureReport(kCount, {
                                                         {"eastern", 0, 0},
                                                         {"kent-surrey-sussex", 7, 0},
                                                         {"oxford", 8, 0},
                                                         {"wessex", 12, 0},
                                                         {"west-midlands", 13, 0},
                                                     });
  // national 45 / 5,536 per 1,000 = 8.1286
  *falls->add_measures() = MakeMeasureReport(kRate, {
                                                        {"eastern", 3, 500},
                                                        {"north-east", 13, 1002},
                                                        {"oxford", 9, 1234},
                                                        {"wessex", 20, 2000},
                                                        {"west-midlands", 0, 800},
                                                    });
  return r;
}

TEST(RenderPublicCsv, GoldenUnderTheHesRule) {
  const std::string expected =
      "measure_id,area,area_id,numerator,denominator,value,suppression,policy\r\n"
      "news2-on-time.v1,national,,83,97,85.5670,none,HES small-number rule\r\n"
      "news2-on-time.v1,collaborative,eastern,*,*,*,primary,HES small-number rule\r\n"
      "news2-on-time.v1,collaborative,oxford,*,*,*,secondary,HES small-number rule\r\n"
      "news2-on-time.v1,collaborative,wessex,45,50,90.0000,rounded,HES small-number rule\r\n"
      "news2-on-time.v1,collaborative,west-midlands,0,0,,none,HES small-number rule\r\n"
      "falls-count.v1,national,,40,,40,none,HES small-number rule\r\n"
      "falls-count.v1,collaborative,eastern,0,,0,none,HES small-number rule\r\n"
      "falls-count.v1,collaborative,kent-surrey-sussex,*,,*,primary,HES small-number rule\r\n"
      "falls-count.v1,collaborative,oxford,*,,*,secondary,HES small-number rule\r\n"
      "falls-count.v1,collaborative,wessex,10,,10,rounded,HES small-number rule\r\n"
      "falls-count.v1,collaborative,west-midlands,15,,15,rounded,HES small-number rule\r\n"
      "falls-harm-rate.v1,national,,45,5536,8.1286,none,HES small-number rule\r\n"
      "falls-harm-rate.v1,collaborative,eastern,*,500,*,primary,HES small-number rule\r\n"
      "falls-harm-rate.v1,collaborative,north-east,15,1000,15.0000,rounded,"
      "HES small-number rule\r\n"
      "falls-harm-rate.v1,collaborative,oxford,*,1235,*,secondary,HES small-number rule\r\n"
      "falls-harm-rate.v1,collaborative,wessex,20,2000,10.0000,rounded,HES small-number rule\r\n"
      "falls-harm-rate.v1,collaborative,west-midlands,0,800,0.0000,rounded,"
      "HES small-number rule\r\n";
  EXPECT_EQ(RenderPublicCsv(Disclose(GoldenReport(), DisclosurePolicy::Public())), expected);
}

TEST(RenderPublicCsv, GoldenUnsuppressed) {
  // Values from the exact counts: 500/6 = 83.3333, 3,300/41 = 80.4878,
  // 13,000/1,002 = 12.97405... -> 12.9741 (half up), 9,000/1,234 =
  // 7.29335... -> 7.2934.
  const std::string expected =
      "measure_id,area,area_id,numerator,denominator,value,suppression,policy\r\n"
      "news2-on-time.v1,national,,83,97,85.5670,none,unsuppressed\r\n"
      "news2-on-time.v1,collaborative,eastern,5,6,83.3333,none,unsuppressed\r\n"
      "news2-on-time.v1,collaborative,oxford,33,41,80.4878,none,unsuppressed\r\n"
      "news2-on-time.v1,collaborative,wessex,45,50,90.0000,none,unsuppressed\r\n"
      "news2-on-time.v1,collaborative,west-midlands,0,0,,none,unsuppressed\r\n"
      "falls-count.v1,national,,40,,40,none,unsuppressed\r\n"
      "falls-count.v1,collaborative,eastern,0,,0,none,unsuppressed\r\n"
      "falls-count.v1,collaborative,kent-surrey-sussex,7,,7,none,unsuppressed\r\n"
      "falls-count.v1,collaborative,oxford,8,,8,none,unsuppressed\r\n"
      "falls-count.v1,collaborative,wessex,12,,12,none,unsuppressed\r\n"
      "falls-count.v1,collaborative,west-midlands,13,,13,none,unsuppressed\r\n"
      "falls-harm-rate.v1,national,,45,5536,8.1286,none,unsuppressed\r\n"
      "falls-harm-rate.v1,collaborative,eastern,3,500,6.0000,none,unsuppressed\r\n"
      "falls-harm-rate.v1,collaborative,north-east,13,1002,12.9741,none,unsuppressed\r\n"
      "falls-harm-rate.v1,collaborative,oxford,9,1234,7.2934,none,unsuppressed\r\n"
      "falls-harm-rate.v1,collaborative,wessex,20,2000,10.0000,none,unsuppressed\r\n"
      "falls-harm-rate.v1,collaborative,west-midlands,0,800,0.0000,none,unsuppressed\r\n";
  EXPECT_EQ(RenderPublicCsv(Disclose(GoldenReport(), DisclosurePolicy::Internal())), expected);
}

TEST(RenderPublicCsv, QuotesAPolicyNameThatNeedsIt) {
  DisclosurePolicy p;
  p.name = "HES rule, \"strict\"";
  const auto report = OneMeasure(MakeMeasureReport(kCount, {{"oxford", 20, 0}}));
  EXPECT_EQ(RenderPublicCsv(Disclose(report, p)),
            "measure_id,area,area_id,numerator,denominator,value,suppression,policy\r\n"
            "falls-count.v1,national,,20,,20,none,\"HES rule, \"\"strict\"\"\"\r\n"
            "falls-count.v1,collaborative,oxford,20,,20,rounded,\"HES rule, \"\"strict\"\"\"\r\n");
}

TEST(Disclose, IsDeterministic) {
  const auto report = GoldenReport();
  EXPECT_EQ(RenderPublicCsv(Disclose(report, DisclosurePolicy::Public())),
            RenderPublicCsv(Disclose(report, DisclosurePolicy::Public())));
}

TEST(Disclose, KeepsMeasureAndCollaborativeOrder) {
  const PublicReport pub = Disclose(GoldenReport(), DisclosurePolicy::Public());
  ASSERT_EQ(pub.measures.size(), 3u);
  EXPECT_EQ(pub.measures[0].id, "news2-on-time.v1");
  EXPECT_EQ(pub.measures[0].factor, 100);
  EXPECT_EQ(pub.measures[2].factor, 1000);
  EXPECT_THAT(pub.measures[1].collaboratives,
              ElementsAre(Pair("eastern", ::testing::_), Pair("kent-surrey-sussex", ::testing::_),
                          Pair("oxford", ::testing::_), Pair("wessex", ::testing::_),
                          Pair("west-midlands", ::testing::_)));
}

}  // namespace
}  // namespace psc::disclosure
