#include "psc/domain/observation_csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "psc/domain/violations.h"

namespace psc {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

std::vector<std::pair<std::string, std::string>> Refusals(const absl::Status& s) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& v : FieldViolationsOf(s)) out.emplace_back(v.field, v.reason);
  return out;
}

TEST(ObservationCsvTest, ParsesRowsWithLineNumbers) {
  auto csv = ParseObservationCsv(
      "\xEF\xBB\xBForg_code,measure_id,month,numerator,denominator\r\n"
      "RHM,falls-harm-rate.v1,2024-04,12,8410\r\n"
      "\r\n"
      "\"RDZ\",staff-trained.v1,2024-04,310,\r\n");
  ASSERT_TRUE(csv.ok()) << csv.status();
  ASSERT_EQ(csv->rows.size(), 2u);
  EXPECT_EQ(csv->rows[0].ods_code(), "RHM");
  EXPECT_EQ(csv->rows[0].numerator(), 12);
  EXPECT_TRUE(csv->rows[0].has_denominator());
  EXPECT_EQ(csv->rows[0].denominator(), 8410);
  EXPECT_EQ(csv->rows[1].ods_code(), "RDZ");
  EXPECT_FALSE(csv->rows[1].has_denominator());
  EXPECT_THAT(csv->lines, ElementsAre(2, 4));
}

TEST(ObservationCsvTest, WrongHeaderIsLineOne) {
  auto csv = ParseObservationCsv("org,measure,month,value\nRHM,x,2024-04,1\n");
  EXPECT_THAT(Refusals(csv.status()), ElementsAre(Pair("line 1", "WRONG_HEADER")));
}

TEST(ObservationCsvTest, BadNumbersNameLineAndColumn) {
  auto csv = ParseObservationCsv(
      "org_code,measure_id,month,numerator,denominator\n"
      "RHM,falls-count.v1,2024-04,12.5,\n"
      "RHM,falls-count.v1,2024-05,,\n"
      "RHM,falls-count.v1,2024-06,twelve,\n"
      "RHM,falls-count.v1,2024-07,99999999999999999999,\n"
      "RHM,falls-count.v1,2024-08,3\n");
  EXPECT_THAT(Refusals(csv.status()),
              ElementsAre(Pair("line 2: numerator", "FRACTIONAL"),
                          Pair("line 3: numerator", "MISSING_VALUE"),
                          Pair("line 4: numerator", "NOT_A_NUMBER"),
                          Pair("line 5: numerator", "OUT_OF_RANGE"),
                          Pair("line 6", "WRONG_FIELD_COUNT")));
}

TEST(ObservationCsvTest, QuotedFieldsMaySpanLines) {
  auto csv = ParseObservationCsv(
      "org_code,measure_id,month,numerator,denominator\n"
      "\"R\"\"HM\",\"falls\ncount\",2024-04,1,\n"
      "RDZ,falls-count.v1,2024-04,2,\n");
  ASSERT_TRUE(csv.ok()) << csv.status();
  EXPECT_EQ(csv->rows[0].ods_code(), "R\"HM");
  EXPECT_EQ(csv->rows[0].measure_id(), "falls\ncount");
  EXPECT_THAT(csv->lines, ElementsAre(2, 4));
}

TEST(ObservationCsvTest, HeaderOnlyIsRefused) {
  auto csv = ParseObservationCsv("org_code,measure_id,month,numerator,denominator\n");
  EXPECT_THAT(Refusals(csv.status()), ElementsAre(Pair("line 2", "NO_ROWS")));
}

TEST(ObservationCsvTest, MapsServerFieldsBackToLines) {
  std::vector<int> lines = {2, 3, 7};
  EXPECT_EQ(CsvFieldOf("rows[2].month", lines), "line 7: month");
  EXPECT_EQ(CsvFieldOf("rows[0].ods_code", lines), "line 2: org_code");
  EXPECT_EQ(CsvFieldOf("rows[9].month", lines), "rows[9].month");
  EXPECT_EQ(CsvFieldOf("submission_id", lines), "submission_id");
}

}  // namespace
}  // namespace psc
