// The projection suite, run against every log backend: events are appended
// to a real log, folded by the Projector into a real RocksDB read model, and
// the sums are checked against values worked out by hand in the comments.
#include <gtest/gtest.h>

#include <prometheus/registry.h>

#include <thread>

#include "projection_suite.h"
#include "psc/projection/probe.h"
#include "psc/projection/programme.h"
#include "psc/testing/metrics.h"

namespace psc::projection {
namespace {

using ::psc::testing::Batch;
using ::psc::testing::EventOf;
using ::psc::testing::Obs;
using ::psc::testing::Key;
using ::psc::testing::LearningOf;
using ::psc::testing::SmallCatalogue;
using ::psc::testing::Withdrawal;

constexpr Month kApr2024 = Month::FromYearMonth(2024, 4);
constexpr Month kJan2024 = Month::FromYearMonth(2024, 1);

TEST_P(ProjectionSuite, CorrectionReplacesAndAggregateMovesByDelta) {
  Append(EventOf(SmallCatalogue()));
  Append(EventOf(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 5),
                              Obs("RDZ", "falls-count.v1", "2024-04", 3),
                              Obs("RTH", "falls-count.v1", "2024-04", 4)})));
  CatchUp();
  // wessex = RHM 5 + RDZ 3 = 8 from 2 organisations; oxford = RTH 4.
  EXPECT_EQ(MonthSums("falls-count.v1", kApr2024, "wessex"), (Sums{8, 0, 2}));
  EXPECT_EQ(MonthSums("falls-count.v1", kApr2024, "oxford"), (Sums{4, 0, 1}));

  // RHM corrects 5 -> 2 under a new submission id: wessex 8 - 5 + 2 = 5,
  // still 2 organisations reporting.
  Append(EventOf(Batch("s2", {Obs("RHM", "falls-count.v1", "2024-04", 2)})));
  CatchUp();
  EXPECT_EQ(MonthSums("falls-count.v1", kApr2024, "wessex"), (Sums{5, 0, 2}));
  EXPECT_EQ(model().Snapshot().observation_count(), 3u);

  auto obs = model().Snapshot().Observations("falls-count.v1", "RHM", kApr2024, kApr2024);
  ASSERT_TRUE(obs.ok()) << obs.status();
  ASSERT_EQ(obs->size(), 1u);
  EXPECT_EQ((*obs)[0].numerator, 2);
}

TEST_P(ProjectionSuite, RepeatedSubmissionIdChangesNothing) {
  Append(EventOf(SmallCatalogue()));
  Append(EventOf(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 5)})));
  CatchUp();
  std::string before = StateDump();

  // The same id again, even with other rows (a confused client): ignored.
  Append(EventOf(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 50),
                              Obs("RDZ", "falls-count.v1", "2024-04", 7)})));
  CatchUp();
  EXPECT_EQ(model().applied().value(), 3u);
  EXPECT_EQ(StateDump(), before);
  EXPECT_EQ(MonthSums("falls-count.v1", kApr2024, "wessex"), (Sums{5, 0, 1}));

  auto receipt = model().Snapshot().Receipt("s1");
  ASSERT_TRUE(receipt.ok() && receipt->has_value());
  EXPECT_EQ((*receipt)->position(), 2u);
  EXPECT_EQ((*receipt)->rows_accepted(), 1u);
}

TEST_P(ProjectionSuite, WithdrawalMovesTheAggregateBackAndTheHistoryKeepsEveryChange) {
  Append(EventOf(SmallCatalogue()));
  Append(EventOf(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 5),
                              Obs("RDZ", "falls-count.v1", "2024-04", 3)})));
  Append(EventOf(Batch("s2", {Obs("RHM", "falls-count.v1", "2024-04", 2)})));
  // RHM withdrawn; RTH has no April value, so its key is a no-op.
  Append(EventOf(Withdrawal("w1", {Key("RHM", "falls-count.v1", "2024-04"),
                                   Key("RTH", "falls-count.v1", "2024-04")})));
  CatchUp();
  // wessex: 5 + 3, corrected to 2 + 3, RHM withdrawn: 3 from 1 organisation.
  EXPECT_EQ(MonthSums("falls-count.v1", kApr2024, "wessex"), (Sums{3, 0, 1}));
  EXPECT_EQ(model().Snapshot().observation_count(), 1u);
  auto receipt = model().Snapshot().Receipt("w1");
  ASSERT_TRUE(receipt.ok() && receipt->has_value());
  EXPECT_EQ((*receipt)->position(), 4u);
  EXPECT_EQ((*receipt)->rows_accepted(), 1u);

  auto history = model().Snapshot().History("falls-count.v1", "RHM", kApr2024);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 3u);
  const auto& h = *history;
  EXPECT_EQ(h[0].kind(), v1::VALUE_CHANGE_KIND_SUBMITTED);
  EXPECT_EQ(h[0].request_id(), "s1");
  EXPECT_EQ(h[0].numerator(), 5);
  EXPECT_FALSE(h[0].has_previous_numerator());
  EXPECT_EQ(h[1].request_id(), "s2");
  EXPECT_EQ(h[1].numerator(), 2);
  EXPECT_EQ(h[1].previous_numerator(), 5);
  EXPECT_EQ(h[2].kind(), v1::VALUE_CHANGE_KIND_WITHDRAWN);
  EXPECT_EQ(h[2].position(), 4u);
  EXPECT_EQ(h[2].previous_numerator(), 2);
  EXPECT_EQ(h[2].reason(), "entered in error");
  EXPECT_EQ(h[2].principal(), "test");

  // Repeating the withdrawal id changes nothing; a new value comes back.
  Append(EventOf(Withdrawal("w1", {Key("RDZ", "falls-count.v1", "2024-04")})));
  Append(EventOf(Batch("s3", {Obs("RHM", "falls-count.v1", "2024-04", 7)})));
  CatchUp();
  EXPECT_EQ(MonthSums("falls-count.v1", kApr2024, "wessex"), (Sums{10, 0, 2}));
}

TEST_P(ProjectionSuite, WithdrawingTheLatestMonthFallsBackToTheOneBefore) {
  Append(EventOf(SmallCatalogue()));
  Append(EventOf(Batch("s1", {Obs("RHM", "staff-trained.v1", "2024-01", 10),
                              Obs("RHM", "staff-trained.v1", "2024-03", 12)})));
  CatchUp();
  Quarter q4 = Quarter::Containing(kJan2024);
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q4, "wessex"), (Sums{12, 0, 1}));
  Append(EventOf(Withdrawal("w1", {Key("RHM", "staff-trained.v1", "2024-03")})));
  CatchUp();
  // March withdrawn: January's 10 is RHM's latest in the quarter again.
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q4, "wessex"), (Sums{10, 0, 1}));
  Append(EventOf(Withdrawal("w2", {Key("RHM", "staff-trained.v1", "2024-01")})));
  CatchUp();
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q4, "wessex"), (Sums{}));
  auto view = model().Snapshot();
  EXPECT_EQ(view.Aggregates("staff-trained.v1"), nullptr);
}

TEST_P(ProjectionSuite, OnTimeCountsWhenTheFirstValueArrived) {
  Append(EventOf(SmallCatalogue()));
  // April 2024 with the default 15 days: on time before 16 May 00:00 BST,
  // which is 2024-05-15T23:00:00Z = 1715814000.
  constexpr int64_t kDeadline = 1'715'814'000;
  Append(EventOf(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 5)}), kDeadline - 1, "feed"));
  Append(EventOf(Batch("s2", {Obs("RDZ", "falls-count.v1", "2024-04", 3)}), kDeadline, "feed"));
  CatchUp();
  EXPECT_EQ(MonthSums("falls-count.v1", kApr2024, "wessex"), (Sums{8, 0, 2, 1}));
  // A late correction keeps RHM on time: timeliness is the first value's.
  Append(EventOf(Batch("s3", {Obs("RHM", "falls-count.v1", "2024-04", 6)}), kDeadline + 86400,
                 "feed"));
  CatchUp();
  EXPECT_EQ(MonthSums("falls-count.v1", kApr2024, "wessex"), (Sums{9, 0, 2, 1}));
  // Withdrawn, RHM's return no longer counts at all.
  Append(EventOf(Withdrawal("w1", {Key("RHM", "falls-count.v1", "2024-04")})));
  CatchUp();
  EXPECT_EQ(MonthSums("falls-count.v1", kApr2024, "wessex"), (Sums{3, 0, 1, 0}));
}

TEST_P(ProjectionSuite, RatioKeepsNumeratorAndDenominator) {
  Append(EventOf(SmallCatalogue()));
  Append(EventOf(Batch("s1", {Obs("RHM", "falls-harm-rate.v1", "2024-04", 3, 2000),
                              Obs("RDZ", "falls-harm-rate.v1", "2024-04", 1, 1000)})));
  CatchUp();
  // (3 + 1) / (2000 + 1000) bed days: the sums are kept, never the rate.
  EXPECT_EQ(MonthSums("falls-harm-rate.v1", kApr2024, "wessex"), (Sums{4, 3000, 2}));

  Append(EventOf(Batch("s2", {Obs("RDZ", "falls-harm-rate.v1", "2024-04", 2, 1500)})));
  CatchUp();
  // RDZ corrected to 2 / 1500: 3 + 2 = 5 over 2000 + 1500 = 3500.
  EXPECT_EQ(MonthSums("falls-harm-rate.v1", kApr2024, "wessex"), (Sums{5, 3500, 2}));
}

TEST_P(ProjectionSuite, LastTakesEachOrganisationsLatestMonthInTheQuarter) {
  Append(EventOf(SmallCatalogue()));
  // 2023/24 Q4 = Jan-Mar 2024. RHM: Jan 10, Mar 12; RDZ: Feb 7.
  Append(EventOf(Batch("s1", {Obs("RHM", "staff-trained.v1", "2024-01", 10),
                              Obs("RHM", "staff-trained.v1", "2024-03", 12),
                              Obs("RDZ", "staff-trained.v1", "2024-02", 7)})));
  CatchUp();
  Quarter q4 = Quarter::Containing(kJan2024);
  // RHM's latest is March (12), RDZ's is February (7): 19 from 2 orgs.
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q4, "wessex"), (Sums{19, 0, 2}));

  // A February value for RHM does not displace its March one.
  Append(EventOf(Batch("s2", {Obs("RHM", "staff-trained.v1", "2024-02", 11)})));
  CatchUp();
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q4, "wessex"), (Sums{19, 0, 2}));

  // RDZ reports March 9: it replaces February 7 in the quarter: 12 + 9.
  Append(EventOf(Batch("s3", {Obs("RDZ", "staff-trained.v1", "2024-03", 9)})));
  CatchUp();
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q4, "wessex"), (Sums{21, 0, 2}));
  // Monthly sums still hold every month: March = 12 + 9.
  EXPECT_EQ(MonthSums("staff-trained.v1", Month::FromYearMonth(2024, 3), "wessex"),
            (Sums{21, 0, 2}));
}

TEST_P(ProjectionSuite, InvalidEventIsRecordedAsRefusedNotApplied) {
  Append(EventOf(SmallCatalogue()));
  // Bypassing the gateway: an unknown organisation, and R1A which is not
  // enrolled for news2. The whole submission is refused at replay.
  Append(EventOf(Batch("bad", {Obs("RHM", "falls-count.v1", "2024-04", 1),
                               Obs("XXX", "falls-count.v1", "2024-04", 1)})));
  Append(EventOf(Batch("bad2", {Obs("R1A", "news2-on-time.v1", "2024-04", 1, 2)})));
  Append(EventOf(Batch("good", {Obs("RHM", "falls-count.v1", "2024-04", 4)})));
  CatchUp();
  auto view = model().Snapshot();
  EXPECT_EQ(view.refused_events(), 2u);
  EXPECT_EQ(view.observation_count(), 1u);
  EXPECT_EQ(MonthSums("falls-count.v1", kApr2024, "wessex"), (Sums{4, 0, 1}));
  auto receipt = view.Receipt("bad");
  ASSERT_TRUE(receipt.ok());
  EXPECT_FALSE(receipt->has_value());
}

TEST_P(ProjectionSuite, ConflictingCatalogueChangeIsRefused) {
  Append(EventOf(SmallCatalogue("c1")));
  // An organisation moved to another collaborative under the same code
  // conflicts with what is there: refused, the first catalogue stands.
  v1::CatalogueChanged moved = SmallCatalogue("c2");
  moved.mutable_organisations(0)->set_collaborative_id("oxford");
  Append(EventOf(moved));
  CatchUp();
  auto view = model().Snapshot();
  EXPECT_EQ(view.refused_events(), 1u);
  ASSERT_TRUE(view.Receipt("c1")->has_value());
  EXPECT_FALSE(view.Receipt("c2")->has_value());
  EXPECT_NE(view.catalogue().FindMeasure("falls-count.v1"), nullptr);
}

TEST_P(ProjectionSuite, UndecodableEventStopsTheFoldWithoutApplyingIt) {
  Append(EventOf(SmallCatalogue()));
  Append("\xff\xff not an envelope");
  Projector projector(model(), log());
  auto status = projector.CatchUp(nullptr, std::chrono::seconds(1));
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find("position 2"), std::string_view::npos) << status;
  // The run holding the bad event was not applied, so the fold can resume
  // there once the log is repaired.
  EXPECT_LT(model().applied().value(), 2u);
}

TEST_P(ProjectionSuite, FoldingInAnySplitGivesTheBytesOfOneCleanRebuild) {
  Append(EventOf(SmallCatalogue()));
  int n = 0;
  for (int month = 1; month <= 6; ++month) {
    std::string m = psc::StrCat("2024-0", month);
    for (const char* org : {"RHM", "RDZ", "RTH"}) {
      Append(EventOf(Batch(psc::StrCat("s", ++n),
                           {Obs(org, "falls-count.v1", m, month), Obs(org, "staff-trained.v1", m, n),
                            Obs(org, "falls-harm-rate.v1", m, n % 4, 1000 + n)})));
    }
    // A correction, a repeat and a withdrawal in every month.
    Append(EventOf(Batch(psc::StrCat("fix", month), {Obs("RHM", "staff-trained.v1", m, 1)})));
    Append(EventOf(Batch(psc::StrCat("s", n), {Obs("RDZ", "falls-count.v1", m, 99)})));
    Append(EventOf(Withdrawal(psc::StrCat("w", month), {Key("RTH", "staff-trained.v1", m)})));
  }
  CatchUp();
  std::string clean = Dump();

  // Fold the same log in uneven runs, reopening the read model between
  // them as after a crash.
  std::string split;
  SplitFold({1, 2, 7, 3, 11, 1000}, &split);
  EXPECT_EQ(split, clean);
}

// Submissions are validated ahead on a second thread against the catalogue
// a run starts with; a catalogue change earlier in the same run must still
// decide. R1A is not enrolled in news2-on-time.v1 until the change
// "enrol-r1a": its return is refused before it and applied after, whether
// the four events come in one run or one by one.
TEST_P(ProjectionSuite, CatalogueChangeInTheSameRunDecidesTheSubmissionsAfterIt) {
  Append(EventOf(SmallCatalogue()));
  Append(EventOf(Batch("early", {Obs("R1A", "news2-on-time.v1", "2024-04", 3, 4)})));
  v1::CatalogueChanged enrol;
  enrol.set_change_id("enrol-r1a");
  auto* e = enrol.add_enrolments();
  e->set_ods_code("R1A");
  e->set_measure_id("news2-on-time.v1");
  e->set_from_month("2024-04");
  Append(EventOf(enrol));
  Append(EventOf(Batch("late", {Obs("R1A", "news2-on-time.v1", "2024-04", 3, 4)})));
  CatchUp();  // one run: every event in one WriteBatch
  {
    auto view = model().Snapshot();
    EXPECT_EQ(view.refused_events(), 1u);
    EXPECT_FALSE(view.Receipt("early")->has_value());
    ASSERT_TRUE(view.Receipt("late")->has_value());
    EXPECT_EQ(view.observation_count(), 1u);
  }
  EXPECT_EQ(MonthSums("news2-on-time.v1", kApr2024, "oxford"), (Sums{3, 4, 1, 0}));
  std::string one_by_one;
  SplitFold({1, 1, 1, 1}, &one_by_one);
  EXPECT_EQ(one_by_one, Dump());
}

v1::CatalogueChanged Moved(const char* change_id, const char* ods, const char* collaborative,
                           const char* from, const char* to = "") {
  v1::CatalogueChanged c;
  c.set_change_id(change_id);
  auto* m = c.add_memberships();
  m->set_ods_code(ods);
  m->set_collaborative_id(collaborative);
  m->set_from_month(from);
  m->set_to_month(to);
  return c;
}

constexpr Month kMay2024 = Month::FromYearMonth(2024, 5);
constexpr Month kJun2024 = Month::FromYearMonth(2024, 6);

TEST_P(ProjectionSuite, ValuesAggregateUnderTheMembershipOfTheirMonth) {
  Append(EventOf(SmallCatalogue()));
  // RHM (registered in wessex) belongs to oxford from May 2024.
  Append(EventOf(Moved("m1", "RHM", "oxford", "2024-05")));
  Append(EventOf(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 5),
                              Obs("RHM", "falls-count.v1", "2024-05", 3),
                              Obs("RDZ", "falls-count.v1", "2024-04", 4),
                              Obs("RDZ", "falls-count.v1", "2024-05", 2)})));
  CatchUp();
  // April: RHM 5 + RDZ 4 in wessex. May: RDZ 2 in wessex, RHM 3 in oxford.
  EXPECT_EQ(MonthSums("falls-count.v1", kApr2024, "wessex"), (Sums{9, 0, 2}));
  EXPECT_EQ(MonthSums("falls-count.v1", kApr2024, "oxford"), (Sums{}));
  EXPECT_EQ(MonthSums("falls-count.v1", kMay2024, "wessex"), (Sums{2, 0, 1}));
  EXPECT_EQ(MonthSums("falls-count.v1", kMay2024, "oxford"), (Sums{3, 0, 1}));
  EXPECT_EQ(model().Snapshot().Receipt("m1")->value().rows_accepted(), 1u);

  // A correction and a withdrawal of RHM's May move oxford, not wessex.
  Append(EventOf(Batch("s2", {Obs("RHM", "falls-count.v1", "2024-05", 6)})));
  CatchUp();
  EXPECT_EQ(MonthSums("falls-count.v1", kMay2024, "oxford"), (Sums{6, 0, 1}));
  Append(EventOf(Withdrawal("w1", {Key("RHM", "falls-count.v1", "2024-05")})));
  CatchUp();
  EXPECT_EQ(MonthSums("falls-count.v1", kMay2024, "oxford"), (Sums{}));
  EXPECT_EQ(MonthSums("falls-count.v1", kMay2024, "wessex"), (Sums{2, 0, 1}));
}

TEST_P(ProjectionSuite, MembershipRecordedLaterMovesTheTotals) {
  // May 2024 with the default 15 days is on time before 2024-06-15T23:00Z.
  constexpr int64_t kMayDeadline = 1'718'492'400;
  Append(EventOf(SmallCatalogue()));
  // Recorded late (2024-10-27), except RHM's May falls.
  Append(EventOf(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 5),
                              Obs("RHM", "falls-count.v1", "2024-06", 2),
                              Obs("RDZ", "falls-count.v1", "2024-05", 4),
                              Obs("RTH", "falls-count.v1", "2024-05", 1),
                              Obs("RHM", "falls-harm-rate.v1", "2024-05", 3, 2000),
                              Obs("RHM", "cc-admissions.v1", "2024-05", 6),
                              Obs("RHM", "staff-trained.v1", "2024-04", 10),
                              Obs("RHM", "staff-trained.v1", "2024-06", 12),
                              Obs("RDZ", "staff-trained.v1", "2024-05", 7),
                              Obs("RTH", "staff-trained.v1", "2024-04", 3)})));
  Append(EventOf(Batch("s2", {Obs("RHM", "falls-count.v1", "2024-05", 3)}), kMayDeadline - 1,
                 "feed"));
  // Withdrawn before the move: there is nothing of it to move.
  Append(EventOf(Withdrawal("w1", {Key("RHM", "cc-admissions.v1", "2024-05")})));
  CatchUp();
  const Quarter q1 = Quarter::Containing(kApr2024);
  // Before: May falls wessex RHM 3 (on time) + RDZ 4, oxford RTH 1. Q1
  // staff trained: wessex RHM's June 12 + RDZ's May 7, oxford RTH's 3.
  EXPECT_EQ(MonthSums("falls-count.v1", kMay2024, "wessex"), (Sums{7, 0, 2, 1}));
  EXPECT_EQ(MonthSums("falls-count.v1", kMay2024, "oxford"), (Sums{1, 0, 1, 0}));
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q1, "wessex"), (Sums{19, 0, 2}));
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q1, "oxford"), (Sums{3, 0, 1}));
  std::vector<Sums> national;
  for (Month m : {kApr2024, kMay2024, kJun2024}) {
    national.push_back(NationalMonthSums("falls-count.v1", m));
  }
  const Sums national_last = NationalQuarterLastSums("staff-trained.v1", q1);

  // Recorded after the values: RHM belongs to oxford from May 2024.
  Append(EventOf(Moved("m1", "RHM", "oxford", "2024-05")));
  CatchUp();
  // April stays in wessex; May and June move with RHM, its timeliness too.
  EXPECT_EQ(MonthSums("falls-count.v1", kApr2024, "wessex"), (Sums{5, 0, 1, 0}));
  EXPECT_EQ(MonthSums("falls-count.v1", kMay2024, "wessex"), (Sums{4, 0, 1, 0}));
  EXPECT_EQ(MonthSums("falls-count.v1", kMay2024, "oxford"), (Sums{4, 0, 2, 1}));
  EXPECT_EQ(MonthSums("falls-count.v1", kJun2024, "wessex"), (Sums{}));
  EXPECT_EQ(MonthSums("falls-count.v1", kJun2024, "oxford"), (Sums{2, 0, 1, 0}));
  EXPECT_EQ(MonthSums("falls-harm-rate.v1", kMay2024, "wessex"), (Sums{}));
  EXPECT_EQ(MonthSums("falls-harm-rate.v1", kMay2024, "oxford"), (Sums{3, 2000, 1}));
  EXPECT_EQ(MonthSums("cc-admissions.v1", kMay2024, "oxford"), (Sums{}));
  // RHM's latest month in Q1 is June, now oxford's: wessex keeps RDZ's 7,
  // oxford has RTH's 3 + RHM's 12.
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q1, "wessex"), (Sums{7, 0, 1}));
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q1, "oxford"), (Sums{15, 0, 2}));
  // The nation is where it was.
  EXPECT_EQ(NationalMonthSums("falls-count.v1", kApr2024), national[0]);
  EXPECT_EQ(NationalMonthSums("falls-count.v1", kMay2024), national[1]);
  EXPECT_EQ(NationalMonthSums("falls-count.v1", kJun2024), national[2]);
  EXPECT_EQ(NationalQuarterLastSums("staff-trained.v1", q1), national_last);

  // A correction recorded later still: June was wessex after all.
  Append(EventOf(Moved("m2", "RHM", "wessex", "2024-06", "2024-06")));
  CatchUp();
  EXPECT_EQ(MonthSums("falls-count.v1", kJun2024, "wessex"), (Sums{2, 0, 1, 0}));
  EXPECT_EQ(MonthSums("falls-count.v1", kJun2024, "oxford"), (Sums{}));
  EXPECT_EQ(MonthSums("falls-count.v1", kMay2024, "oxford"), (Sums{4, 0, 2, 1}));
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q1, "wessex"), (Sums{19, 0, 2}));
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q1, "oxford"), (Sums{3, 0, 1}));

  // RHM's June staff figure withdrawn: its latest is April's 10, in wessex.
  Append(EventOf(Withdrawal("w2", {Key("RHM", "staff-trained.v1", "2024-06")})));
  CatchUp();
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q1, "wessex"), (Sums{17, 0, 2}));
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q1, "oxford"), (Sums{3, 0, 1}));
  // A May figure (an oxford month) takes over: April's 10 leaves wessex,
  // May's 11 joins oxford.
  Append(EventOf(Batch("s3", {Obs("RHM", "staff-trained.v1", "2024-05", 11)})));
  CatchUp();
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q1, "wessex"), (Sums{7, 0, 1}));
  EXPECT_EQ(QuarterLastSums("staff-trained.v1", q1, "oxford"), (Sums{14, 0, 2}));

  // Event by event with a restart after each, or all in one run (moves
  // then read values the run itself wrote): the same bytes.
  const std::string folded = Dump();
  std::string one_by_one;
  SplitFold({1, 1, 1, 1, 1, 1, 1, 1, 1}, &one_by_one);
  EXPECT_EQ(one_by_one, folded);
  std::string one_run;
  SplitFold({1000}, &one_run);
  EXPECT_EQ(one_run, folded);
}

TEST_P(ProjectionSuite, ProgrammeFiguresCountTheLatestMonthUnderItsMembership) {
  Append(EventOf(SmallCatalogue()));
  // RHM (registered in wessex) belongs to oxford from May 2024.
  Append(EventOf(Moved("m1", "RHM", "oxford", "2024-05")));
  Append(EventOf(Batch("s1", {Obs("RDZ", "falls-count.v1", "2024-04", 4),
                              Obs("RHM", "falls-count.v1", "2024-05", 3),
                              Obs("RHM", "news2-on-time.v1", "2024-05", 8, 10),
                              Obs("RDZ", "falls-count.v1", "2024-05", 2),
                              Obs("RTH", "falls-harm-rate.v1", "2024-05", 1, 1000)})));
  Append(EventOf(LearningOf("l1", "wessex", "falls", "2024-05")));
  Append(EventOf(LearningOf("l2", "oxford", "falls", "2024-05")));
  Append(EventOf(LearningOf("l3", "oxford", "deterioration", "2024-05")));
  CatchUp();
  auto figures = [&] {
    auto view = model().Snapshot();
    auto f = ProgrammeOf(view);
    EXPECT_TRUE(f.ok()) << f.status();
    return f.value_or(ProgrammeFigures());
  };
  ProgrammeFigures f = figures();
  ASSERT_TRUE(f.month.has_value());
  EXPECT_EQ(*f.month, kMay2024);
  // May 2024: wessex holds RDZ (5 measures enrolled); oxford holds RHM (5),
  // RTH (5: its falls-count enrolment ends in June) and R1A (4: no NEWS2).
  // Reported: wessex RDZ falls-count; oxford RHM falls-count and NEWS2, RTH
  // falls-harm-rate.
  EXPECT_EQ(f.areas["wessex"], (ProgrammeArea{1, 5, 1, 1}));
  EXPECT_EQ(f.areas["oxford"], (ProgrammeArea{3, 14, 2, 3}));
  // National, latest month: falls-count May 3 + 2 = 5; NEWS2 8/10 = 80%;
  // falls-harm-rate 1 per 1,000 bed days.
  EXPECT_EQ(f.national["falls-count.v1"].value, 5);
  EXPECT_EQ(f.national["news2-on-time.v1"].value, 80);
  EXPECT_EQ(f.national["falls-harm-rate.v1"].value, 1);
  EXPECT_EQ(f.national["falls-harm-rate.v1"].month, kMay2024);
  EXPECT_EQ(f.national.count("staff-trained.v1"), 0u);
  EXPECT_EQ(f.learning_by_topic, (std::map<std::string, int64_t>{{"deterioration", 1}, {"falls", 2}}));

  // RDZ's May withdrawn: wessex has no organisation reporting in May, and
  // the nation's May falls-count is RHM's 3.
  Append(EventOf(Withdrawal("w1", {Key("RDZ", "falls-count.v1", "2024-05")})));
  CatchUp();
  f = figures();
  EXPECT_EQ(f.areas["wessex"], (ProgrammeArea{0, 5, 0, 1}));
  EXPECT_EQ(f.areas["oxford"], (ProgrammeArea{3, 14, 2, 3}));
  EXPECT_EQ(f.national["falls-count.v1"].value, 3);

  // The reporting index survives a restart: a reopened read model agrees.
  model_.reset();
  auto reopened = ReadModel::Open(dir_.Sub("readmodel"));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  model_ = std::move(*reopened);
  f = figures();
  EXPECT_EQ(f.areas["wessex"], (ProgrammeArea{0, 5, 0, 1}));
  EXPECT_EQ(f.areas["oxford"], (ProgrammeArea{3, 14, 2, 3}));
}

TEST_P(ProjectionSuite, ProbeReportsAppliedRefusedPositionAndRebuild) {
  prometheus::Registry registry;
  Append(EventOf(SmallCatalogue()));
  Append(EventOf(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 5)})));
  // Valid when appended, not at replay: an unknown organisation.
  Append(EventOf(Batch("s2", {Obs("XXX", "falls-count.v1", "2024-04", 1)})));
  Append(EventOf(Batch("s3", {Obs("RDZ", "falls-count.v1", "2024-04", 2)})));
  {
    Projector rebuild(model(), log(), {.metrics = &registry});
    ASSERT_TRUE(rebuild.CatchUp(nullptr, std::chrono::seconds(10)).ok());
  }
  auto m = ::psc::testing::Collect(registry);
  EXPECT_EQ(m.Value("psc_projection_applied_events_total"), 4);
  EXPECT_EQ(m.Value("psc_projection_refused_events_total"), 1);
  EXPECT_EQ(m.Value("psc_projection_rebuild_applied_events"), 4);
  EXPECT_EQ(m.Value("psc_projection_rebuild_target_events"), 4);
  EXPECT_EQ(m.Value("psc_projection_position"), 4);
  EXPECT_EQ(m.Value("psc_projection_lag_events"), 0);
  EXPECT_EQ(m.Value("psc_projection_caught_up"), 1);
  EXPECT_EQ(m.Value("psc_projection_apply_batch_events_sum"), 4);

  // Folding in the background on the same registry: the counters go on.
  Projector projector(model(), log(), {.max_events_per_read = 1, .metrics = &registry});
  ASSERT_TRUE(projector.Start().ok());
  Append(EventOf(Batch("s4", {Obs("RTH", "falls-count.v1", "2024-04", 1)})));
  const LogPosition last =
      Append(EventOf(Batch("s5", {Obs("R1A", "falls-count.v1", "2024-04", 1)})));
  ASSERT_TRUE(model().WaitFor(last, std::chrono::steady_clock::now() + std::chrono::seconds(30)));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (::psc::testing::Collect(registry).Value("psc_projection_position") != 6 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  projector.Stop();
  m = ::psc::testing::Collect(registry);
  EXPECT_EQ(m.Value("psc_projection_applied_events_total"), 6);
  EXPECT_EQ(m.Value("psc_projection_position"), 6);
  EXPECT_EQ(m.Value("psc_projection_lag_events"), 0);
  EXPECT_EQ(m.Value("psc_projection_lag_seconds"), 0);
  // One event per read: two more WriteBatches of one event each.
  EXPECT_EQ(m.Value("psc_projection_apply_batch_events_sum"), 6);

  // The collector reads the read model at scrape time.
  auto rm = ::psc::testing::Collect(*ReadModelCollector(model()));
  EXPECT_EQ(rm.Value("psc_readmodel_observations"), 4);
  EXPECT_EQ(rm.Value("psc_readmodel_keys", {{"column_family", "observations"}}), 4);
  EXPECT_EQ(rm.Value("psc_programme_month"), 202404);
  EXPECT_EQ(rm.Value("psc_programme_organisations_reporting", {{"collaborative", "wessex"}}), 2);
  EXPECT_EQ(rm.Value("psc_programme_values_expected", {{"collaborative", "oxford"}}), 9);
  EXPECT_EQ(rm.Value("psc_programme_national_value", {{"measure", "falls-count.v1"}}), 9);
  EXPECT_EQ(rm.Value("psc_programme_national_value_month", {{"measure", "falls-count.v1"}}),
            202404);
  EXPECT_GT(*rm.Value("psc_readmodel_memory_bytes", {{"kind", "block_cache"}}), 0);
}

TEST_P(ProjectionSuite, ReadModelRefusesAnotherLog) {
  Append(EventOf(SmallCatalogue()));
  CatchUp();
  auto status = model().BindToLog("journal:someone-else");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("--rebuild"), std::string_view::npos);
}

TEST_P(ProjectionSuite, BackgroundFoldReachesTheLogEndAndWakesWaiters) {
  Append(EventOf(SmallCatalogue()));
  Projector projector(model(), log(), {.max_events_per_read = 2});
  ASSERT_TRUE(projector.Start().ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  LogPosition last;
  for (int i = 0; i < 10; ++i) {
    last = Append(EventOf(Batch(psc::StrCat("s", i), {Obs("RHM", "falls-count.v1", "2024-04", i)})));
  }
  ASSERT_TRUE(model().WaitFor(last, deadline));
  EXPECT_TRUE(projector.caught_up());
  EXPECT_TRUE(projector.health().ok());
  projector.Stop();
  // The last correction wins: RHM April = 9.
  EXPECT_EQ(MonthSums("falls-count.v1", kApr2024, "wessex"), (Sums{9, 0, 1}));
}

}  // namespace
}  // namespace psc::projection
