#include "psc/domain/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "psc/domain/violations.h"
#include "psc/testing/fixtures.h"

namespace psc {
namespace {

using testing::Batch;
using testing::Obs;
using ::testing::ElementsAre;
using ::testing::Pair;

// (field, reason) of every violation.
std::vector<std::pair<std::string, std::string>> Refusals(const absl::Status& s) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& v : FieldViolationsOf(s)) out.emplace_back(v.field, v.reason);
  return out;
}

class ValidationTest : public ::testing::Test {
 protected:
  void SetUp() override { cat_.Apply(testing::SmallCatalogue()); }
  absl::Status Check(const v1::ObservationsSubmitted& b) {
    return ValidateObservations(cat_, b, b.ByteSizeLong(), now_);
  }
  Catalogue cat_;
  Month now_ = *Month::Parse("2024-11");
};

TEST_F(ValidationTest, AcceptsAGoodBatch) {
  auto b = Batch("s1", {Obs("RHM", "falls-harm-rate.v1", "2024-04", 12, 8410),
                        Obs("RHM", "falls-count.v1", "2024-04", 31),
                        Obs("RHM", "news2-on-time.v1", "2024-04", 950, 1000),
                        Obs("RHM", "news2-on-time.v1", "2024-11", 1000, 1000)});
  EXPECT_TRUE(Check(b).ok()) << Check(b);
}

TEST_F(ValidationTest, UnknownOrganisationAndMeasure) {
  auto s = Check(Batch("s1", {Obs("XXX", "falls-count.v1", "2024-04", 1),
                              Obs("RHM", "nope.v1", "2024-04", 1)}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Refusals(s), ElementsAre(Pair("rows[0].ods_code", "UNKNOWN_ORGANISATION"),
                                       Pair("rows[1].measure_id", "UNKNOWN_MEASURE")));
}

TEST_F(ValidationTest, NotEnrolledInThatMonth) {
  auto s = Check(Batch("s1", {Obs("R1A", "news2-on-time.v1", "2024-04", 1, 2),
                              Obs("RTH", "falls-count.v1", "2024-07", 1),
                              Obs("RHM", "falls-count.v1", "2023-12", 1)}));
  EXPECT_THAT(Refusals(s), ElementsAre(Pair("rows[0].ods_code", "NOT_ENROLLED"),
                                       Pair("rows[1].ods_code", "NOT_ENROLLED"),
                                       Pair("rows[2].ods_code", "NOT_ENROLLED")));
  EXPECT_THAT(std::string(s.message()),
              ::testing::HasSubstr("R1A is not enrolled for news2-on-time.v1 in 2024-04"));
}

TEST_F(ValidationTest, MalformedOrFutureMonth) {
  auto s = Check(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-4", 1),
                              Obs("RHM", "falls-count.v1", "2024-12", 1)}));
  EXPECT_THAT(Refusals(s), ElementsAre(Pair("rows[0].month", "MALFORMED_MONTH"),
                                       Pair("rows[1].month", "MONTH_IN_FUTURE")));
  auto v = FieldViolationsOf(s);
  EXPECT_EQ(v[1].description, "2024-12 is after the current month 2024-11 (Europe/London)");
}

TEST_F(ValidationTest, NumbersOutOfRange) {
  auto s = Check(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", -1),
                              Obs("RDZ", "falls-count.v1", "2024-04", kMaxCount + 1),
                              Obs("RTH", "falls-count.v1", "2024-04", kMaxCount)}));
  EXPECT_THAT(Refusals(s), ElementsAre(Pair("rows[0].numerator", "NEGATIVE"),
                                       Pair("rows[1].numerator", "OUT_OF_RANGE")));
}

TEST_F(ValidationTest, DenominatorRules) {
  auto s = Check(Batch("s1", {Obs("RHM", "news2-on-time.v1", "2024-04", 11, 10),
                              Obs("RDZ", "news2-on-time.v1", "2024-04", 1),
                              Obs("RTH", "news2-on-time.v1", "2024-04", 0, 0),
                              Obs("RHM", "falls-count.v1", "2024-04", 3, 10),
                              Obs("RHM", "falls-harm-rate.v1", "2024-04", 30, 10),
                              Obs("RDZ", "falls-harm-rate.v1", "2024-04", 3, -5)}));
  EXPECT_THAT(Refusals(s), ElementsAre(Pair("rows[0].numerator", "NUMERATOR_ABOVE_DENOMINATOR"),
                                       Pair("rows[1].denominator", "MISSING_DENOMINATOR"),
                                       Pair("rows[2].denominator", "ZERO_DENOMINATOR"),
                                       Pair("rows[3].denominator", "UNEXPECTED_DENOMINATOR"),
                                       Pair("rows[5].denominator", "NEGATIVE")));
}

TEST_F(ValidationTest, SameKeyTwiceInOneBatch) {
  auto s = Check(Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 1),
                              Obs("RHM", "falls-count.v1", "2024-05", 1),
                              Obs("RHM", "falls-count.v1", "2024-04", 2)}));
  EXPECT_THAT(Refusals(s), ElementsAre(Pair("rows[2]", "DUPLICATE_KEY")));
  EXPECT_EQ(FieldViolationsOf(s)[0].description, "repeats rows[0]: RHM falls-count.v1 2024-04");
}

TEST_F(ValidationTest, BatchLimits) {
  std::vector<v1::Observation> rows;
  for (int i = 0; i < 10'001; ++i) rows.push_back(Obs("RHM", "falls-count.v1", "2024-04", i));
  auto many = Batch("s1", rows);
  // Over a bound: RESOURCE_EXHAUSTED, before any row is looked at (the id
  // is bad too, and not reported).
  many.set_submission_id("bad id!");
  EXPECT_EQ(Check(many).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(Refusals(Check(many)), ElementsAre(Pair("rows", "TOO_MANY_ROWS")));
  auto small = Batch("s1", {Obs("RHM", "falls-count.v1", "2024-04", 1)});
  auto large = ValidateObservations(cat_, small, 5 * 1024 * 1024, now_);
  EXPECT_EQ(large.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(Refusals(large), ElementsAre(Pair("rows", "TOO_LARGE")));
  // The bounds are the caller's: 3 rows at most.
  SubmissionLimits three{.max_rows = 3, .max_bytes = 1 << 20};
  std::vector<v1::Observation> four;
  for (const char* month : {"2024-01", "2024-02", "2024-03", "2024-04"}) {
    four.push_back(Obs("RHM", "falls-count.v1", month, 1));
  }
  EXPECT_THAT(Refusals(ValidateObservations(cat_, Batch("s1", four), 100, now_, three)),
              ElementsAre(Pair("rows", "TOO_MANY_ROWS")));
  four.pop_back();
  EXPECT_TRUE(ValidateObservations(cat_, Batch("s1", four), 100, now_, three).ok());
  EXPECT_THAT(Refusals(Check(Batch("s1", {}))), ElementsAre(Pair("rows", "NO_ROWS")));
  EXPECT_THAT(Refusals(Check(Batch("bad id!", {Obs("RHM", "falls-count.v1", "2024-04", 1)}))),
              ElementsAre(Pair("submission_id", "INVALID_ID")));
}

TEST_F(ValidationTest, ListsAtMost25ViolationsAndCountsTheRest) {
  std::vector<v1::Observation> rows;
  for (int i = 0; i < 40; ++i) rows.push_back(Obs("X" + std::to_string(i), "falls-count.v1", "2024-04", i));
  auto v = FieldViolationsOf(Check(Batch("s1", rows)));
  ASSERT_EQ(v.size(), 26u);
  EXPECT_EQ(v[24].field, "rows[24].ods_code");
  EXPECT_EQ(v[25].reason, "MORE_VIOLATIONS");
  EXPECT_EQ(v[25].description, "15 more violations not listed");
}

TEST_F(ValidationTest, LearningRefusesNhsNumbersWithoutEchoingThem) {
  v1::Learning l;
  l.set_learning_id("wessex-2024-07-1");
  l.set_collaborative_id("wessex");
  l.set_topic_id("falls");
  l.set_kind(v1::LEARNING_KIND_CASE_STUDY);
  l.set_month("2024-07");
  l.set_title("Falls huddles on ward 5");
  l.set_summary("Daily huddles. Patient 943 476 5919 fell twice before.");
  l.set_outcome("Falls with harm halved.");
  l.add_measure_ids("falls-harm-rate.v1");
  auto s = ValidateLearning(cat_, l, now_);
  EXPECT_THAT(Refusals(s), ElementsAre(Pair("learning.summary", "PATIENT_IDENTIFIER")));
  EXPECT_THAT(std::string(s.message()), ::testing::Not(::testing::HasSubstr("5919")));
  l.set_summary("Daily huddles on two wards.");
  EXPECT_TRUE(ValidateLearning(cat_, l, now_).ok());
  l.add_measure_ids("nope.v1");
  l.set_kind(v1::LEARNING_KIND_UNSPECIFIED);
  EXPECT_THAT(Refusals(ValidateLearning(cat_, l, now_)),
              ElementsAre(Pair("learning.kind", "MISSING_KIND"),
                          Pair("learning.measure_ids[1]", "UNKNOWN_MEASURE")));
}

}  // namespace
}  // namespace psc
