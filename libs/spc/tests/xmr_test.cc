// Golden tests of XmR charts. Every series is small and integer valued,
// chosen so that its mean and mean moving range come out exact; the working
// is written beside each series. With mean moving range (mR) 2:
//   process limits  mean +/- 2.66 x 2             = mean +/- 5.32
//   near limits     mean +/- (2 x 2.66 / 3) x 2   = mean +/- 3.546666...
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "psc/domain/violations.h"
#include "psc/spc/spc.h"

namespace psc::spc {
namespace {

constexpr double kTight = 1e-9;

Month M(int year, int month) { return Month::FromYearMonth(year, month); }

// Consecutive months from `first`.
std::vector<Point> Series(Month first, const std::vector<double>& values) {
  std::vector<Point> out;
  for (size_t i = 0; i < values.size(); ++i) {
    out.push_back(Point{first.Plus(static_cast<int>(i)), values[i]});
  }
  return out;
}

XmrOptions Direction(ImprovementDirection d) {
  XmrOptions o;
  o.improvement = d;
  return o;
}

// One label per point: "-" for common cause, else "rule/classification/side".
std::vector<std::string> Labels(const XmrChart& chart) {
  std::vector<std::string> out;
  for (const ChartPoint& p : chart.points) {
    if (!p.special_cause) {
      out.push_back("-");
      continue;
    }
    const SpecialCause& c = *p.special_cause;
    out.push_back(std::string(Name(c.rule)) + "/" + std::string(Name(c.classification)) + "/" +
                  std::string(Name(c.side)));
  }
  return out;
}

// Labels of a chart where only the points listed are flagged.
std::vector<std::string> Only(size_t n, const std::vector<std::pair<size_t, std::string>>& at) {
  std::vector<std::string> out(n, "-");
  for (const auto& [i, label] : at) out[i] = label;
  return out;
}

void ExpectLimits(const Limits& l, double mean, double mr) {
  EXPECT_NEAR(l.mean, mean, kTight);
  EXPECT_NEAR(l.upper_process, mean + 2.66 * mr, kTight);
  EXPECT_NEAR(l.lower_process, mean - 2.66 * mr, kTight);
  EXPECT_NEAR(l.upper_near, mean + 2.0 * 2.66 / 3.0 * mr, kTight);
  EXPECT_NEAR(l.lower_near, mean - 2.0 * 2.66 / 3.0 * mr, kTight);
}

XmrChart Build(const std::vector<Point>& points, const XmrOptions& options) {
  absl::StatusOr<XmrChart> chart = BuildXmrChart(points, options);
  EXPECT_TRUE(chart.ok()) << chart.status();
  return chart.ok() ? *std::move(chart) : XmrChart{};
}

// Outside limits. 16 points: 20/22 alternating, with 37 at index 5 and 5 at
// index 10.
//   sum = 7 x 20 + 7 x 22 + 37 + 5 = 140 + 154 + 42 = 336; mean = 336 / 16 = 21
//   MRs: 2 2 2 2 17 17 2 2 2 17 17 2 2 2 2  sum = 4 x 17 + 11 x 2 = 90; mR = 90 / 15 = 6
//   process limits 21 +/- 15.96 = [5.04, 36.96]; near 21 +/- 10.64 = [10.36, 31.64]
//   37 > 36.96 and 5 < 5.04: outside; the rest alternate about the mean.
const std::vector<double> kOutside = {20, 22, 20, 22, 20, 37, 20, 22,
                                      20, 22, 5,  22, 20, 22, 20, 22};

TEST(XmrTest, OutsideLimitsHighAndLow) {
  XmrChart chart = Build(Series(M(2023, 4), kOutside), Direction(ImprovementDirection::kUp));
  ASSERT_EQ(chart.segments.size(), 1u);
  const Segment& s = chart.segments[0];
  EXPECT_NEAR(s.limits.mean, 21.0, kTight);
  EXPECT_NEAR(s.mean_moving_range, 6.0, kTight);
  EXPECT_NEAR(s.limits.upper_process, 36.96, kTight);
  EXPECT_NEAR(s.limits.lower_process, 5.04, kTight);
  EXPECT_NEAR(s.limits.upper_near, 31.64, kTight);
  EXPECT_NEAR(s.limits.lower_near, 10.36, kTight);
  EXPECT_EQ(s.points, 16);
  EXPECT_EQ(s.base_points, 16);
  EXPECT_EQ(s.moving_ranges, 15);
  EXPECT_FALSE(s.trial_limits);
  EXPECT_EQ(s.first_month, M(2023, 4));
  EXPECT_EQ(s.last_month, M(2024, 7));
  EXPECT_FALSE(s.rebase);
  EXPECT_FALSE(s.fixed_after);
  EXPECT_EQ(Labels(chart), Only(16, {{5, "outside_limits/improvement/high"},
                                     {10, "outside_limits/concern/low"}}));
  // Every point carries its segment's limits and its moving range.
  EXPECT_FALSE(chart.points[0].moving_range);
  EXPECT_NEAR(*chart.points[5].moving_range, 17.0, kTight);
  EXPECT_TRUE(chart.points[5].moving_range_in_mean);
  EXPECT_NEAR(chart.points[15].limits.upper_process, 36.96, kTight);
  // The last point (22) is common cause.
  EXPECT_EQ(chart.variation, VariationIcon::kCommonCause);
}

// Trend. 16 points, an increasing run of exactly 7 at indices 4..10.
//   18 18 22 23 | 16 17 18 19 20 21 22 | 19 22 23 20 22
//   sum = 81 + 133 + 106 = 320; mean = 20
//   MRs: 0 4 1 7 1 1 1 1 1 1 3 3 1 3 2  sum = 30; mR = 2
//   limits [14.68, 25.32], near [16.453333, 23.546667]: only 16 is beyond a
//   near limit and no other point is within three of it; no 7 on one side.
const std::vector<double> kTrend = {18, 18, 22, 23, 16, 17, 18, 19,
                                    20, 21, 22, 19, 22, 23, 20, 22};

TEST(XmrTest, TrendOfSevenIsFlagged) {
  XmrChart chart = Build(Series(M(2023, 4), kTrend), Direction(ImprovementDirection::kUp));
  ExpectLimits(chart.segments[0].limits, 20.0, 2.0);
  EXPECT_NEAR(chart.segments[0].limits.upper_near, 23.546666666666667, kTight);
  std::vector<std::string> want(16, "-");
  for (size_t i = 4; i <= 10; ++i) want[i] = "trend/improvement/high";
  EXPECT_EQ(Labels(chart), want);
}

// Six increasing points are not a trend. The same series with index 10
// changed from 22 to 18 (and 19 22 23 to 22 23 23 so the sums stay):
//   18 18 22 23 | 16 17 18 19 20 21 | 18 22 23 23 20 22
//   sum = 81 + 111 + 128 = 320; mean = 20
//   MRs: 0 4 1 7 1 1 1 1 1 3 4 1 0 3 2  sum = 30; mR = 2
// 16..21 is a run of 6; 18 22 23 then stops at the equal pair 23 23.
TEST(XmrTest, SixIncreasingPointsAreNotATrend) {
  XmrChart chart = Build(
      Series(M(2023, 4), {18, 18, 22, 23, 16, 17, 18, 19, 20, 21, 18, 22, 23, 23, 20, 22}),
      Direction(ImprovementDirection::kUp));
  ExpectLimits(chart.segments[0].limits, 20.0, 2.0);
  EXPECT_EQ(Labels(chart), std::vector<std::string>(16, "-"));
}

// Two of three. 16 points:
//   19 21 24 20 20 20 24 21 25 22 17 17 17 18 18 17
//   sum = 124 + 70 + 22 + 104 = 320; mean = 20
//   MRs: 2 3 4 0 0 4 3 4 3 5 0 0 1 0 1  sum = 30; mR = 2
//   upper near 23.546667, upper process 25.32: 24 and 25 are beyond the
//   near limit but inside the process limit.
// Window 24 21 25 (indices 6..8) has two beyond: 24 and 25 flagged, 21 not.
// The lone 24 at index 2 has no partner within three points. The six 17/18s
// at the end are a run of six below the mean: no shift.
TEST(XmrTest, TwoOfThreeFlagsOnlyThePointsBeyondTheNearLimit) {
  XmrChart chart = Build(
      Series(M(2023, 4), {19, 21, 24, 20, 20, 20, 24, 21, 25, 22, 17, 17, 17, 18, 18, 17}),
      Direction(ImprovementDirection::kUp));
  ExpectLimits(chart.segments[0].limits, 20.0, 2.0);
  EXPECT_EQ(Labels(chart), Only(16, {{6, "two_of_three/improvement/high"},
                                     {8, "two_of_three/improvement/high"}}));
}

// Two of three, from the definition: a window of three consecutive points
// all on one side of the mean (none on it), at least two of them near
// (beyond the near limit, inside the process limit); only the near points
// are flagged. Every series has mean 20 and mR 2 (sum 320 over 16 points,
// moving ranges summing to 30): near limits 16.453333 and 23.546667,
// process limits 14.68 and 25.32.
struct TwoOfThreeCase {
  const char* name;
  std::vector<double> values;
  std::vector<std::pair<size_t, std::string>> flagged;
};

TEST(XmrTest, TwoOfThreeNeedsTheWholeWindowOnOneSideAndTwoNearPoints) {
  const std::vector<TwoOfThreeCase> cases = {
      // 24 19 24 at 2..4: two near points, but 19 is below the mean, and so
      // is every window holding both 24s. MRs 2 2 5 5 5 0 0 1 0 0 2 4 4 0 0.
      {"window straddling the mean",
       {20, 22, 24, 19, 24, 19, 19, 19, 20, 20, 20, 18, 22, 18, 18, 18},
       {}},
      // 24 20 24 at 6..8: 20 lies on the mean, on neither side.
      // MRs 4 1 1 3 0 2 4 4 5 0 0 0 2 2 2.
      {"a point on the mean",
       {21, 17, 18, 19, 22, 22, 24, 20, 24, 19, 19, 19, 19, 17, 19, 21},
       {}},
      // 26 24 21 at 5..7, all above the mean: 26 is outside the limits, not
      // near, so 24 is the window's only near point. MRs 0 1 0 1 8 2 3 1 1 2
      // 4 2 2 3 0.
      {"a point outside the limits and one near point",
       {20, 20, 19, 19, 18, 26, 24, 21, 20, 19, 21, 17, 19, 21, 18, 18},
       {{5, "outside_limits/improvement/high"}}},
      // 24 25 24 at 8..10: three near points, all flagged. MRs 1 1 3 3 0 1 4
      // 3 1 1 5 2 1 1 3.
      {"three near points",
       {18, 17, 18, 21, 18, 18, 17, 21, 24, 25, 24, 19, 21, 20, 21, 18},
       {{8, "two_of_three/improvement/high"},
        {9, "two_of_three/improvement/high"},
        {10, "two_of_three/improvement/high"}}},
      // 16 19 15 at 3..5, all below the mean: 16 and 15 are near the lower
      // limit (15 >= 14.68), 19 is not near. MRs 3 3 6 3 4 2 5 1 0 1 1 0 0 0 1.
      {"two near points below the mean",
       {22, 19, 22, 16, 19, 15, 17, 22, 21, 21, 20, 21, 21, 21, 21, 22},
       {{3, "two_of_three/concern/low"}, {5, "two_of_three/concern/low"}}},
  };
  for (const TwoOfThreeCase& c : cases) {
    SCOPED_TRACE(c.name);
    XmrChart chart = Build(Series(M(2023, 4), c.values), Direction(ImprovementDirection::kUp));
    ExpectLimits(chart.segments[0].limits, 20.0, 2.0);
    EXPECT_EQ(Labels(chart), Only(16, c.flagged));
  }
}

// Shift. 16 points, 7 above the mean at indices 5..11:
//   17 19 17 20 18 | 22 23 21 23 21 22 22 | 17 18 19 21
//   sum = 91 + 154 + 75 = 320; mean = 20 (index 3 lies on it)
//   MRs: 2 2 3 2 4 1 2 2 2 1 0 5 1 1 2  sum = 30; mR = 2
//   all of 21..23 are inside the upper near limit 23.546667.
TEST(XmrTest, ShiftOfSevenIsFlagged) {
  XmrChart chart = Build(
      Series(M(2023, 4), {17, 19, 17, 20, 18, 22, 23, 21, 23, 21, 22, 22, 17, 18, 19, 21}),
      Direction(ImprovementDirection::kDown));
  ExpectLimits(chart.segments[0].limits, 20.0, 2.0);
  std::vector<std::string> want(16, "-");
  for (size_t i = 5; i <= 11; ++i) want[i] = "shift/concern/high";
  EXPECT_EQ(Labels(chart), want);
}

// A point on the mean breaks a run. 19 points: six above, one on the mean
// (20), six above:
//   17 19 15 | 21 23 21 22 21 21 | 20 | 22 21 22 21 22 21 | 15 17 19
//   sum = 51 + 129 + 20 + 129 + 51 = 380; mean = 380 / 19 = 20
//   MRs: 2 4 6 2 2 1 1 0 1 2 1 1 1 1 1 6 2 2  sum = 36; mR = 36 / 18 = 2
//   the 15s are above the lower process limit 14.68 and each is alone
//   beyond the lower near limit 16.453333.
TEST(XmrTest, PointOnTheMeanBreaksAShift) {
  XmrChart chart = Build(Series(M(2023, 4), {17, 19, 15, 21, 23, 21, 22, 21, 21, 20, 22, 21, 22,
                                             21, 22, 21, 15, 17, 19}),
                         Direction(ImprovementDirection::kUp));
  ExpectLimits(chart.segments[0].limits, 20.0, 2.0);
  EXPECT_NEAR(chart.points[9].value, chart.segments[0].limits.mean, 0.0);
  EXPECT_EQ(Labels(chart), std::vector<std::string>(19, "-"));
}

// Priority, outside > trend > two of three. 16 points ending in a rising run
// whose last point is beyond the upper process limit:
//   16 17 19 15 17 21 16 17 21 | 20 21 22 23 24 25 26
//   sum = 159 + 161 = 320; mean = 20
//   MRs: 1 2 4 2 4 5 1 4 1 1 1 1 1 1 1  sum = 30; mR = 2
// 20..26 (indices 9..15) is a trend; 24 and 25 are near the upper limit
// (beyond 23.546667, inside 25.32: two of three) and 26 > 25.32 (outside). The run above the
// mean is 21..26, six points (20 lies on the mean).
const std::vector<double> kRisingToOutside = {16, 17, 19, 15, 17, 21, 16, 17,
                                              21, 20, 21, 22, 23, 24, 25, 26};

TEST(XmrTest, PriorityOutsideOverTrendOverTwoOfThree) {
  XmrChart chart =
      Build(Series(M(2023, 4), kRisingToOutside), Direction(ImprovementDirection::kUp));
  ExpectLimits(chart.segments[0].limits, 20.0, 2.0);
  std::vector<std::string> want(16, "-");
  for (size_t i = 9; i <= 14; ++i) want[i] = "trend/improvement/high";
  want[15] = "outside_limits/improvement/high";
  EXPECT_EQ(Labels(chart), want);
}

// Priority, two of three > shift. 16 points, indices 5..11 above the mean,
// with 24 at 7 and at 9:
//   17 20 20 19 19 | 22 23 24 21 24 21 21 | 17 17 20 15
//   sum = 95 + 156 + 69 = 320; mean = 20
//   MRs: 3 0 1 0 3 1 1 3 3 3 0 4 0 3 5  sum = 30; mR = 2
// 24 21 24 is two of three beyond 23.546667; 15 > 14.68 is alone beyond the
// lower near limit.
TEST(XmrTest, PriorityTwoOfThreeOverShift) {
  XmrChart chart = Build(
      Series(M(2023, 4), {17, 20, 20, 19, 19, 22, 23, 24, 21, 24, 21, 21, 17, 17, 20, 15}),
      Direction(ImprovementDirection::kUp));
  ExpectLimits(chart.segments[0].limits, 20.0, 2.0);
  std::vector<std::string> want(16, "-");
  for (size_t i = 5; i <= 11; ++i) want[i] = "shift/improvement/high";
  want[7] = want[9] = "two_of_three/improvement/high";
  EXPECT_EQ(Labels(chart), want);
}

// Classification follows the measure's direction (series kOutside).
TEST(XmrTest, ClassificationByDirection) {
  struct Case {
    ImprovementDirection direction;
    std::string high, low;
  };
  for (const Case& c : {
           Case{ImprovementDirection::kUp, "outside_limits/improvement/high",
                "outside_limits/concern/low"},
           Case{ImprovementDirection::kDown, "outside_limits/concern/high",
                "outside_limits/improvement/low"},
           Case{ImprovementDirection::kNeither, "outside_limits/neutral/high",
                "outside_limits/neutral/low"},
       }) {
    XmrChart chart = Build(Series(M(2023, 4), kOutside), Direction(c.direction));
    EXPECT_EQ(Labels(chart), Only(16, {{5, c.high}, {10, c.low}})) << Name(c.direction);
  }
}

// A trend is classified by the way it moves, even for its points on the
// other side of the mean. The mirror image of kTrend (40 - x: mean 20,
// mR 2) falls 24 23 22 21 20 19 18 at indices 4..10; 24..21 lie above the
// mean but the trend is low.
TEST(XmrTest, TrendClassifiedByItsDirection) {
  std::vector<double> falling;
  for (double v : kTrend) falling.push_back(40 - v);
  for (auto [direction, label] : {
           std::pair{ImprovementDirection::kUp, "trend/concern/low"},
           std::pair{ImprovementDirection::kDown, "trend/improvement/low"},
           std::pair{ImprovementDirection::kNeither, "trend/neutral/low"},
       }) {
    XmrChart chart = Build(Series(M(2023, 4), falling), Direction(direction));
    ExpectLimits(chart.segments[0].limits, 20.0, 2.0);
    std::vector<std::string> want(16, "-");
    for (size_t i = 4; i <= 10; ++i) want[i] = label;
    EXPECT_EQ(Labels(chart), want) << Name(direction);
  }
}

// The variation icon is the last point's: kRisingToOutside ends with 26
// outside high; its mirror (40 - x) ends with 14 outside low (14 < 14.68);
// kOutside ends with a common cause point.
TEST(XmrTest, VariationIconFromTheLastPoint) {
  std::vector<double> falling;
  for (double v : kRisingToOutside) falling.push_back(40 - v);
  struct Case {
    const std::vector<double>* values;
    ImprovementDirection direction;
    VariationIcon icon;
    std::string_view name;
  };
  for (const Case& c : {
           Case{&kRisingToOutside, ImprovementDirection::kUp, VariationIcon::kImprovementHigh,
                "improvement_high"},
           Case{&kRisingToOutside, ImprovementDirection::kDown, VariationIcon::kConcernHigh,
                "concern_high"},
           Case{&kRisingToOutside, ImprovementDirection::kNeither, VariationIcon::kNeitherHigh,
                "neither_high"},
           Case{&falling, ImprovementDirection::kUp, VariationIcon::kConcernLow, "concern_low"},
           Case{&falling, ImprovementDirection::kDown, VariationIcon::kImprovementLow,
                "improvement_low"},
           Case{&falling, ImprovementDirection::kNeither, VariationIcon::kNeitherLow,
                "neither_low"},
           Case{&kOutside, ImprovementDirection::kUp, VariationIcon::kCommonCause,
                "common_cause"},
       }) {
    XmrChart chart = Build(Series(M(2023, 4), *c.values), Direction(c.direction));
    EXPECT_EQ(chart.variation, c.icon) << c.name;
    EXPECT_EQ(Name(chart.variation), c.name);
  }
}

// Assurance against kOutside's limits [5.04, 36.96].
TEST(XmrTest, Assurance) {
  struct Case {
    ImprovementDirection direction;
    std::optional<double> target;
    Assurance want;
  };
  for (const Case& c : {
           // Up: the whole range above the target passes, below fails.
           Case{ImprovementDirection::kUp, 5.0, Assurance::kConsistentlyPasses},
           Case{ImprovementDirection::kUp, 37.0, Assurance::kConsistentlyFails},
           Case{ImprovementDirection::kUp, 21.0, Assurance::kInconsistent},
           // Down: mirrored.
           Case{ImprovementDirection::kDown, 37.0, Assurance::kConsistentlyPasses},
           Case{ImprovementDirection::kDown, 5.0, Assurance::kConsistentlyFails},
           Case{ImprovementDirection::kDown, 21.0, Assurance::kInconsistent},
           // No target, or no better direction: nothing to assure.
           Case{ImprovementDirection::kUp, std::nullopt, Assurance::kNone},
           Case{ImprovementDirection::kNeither, 5.0, Assurance::kNone},
       }) {
    XmrOptions o = Direction(c.direction);
    o.target = c.target;
    XmrChart chart = Build(Series(M(2023, 4), kOutside), o);
    EXPECT_EQ(chart.assurance, c.want)
        << Name(c.direction) << " " << c.target.value_or(-1) << ": " << Name(chart.assurance);
  }
}

// A target equal to a limit is inconsistent. Twelve 10s: mean 10, every MR
// 0, so both process limits are exactly 10.
TEST(XmrTest, AssuranceTargetOnALimitIsInconsistent) {
  std::vector<Point> flat = Series(M(2024, 1), std::vector<double>(12, 10.0));
  XmrOptions o = Direction(ImprovementDirection::kUp);
  o.target = 10.0;
  XmrChart chart = Build(flat, o);
  EXPECT_EQ(chart.segments[0].limits.lower_process, 10.0);
  EXPECT_EQ(chart.segments[0].limits.upper_process, 10.0);
  EXPECT_EQ(chart.assurance, Assurance::kInconsistent);
  o.target = 9.5;
  EXPECT_EQ(Build(flat, o).assurance, Assurance::kConsistentlyPasses);
  o.improvement = ImprovementDirection::kDown;
  o.target = 10.0;
  EXPECT_EQ(Build(flat, o).assurance, Assurance::kInconsistent);
  o.target = 10.5;
  EXPECT_EQ(Build(flat, o).assurance, Assurance::kConsistentlyPasses);
}

// Missing months are skipped: 2024-03 and 2024-08 have no value.
//   Jan..Dec 2024 + Jan, Feb 2025 minus Mar, Aug: 12 available points
//   10 12 _ 17 15 13 14 12 _ 10 11 13 12 14   (by month, _ missing)
//   sum = 153; mean = 153 / 12 = 12.75
//   MRs between available points: 2 5 2 2 1 2 2 1 2 1 2  sum = 22; mR = 2
//   April's MR is |17 - 12| = 5 (February is its previous available month);
//   September's is |10 - 12| = 2 (from July).
TEST(XmrTest, MissingMonthsAreSkipped) {
  std::vector<Point> points = {
      {M(2024, 1), 10}, {M(2024, 2), 12}, {M(2024, 4), 17},  {M(2024, 5), 15},
      {M(2024, 6), 13}, {M(2024, 7), 14}, {M(2024, 9), 12},  {M(2024, 10), 10},
      {M(2024, 11), 11}, {M(2024, 12), 13}, {M(2025, 1), 12}, {M(2025, 2), 14},
  };
  XmrChart chart = Build(points, Direction(ImprovementDirection::kUp));
  ASSERT_EQ(chart.points.size(), 12u);
  EXPECT_EQ(chart.points[2].month, M(2024, 4));
  ASSERT_TRUE(chart.points[2].moving_range);
  EXPECT_NEAR(*chart.points[2].moving_range, 5.0, kTight);
  EXPECT_EQ(chart.points[6].month, M(2024, 9));
  EXPECT_NEAR(*chart.points[6].moving_range, 2.0, kTight);
  const Segment& s = chart.segments[0];
  EXPECT_EQ(s.points, 12);
  EXPECT_EQ(s.moving_ranges, 11);
  EXPECT_FALSE(s.trial_limits);
  ExpectLimits(s.limits, 12.75, 2.0);
  EXPECT_NEAR(s.limits.upper_process, 18.07, kTight);
  EXPECT_NEAR(s.limits.lower_process, 7.43, kTight);
  EXPECT_EQ(Labels(chart), std::vector<std::string>(12, "-"));
}

// Rebasing: two segments of 12 months, rebased at 2024-04.
//   segment 0: 19 21 17 19 17 21 21 18 21 21 22 23
//     sum = 240, mean 20; MRs 2 4 2 2 4 0 3 3 0 1 1, sum 22, mR 2
//   segment 1: 31 32 33 34 28 30 27 27 30 31 28 29
//     sum = 360, mean 30; MRs 1 1 1 6 2 3 0 3 1 3 1, sum 22, mR 2
// Across the boundary 21 22 23 | 31 32 33 34 rises seven times in a row and
// 21 21 22 23 | 31 32 33 34 sits above each segment's own mean eight times
// in a row: neither is a signal because rules stay inside a segment. As one
// segment (no rebase) the same series is full of signals.
TEST(XmrTest, RebaseMakesSeparateSegments) {
  std::vector<Point> points =
      Series(M(2023, 4), {19, 21, 17, 19, 17, 21, 21, 18, 21, 21, 22, 23,  //
                          31, 32, 33, 34, 28, 30, 27, 27, 30, 31, 28, 29});
  XmrOptions o = Direction(ImprovementDirection::kUp);
  o.rebases = {Rebase{M(2024, 4), "new escalation pathway", "K. Patel"}};
  XmrChart chart = Build(points, o);
  ASSERT_EQ(chart.segments.size(), 2u);
  const Segment& a = chart.segments[0];
  const Segment& b = chart.segments[1];
  EXPECT_EQ(a.first_month, M(2023, 4));
  EXPECT_EQ(a.last_month, M(2024, 3));
  EXPECT_EQ(b.first_month, M(2024, 4));
  EXPECT_EQ(b.last_month, M(2025, 3));
  EXPECT_EQ(a.points, 12);
  EXPECT_EQ(b.points, 12);
  ExpectLimits(a.limits, 20.0, 2.0);
  ExpectLimits(b.limits, 30.0, 2.0);
  EXPECT_NEAR(b.limits.upper_process, 35.32, kTight);
  EXPECT_NEAR(b.limits.lower_process, 24.68, kTight);
  EXPECT_FALSE(a.rebase);
  ASSERT_TRUE(b.rebase);
  EXPECT_EQ(b.rebase->reason, "new escalation pathway");
  EXPECT_EQ(b.rebase->author, "K. Patel");
  EXPECT_EQ(chart.points[11].segment, 0);
  EXPECT_EQ(chart.points[12].segment, 1);
  // The first point of a segment has no moving range (not |31 - 23|).
  EXPECT_FALSE(chart.points[12].moving_range);
  EXPECT_NEAR(chart.points[12].limits.mean, 30.0, kTight);
  EXPECT_EQ(Labels(chart), std::vector<std::string>(24, "-"));

  XmrChart single = Build(points, Direction(ImprovementDirection::kUp));
  ASSERT_EQ(single.segments.size(), 1u);
  EXPECT_TRUE(single.points[12].special_cause);
}

// Fixing after 12 points. The first 12 (20/22 alternating) give mean 21 and
// mR 2 (MRs all 2): limits [15.68, 26.32]. The six later points are judged
// against those limits and do not move them:
//   21 27 22 21 14 21: 27 > 26.32 outside high, 14 < 15.68 outside low.
// Unfixed, the later MRs 1 6 5 1 7 7 (sum 27) would join the base's 22:
// mR = 49 / 17 and limits 21 +/- 7.667 = [13.33, 28.67], with 27 and 14
// inside.
TEST(XmrTest, FixAfterPoints) {
  std::vector<Point> points = Series(
      M(2023, 4), {20, 22, 20, 22, 20, 22, 20, 22, 20, 22, 20, 22, 21, 27, 22, 21, 14, 21});
  XmrOptions o = Direction(ImprovementDirection::kDown);
  o.fix_after_points = 12;
  XmrChart chart = Build(points, o);
  ASSERT_EQ(chart.segments.size(), 1u);
  const Segment& s = chart.segments[0];
  EXPECT_EQ(s.points, 18);
  EXPECT_EQ(s.base_points, 12);
  EXPECT_EQ(s.moving_ranges, 11);
  EXPECT_EQ(s.fixed_after, 12);
  EXPECT_FALSE(s.trial_limits);
  ExpectLimits(s.limits, 21.0, 2.0);
  EXPECT_NEAR(s.limits.upper_process, 26.32, kTight);
  EXPECT_NEAR(s.limits.lower_process, 15.68, kTight);
  // Later points keep their moving ranges, outside the mean.
  EXPECT_TRUE(chart.points[11].moving_range_in_mean);
  EXPECT_FALSE(chart.points[12].moving_range_in_mean);
  EXPECT_NEAR(*chart.points[13].moving_range, 6.0, kTight);
  EXPECT_EQ(Labels(chart), Only(18, {{13, "outside_limits/concern/high"},
                                     {16, "outside_limits/improvement/low"}}));
  EXPECT_EQ(chart.variation, VariationIcon::kCommonCause);

  XmrChart unfixed = Build(points, Direction(ImprovementDirection::kDown));
  EXPECT_NEAR(unfixed.segments[0].mean_moving_range, 49.0 / 17.0, kTight);
  EXPECT_EQ(Labels(unfixed), std::vector<std::string>(18, "-"));
}

// Rebasing and fixing together: each segment's limits come from its own
// first 6 points.
//   segment 0 (2024-01..09): 10 12 10 12 10 12 | 11 17 12
//     base mean 66 / 6 = 11, MRs 2 2 2 2 2, mR 2: limits [5.68, 16.32]
//     17 > 16.32: outside high
//   segment 1 (2024-10..2025-06): 30 34 30 34 30 34 | 32 20 33
//     base mean 192 / 6 = 32, MRs 4 4 4 4 4, mR 4: limits 32 +/- 10.64 =
//     [21.36, 42.64], near 32 +/- 7.093333; 20 < 21.36: outside low
// Both bases have 6 < 12 points: trial limits.
TEST(XmrTest, RebaseAndFixTogether) {
  std::vector<Point> points = Series(
      M(2024, 1), {10, 12, 10, 12, 10, 12, 11, 17, 12, 30, 34, 30, 34, 30, 34, 32, 20, 33});
  XmrOptions o = Direction(ImprovementDirection::kUp);
  o.fix_after_points = 6;
  o.rebases = {Rebase{M(2024, 10), "sepsis screening tool launched", "QI lead"}};
  XmrChart chart = Build(points, o);
  ASSERT_EQ(chart.segments.size(), 2u);
  for (const Segment& s : chart.segments) {
    EXPECT_EQ(s.points, 9);
    EXPECT_EQ(s.base_points, 6);
    EXPECT_EQ(s.moving_ranges, 5);
    EXPECT_EQ(s.fixed_after, 6);
    EXPECT_TRUE(s.trial_limits);
  }
  ExpectLimits(chart.segments[0].limits, 11.0, 2.0);
  ExpectLimits(chart.segments[1].limits, 32.0, 4.0);
  EXPECT_NEAR(chart.segments[1].limits.lower_process, 21.36, kTight);
  EXPECT_NEAR(chart.segments[1].limits.upper_near, 39.093333333333333, kTight);
  EXPECT_EQ(chart.segments[1].first_month, M(2024, 10));
  EXPECT_EQ(chart.segments[1].rebase->reason, "sepsis screening tool launched");
  EXPECT_EQ(Labels(chart), Only(18, {{7, "outside_limits/improvement/high"},
                                     {16, "outside_limits/concern/low"}}));
}

// Fewer than 12 base points: trial limits.
TEST(XmrTest, TrialLimits) {
  std::vector<double> values = {10, 12, 10, 12, 10, 12, 10, 12, 10, 12, 10, 12};
  XmrChart twelve = Build(Series(M(2024, 1), values), {});
  EXPECT_FALSE(twelve.segments[0].trial_limits);
  values.pop_back();
  XmrChart eleven = Build(Series(M(2024, 1), values), {});
  EXPECT_TRUE(eleven.segments[0].trial_limits);
  EXPECT_EQ(eleven.segments[0].base_points, 11);
}

// Outlier screening of moving ranges. 12 points, 10/12 alternating with 24
// at index 5:
//   sum = 6 x 10 + 5 x 12 + 24 = 144; mean 12
//   MRs: 2 2 2 2 14 14 2 2 2 2 2  sum = 46; mR = 46 / 11 = 4.181818...
// Off (the default): limits 12 +/- 2.66 x 46 / 11 = 12 +/- 11.123636...
//   = [0.876363..., 23.123636...]
// On: threshold 3.267 x 46 / 11 = 13.662; both 14s are at or above it and
//   are left out; mR = 18 / 9 = 2: limits 12 +/- 5.32 = [6.68, 17.32].
TEST(XmrTest, OutlierMovingRangeScreening) {
  std::vector<Point> points =
      Series(M(2024, 1), {10, 12, 10, 12, 10, 24, 10, 12, 10, 12, 10, 12});
  XmrOptions o = Direction(ImprovementDirection::kUp);
  EXPECT_FALSE(o.screen_outlier_moving_ranges);
  XmrChart off = Build(points, o);
  EXPECT_NEAR(off.segments[0].mean_moving_range, 46.0 / 11.0, kTight);
  EXPECT_NEAR(off.segments[0].limits.upper_process, 23.123636363636363, kTight);
  EXPECT_NEAR(off.segments[0].limits.lower_process, 0.876363636363636, kTight);
  EXPECT_EQ(off.segments[0].moving_ranges, 11);
  EXPECT_EQ(off.segments[0].moving_ranges_screened_out, 0);

  o.screen_outlier_moving_ranges = true;
  XmrChart on = Build(points, o);
  const Segment& s = on.segments[0];
  EXPECT_NEAR(s.mean_moving_range, 2.0, kTight);
  ExpectLimits(s.limits, 12.0, 2.0);
  EXPECT_NEAR(s.limits.upper_process, 17.32, kTight);
  EXPECT_NEAR(s.limits.lower_process, 6.68, kTight);
  EXPECT_EQ(s.moving_ranges, 9);
  EXPECT_EQ(s.moving_ranges_screened_out, 2);
  EXPECT_FALSE(on.points[5].moving_range_in_mean);
  EXPECT_FALSE(on.points[6].moving_range_in_mean);
  EXPECT_NEAR(*on.points[5].moving_range, 14.0, kTight);
  EXPECT_TRUE(on.points[7].moving_range_in_mean);
  // 24 is outside either way; the mean is the same.
  EXPECT_EQ(Labels(on), Only(12, {{5, "outside_limits/improvement/high"}}));
  EXPECT_EQ(Labels(off), Only(12, {{5, "outside_limits/improvement/high"}}));
}

// A rebase month without data starts the segment at the next available
// point; rebases at or before the first point label the first segment (the
// latest of them), and a segment left without points is not reported.
TEST(XmrTest, RebaseMonthsWithoutPoints) {
  std::vector<Point> points = {{M(2024, 1), 10}, {M(2024, 2), 12}, {M(2024, 3), 10},
                               {M(2024, 5), 20}, {M(2024, 6), 22}, {M(2024, 7), 20}};
  XmrOptions o;
  o.rebases = {Rebase{M(2024, 4), "rebased on a missing month", "a"},
               Rebase{M(2023, 6), "before the series", "b"},
               Rebase{M(2024, 1), "on the first point", "c"}};
  XmrChart chart = Build(points, o);
  ASSERT_EQ(chart.segments.size(), 2u);
  EXPECT_EQ(chart.segments[0].rebase->reason, "on the first point");
  EXPECT_EQ(chart.segments[0].points, 3);
  EXPECT_EQ(chart.segments[1].first_month, M(2024, 5));
  EXPECT_EQ(chart.segments[1].rebase->reason, "rebased on a missing month");
  EXPECT_NEAR(chart.segments[1].limits.mean, 62.0 / 3.0, kTight);
  EXPECT_EQ(chart.points[3].segment, 1);
}

// A segment of one point has no moving range: its limits lie on its mean,
// they are trial limits, and assurance waits for a second point.
TEST(XmrTest, SegmentOfOnePoint) {
  XmrOptions o = Direction(ImprovementDirection::kUp);
  o.target = 5;
  o.rebases = {Rebase{M(2024, 12), "new definition", "x"}};
  XmrChart chart = Build(Series(M(2024, 1), {10, 12, 10, 12, 10, 12, 10, 12, 10, 12, 10, 12}), o);
  ASSERT_EQ(chart.segments.size(), 2u);
  const Segment& last = chart.segments[1];
  EXPECT_EQ(last.points, 1);
  EXPECT_EQ(last.moving_ranges, 0);
  EXPECT_TRUE(last.trial_limits);
  EXPECT_EQ(last.mean_moving_range, 0.0);
  EXPECT_EQ(last.limits.upper_process, 12.0);
  EXPECT_EQ(last.limits.lower_process, 12.0);
  EXPECT_FALSE(chart.points.back().special_cause);
  EXPECT_FALSE(chart.points.back().moving_range);
  EXPECT_EQ(chart.assurance, Assurance::kNone);
  EXPECT_EQ(chart.variation, VariationIcon::kCommonCause);
}

TEST(XmrTest, RefusesBadInput) {
  auto reason = [](const std::vector<Point>& points, const XmrOptions& o) {
    absl::StatusOr<XmrChart> chart = BuildXmrChart(points, o);
    EXPECT_EQ(chart.status().code(), absl::StatusCode::kInvalidArgument);
    std::vector<FieldViolation> v = FieldViolationsOf(chart.status());
    return v.empty() ? std::string() : v[0].field + " " + v[0].reason;
  };
  EXPECT_EQ(reason({}, {}), "points EMPTY_SERIES");
  EXPECT_EQ(reason({{M(2024, 2), 1}, {M(2024, 1), 2}}, {}), "points[1].month MONTH_ORDER");
  EXPECT_EQ(reason({{M(2024, 1), 1}, {M(2024, 1), 2}}, {}), "points[1].month MONTH_ORDER");
  EXPECT_EQ(reason({{M(2024, 1), std::nan("")}}, {}), "points[0].value NOT_FINITE");
  XmrOptions fix;
  fix.fix_after_points = 1;
  EXPECT_EQ(reason({{M(2024, 1), 1}}, fix), "options.fix_after_points TOO_FEW_POINTS");
  XmrOptions twice;
  twice.rebases = {Rebase{M(2024, 1), "a", "x"}, Rebase{M(2024, 1), "b", "y"}};
  EXPECT_EQ(reason({{M(2024, 1), 1}}, twice), "options.rebases[1].month DUPLICATE_REBASE");
  XmrOptions target;
  target.target = std::numeric_limits<double>::infinity();
  EXPECT_EQ(reason({{M(2024, 1), 1}}, target), "options.target NOT_FINITE");
}

// National sums of a count measure per enrolled organisation: sums grow 65%
// from April to July while enrolment grows 50%; per organisation the value
// moves from 10 to 11. June has no enrolled organisation and no value.
//   100 / 10 = 10; 120 / 12 = 10; 165 / 15 = 11
TEST(ValuesPerOrganisationTest, DividesByEnrolledOrganisations) {
  std::vector<MonthlyCount> months = {
      {M(2024, 4), 100, 10}, {M(2024, 5), 120, 12}, {M(2024, 6), 0, 0}, {M(2024, 7), 165, 15}};
  std::vector<Point> values = ValuesPerOrganisation(months);
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0].month, M(2024, 4));
  EXPECT_NEAR(values[0].value, 10.0, kTight);
  EXPECT_EQ(values[1].month, M(2024, 5));
  EXPECT_NEAR(values[1].value, 10.0, kTight);
  EXPECT_EQ(values[2].month, M(2024, 7));
  EXPECT_NEAR(values[2].value, 11.0, kTight);
}

TEST(XmrTest, OptionsForMeasure) {
  v1::Measure m;
  m.set_improvement(v1::DIRECTION_DOWN);
  m.set_target(2.5);
  XmrOptions o = OptionsFor(m);
  EXPECT_EQ(o.improvement, ImprovementDirection::kDown);
  EXPECT_EQ(o.target, 2.5);
  m.set_improvement(v1::DIRECTION_UNSPECIFIED);
  m.clear_target();
  o = OptionsFor(m);
  EXPECT_EQ(o.improvement, ImprovementDirection::kNeither);
  EXPECT_FALSE(o.target);
  EXPECT_EQ(ImprovementOf(v1::DIRECTION_UP), ImprovementDirection::kUp);
  EXPECT_EQ(ImprovementOf(v1::DIRECTION_NEITHER), ImprovementDirection::kNeither);
}

TEST(XmrTest, Names) {
  EXPECT_EQ(Name(ImprovementDirection::kUp), "up");
  EXPECT_EQ(Name(ImprovementDirection::kDown), "down");
  EXPECT_EQ(Name(ImprovementDirection::kNeither), "neither");
  EXPECT_EQ(Name(Rule::kOutsideLimits), "outside_limits");
  EXPECT_EQ(Name(Rule::kTrend), "trend");
  EXPECT_EQ(Name(Rule::kTwoOfThree), "two_of_three");
  EXPECT_EQ(Name(Rule::kShift), "shift");
  EXPECT_EQ(Name(Side::kHigh), "high");
  EXPECT_EQ(Name(Side::kLow), "low");
  EXPECT_EQ(Name(Classification::kImprovement), "improvement");
  EXPECT_EQ(Name(Classification::kConcern), "concern");
  EXPECT_EQ(Name(Classification::kNeutral), "neutral");
  EXPECT_EQ(Name(VariationIcon::kCommonCause), "common_cause");
  EXPECT_EQ(Name(VariationIcon::kImprovementHigh), "improvement_high");
  EXPECT_EQ(Name(VariationIcon::kImprovementLow), "improvement_low");
  EXPECT_EQ(Name(VariationIcon::kConcernHigh), "concern_high");
  EXPECT_EQ(Name(VariationIcon::kConcernLow), "concern_low");
  EXPECT_EQ(Name(VariationIcon::kNeitherHigh), "neither_high");
  EXPECT_EQ(Name(VariationIcon::kNeitherLow), "neither_low");
  EXPECT_EQ(Name(Assurance::kNone), "none");
  EXPECT_EQ(Name(Assurance::kConsistentlyPasses), "consistently_passes");
  EXPECT_EQ(Name(Assurance::kConsistentlyFails), "consistently_fails");
  EXPECT_EQ(Name(Assurance::kInconsistent), "inconsistent");
}

}  // namespace
}  // namespace psc::spc
