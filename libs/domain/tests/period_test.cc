#include "psc/domain/period.h"

#include <gtest/gtest.h>

namespace psc {
namespace {

TEST(MonthTest, ParsesAndPrints) {
  auto m = Month::Parse("2024-04");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->year(), 2024);
  EXPECT_EQ(m->month(), 4);
  EXPECT_EQ(m->ToString(), "2024-04");
  EXPECT_EQ(m->Plus(9).ToString(), "2025-01");
  EXPECT_EQ(m->Plus(-4).ToString(), "2023-12");
  EXPECT_EQ(m->MonthsUntil(*Month::Parse("2025-03")), 11);
}

TEST(MonthTest, RefusesMalformed) {
  for (const char* bad : {"2024-13", "2024-00", "2024-1", "24-01", "2024/01", "202a-01",
                          "1999-12", "2200-01", "", "2024-011"}) {
    EXPECT_FALSE(Month::Parse(bad)) << bad;
  }
}

TEST(QuarterTest, NhsFinancialQuarters) {
  auto q1 = Quarter::Parse("2024/25 Q1");
  ASSERT_TRUE(q1);
  EXPECT_EQ(q1->FirstMonth().ToString(), "2024-04");
  EXPECT_EQ(q1->LastMonth().ToString(), "2024-06");
  auto q3 = Quarter::Parse("2024/25 Q3");
  EXPECT_EQ(q3->FirstMonth().ToString(), "2024-10");
  EXPECT_EQ(q3->LastMonth().ToString(), "2024-12");
  auto q4 = Quarter::Parse("2024/25 Q4");
  EXPECT_EQ(q4->FirstMonth().ToString(), "2025-01");
  EXPECT_EQ(q4->LastMonth().ToString(), "2025-03");
  EXPECT_EQ(q4->ToString(), "2024/25 Q4");
  EXPECT_EQ(Quarter::Parse("1999/00 Q2"), std::nullopt);  // before 2000
  EXPECT_EQ(Quarter::Of(2099, 2).ToString(), "2099/00 Q2");
}

TEST(QuarterTest, ContainingMonth) {
  EXPECT_EQ(Quarter::Containing(*Month::Parse("2025-03")).ToString(), "2024/25 Q4");
  EXPECT_EQ(Quarter::Containing(*Month::Parse("2025-04")).ToString(), "2025/26 Q1");
  EXPECT_EQ(Quarter::Containing(*Month::Parse("2024-09")).ToString(), "2024/25 Q2");
  EXPECT_EQ(Quarter::Containing(*Month::Parse("2024-10")).ToString(), "2024/25 Q3");
  // Every month maps into the quarter that contains it.
  for (int i = 0; i < 48; ++i) {
    Month m = Month::FromYearMonth(2023, 1).Plus(i);
    Quarter q = Quarter::Containing(m);
    EXPECT_TRUE(q.Contains(m)) << m.ToString();
    EXPECT_EQ(Quarter::FromIndex(q.index()), q);
  }
}

TEST(QuarterTest, RefusesMalformed) {
  for (const char* bad : {"2024/26 Q1", "2024/25 Q5", "2024/25 Q0", "2024-25 Q1", "2024/25Q1",
                          "2024/25 q1", "24/25 Q1"}) {
    EXPECT_FALSE(Quarter::Parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace psc
