#include "psc/domain/clock.h"

#include <gtest/gtest.h>

namespace psc {
namespace {

TEST(LondonTimeTest, GmtInWinter) {
  LondonTime t = ToLondon(UtcTime(2024, 1, 15, 12, 30, 5));
  EXPECT_EQ(t.year, 2024);
  EXPECT_EQ(t.month, 1);
  EXPECT_EQ(t.day, 15);
  EXPECT_EQ(t.hour, 12);
  EXPECT_EQ(t.minute, 30);
  EXPECT_EQ(t.second, 5);
  EXPECT_FALSE(t.summer_time);
}

TEST(LondonTimeTest, BstStartsLastSundayOfMarchAt0100Utc) {
  // 2024: the last Sunday of March is the 31st.
  LondonTime before = ToLondon(UtcTime(2024, 3, 31, 0, 59, 59));
  EXPECT_FALSE(before.summer_time);
  EXPECT_EQ(before.hour, 0);
  LondonTime after = ToLondon(UtcTime(2024, 3, 31, 1, 0, 0));
  EXPECT_TRUE(after.summer_time);
  EXPECT_EQ(after.hour, 2);
}

TEST(LondonTimeTest, BstEndsLastSundayOfOctoberAt0100Utc) {
  // 2024: the last Sunday of October is the 27th.
  LondonTime before = ToLondon(UtcTime(2024, 10, 27, 0, 59, 59));
  EXPECT_TRUE(before.summer_time);
  EXPECT_EQ(before.hour, 1);
  LondonTime after = ToLondon(UtcTime(2024, 10, 27, 1, 0, 0));
  EXPECT_FALSE(after.summer_time);
  EXPECT_EQ(after.hour, 1);
  // 2025: the 26th.
  EXPECT_TRUE(ToLondon(UtcTime(2025, 10, 26, 0, 30)).summer_time);
  EXPECT_FALSE(ToLondon(UtcTime(2025, 10, 26, 1, 30)).summer_time);
}

TEST(LondonTimeTest, MonthTurnsAtLondonMidnight) {
  // 23:30 UTC on 30 April is 00:30 BST on 1 May.
  EXPECT_EQ(LondonMonth(UtcTime(2024, 4, 30, 23, 30)).ToString(), "2024-05");
  // 23:30 UTC on 31 December is still December in GMT.
  EXPECT_EQ(LondonMonth(UtcTime(2024, 12, 31, 23, 30)).ToString(), "2024-12");
  EXPECT_EQ(LondonMonth(UtcTime(2025, 1, 1, 0, 0)).ToString(), "2025-01");
}

TEST(LondonTimeTest, MidnightInSummerIsElevenPmUtc) {
  EXPECT_EQ(LondonMidnight(*Month::Parse("2024-07"), 1), UtcTime(2024, 6, 30, 23, 0));
  EXPECT_EQ(LondonMidnight(*Month::Parse("2024-01"), 16), UtcTime(2024, 1, 16, 0, 0));
  // Day past the month end rolls into the next month.
  EXPECT_EQ(LondonMidnight(*Month::Parse("2024-02"), 31), UtcTime(2024, 3, 2, 0, 0));
}

TEST(ManualClockTest, SaysWhatItIsTold) {
  ManualClock clock(UtcTime(2025, 1, 1));
  EXPECT_EQ(clock.Now(), UtcTime(2025, 1, 1));
  clock.Set(UtcTime(2026, 2, 3, 4, 5, 6));
  EXPECT_EQ(ToLondon(clock.Now()).day, 3);
}

}  // namespace
}  // namespace psc
