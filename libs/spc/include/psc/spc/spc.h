// Statistical process control for the programme's monthly measures: XmR
// charts with the special cause rules of NHS England's Making Data Count
// (MDC) as the NHSRplotthedots R package implements them, a per-organisation
// view of count measures, and funnel plots for comparing units on a ratio
// measure. Pure functions of their arguments: no I/O, no clock, no locale,
// no randomness; the same input gives the same output, bit for bit.
// Everything here is a plain value, safe to share between threads.
//
// XmR chart, per segment (see BuildXmrChart for segments, fixing, screening):
//
//   moving range   MR_i = |x_i - x_(i-1)|, between consecutive AVAILABLE
//                  points of the segment (a missing month is skipped); the
//                  first point of a segment has none
//   mean           mean of the segment's base points (all its points, or the
//                  first n when limits are fixed after n points)
//   mean MR        mean of the base's moving ranges
//   process limits mean +/- 2.66 x mean MR                  (3 sigma)
//   near limits    mean +/- (2 x 2.66 / 3) x mean MR        (2 sigma)
//
// Special cause rules, each evaluated within one segment against that
// segment's mean and limits (never across a rebase):
//   1. outside_limits: a point strictly above the upper or strictly below the
//      lower process limit;
//   2. trend: 7 or more consecutive points each strictly greater (or each
//      strictly less) than the one before; an equal pair breaks the run; every
//      point of the run is flagged (a turning point shared by a rising and a
//      falling run takes the earlier run's direction);
//   3. two_of_three: any 3 consecutive points all strictly on the same side
//      of the mean, at least 2 of them near: strictly beyond the near limit
//      on that side and not beyond the process limit (a point outside the
//      limits is not near; a point on the mean breaks the window); only the
//      near points are flagged, not the third (NHSRplotthedots since 0.2.2);
//   4. shift: 7 or more consecutive points strictly on the same side of the
//      mean; a point exactly on the mean breaks the run; every point of the
//      run is flagged.
// A point flagged by several rules is labelled with the first in that order.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "psc/domain/period.h"
#include "psc/v1/catalog.pb.h"

namespace psc::spc {

// ---------------------------------------------------------------- constants

// Process limits: mean +/- kProcessLimitFactor x mean moving range.
inline constexpr double kProcessLimitFactor = 2.66;
// Near (two sigma) limits: two thirds of the way to the process limits.
inline constexpr double kNearLimitFactor = 2.0 * kProcessLimitFactor / 3.0;
// Outlier screening of moving ranges: an MR at or above this multiple of the
// mean moving range is left out of the recomputed mean (see XmrOptions).
inline constexpr double kMovingRangeScreenFactor = 3.267;
// A segment whose limits rest on fewer base points has trial limits.
inline constexpr int kMinPointsForFirmLimits = 12;
// Runs of this many points make a trend or a shift.
inline constexpr int kRunLength = 7;

// -------------------------------------------------------------------- enums

// Which way is an improvement.
enum class ImprovementDirection { kUp, kDown, kNeither };

// The special cause rule a point is labelled with (highest priority first).
enum class Rule { kOutsideLimits, kTrend, kTwoOfThree, kShift };

// Which way a flagged point deviates: above the limit, near limit or mean,
// or (for a trend) the way the run moves.
enum class Side { kHigh, kLow };

// What a special cause means for the measure.
enum class Classification {
  kImprovement,
  kConcern,
  // Special cause of neither improvement nor concern (direction neither).
  kNeutral,
};

// MDC variation icon, from the last point of the series.
enum class VariationIcon {
  kCommonCause,
  kImprovementHigh,
  kImprovementLow,
  kConcernHigh,
  kConcernLow,
  kNeitherHigh,
  kNeitherLow,
};

// MDC assurance icon: can the process be relied on to meet its target?
enum class Assurance { kNone, kConsistentlyPasses, kConsistentlyFails, kInconsistent };

// Names for reports and logs: "up", "outside_limits", "high",
// "improvement", the MDC icon names ("common_cause", "improvement_high", ...,
// "neither_low") and "none", "consistently_passes", "consistently_fails",
// "inconsistent".
std::string_view Name(ImprovementDirection v);
std::string_view Name(Rule v);
std::string_view Name(Side v);
std::string_view Name(Classification v);
std::string_view Name(VariationIcon v);
std::string_view Name(Assurance v);

// A measure's direction: DIRECTION_UP -> kUp, DIRECTION_DOWN -> kDown,
// anything else (neither, unspecified) -> kNeither.
ImprovementDirection ImprovementOf(v1::Direction direction);

// ------------------------------------------------------------------- inputs

// One month's value of a series. A month without a value is simply absent.
struct Point {
  Month month;
  double value = 0;
};

// A new segment from `month` on: the process changed, so its mean and limits
// are computed afresh. `reason` and `author` are carried into the output.
struct Rebase {
  Month month;
  std::string reason;
  std::string author;
  bool operator==(const Rebase&) const = default;
};

struct XmrOptions {
  ImprovementDirection improvement = ImprovementDirection::kNeither;
  // In the same units as the values.
  std::optional<double> target;
  // Months where a new segment starts, in any order, each month at most once.
  std::vector<Rebase> rebases;
  // When set (n >= 2): each segment's mean and limits come from its first n
  // points only and are held for the rest of that segment.
  std::optional<int> fix_after_points;
  // When true, the base's moving ranges at or above 3.267 x their mean are
  // left out and the mean moving range is recomputed once from the rest, as
  // NHSRplotthedots does (`screen_outliers`, on by default there). Off by
  // default here, as in the Making Data Count spreadsheets, which do not
  // screen.
  bool screen_outlier_moving_ranges = false;
};

// Direction and target of a measure (the target is in display units, like
// the values of its series).
XmrOptions OptionsFor(const v1::Measure& measure);

// ------------------------------------------------------------------ outputs

// Centre line and limits of one segment.
struct Limits {
  double mean = 0;
  double lower_process = 0;
  double upper_process = 0;
  double lower_near = 0;
  double upper_near = 0;
};

struct SpecialCause {
  Rule rule = Rule::kOutsideLimits;
  Side side = Side::kHigh;
  Classification classification = Classification::kNeutral;
};

struct ChartPoint {
  Month month;
  double value = 0;
  // Index into XmrChart::segments.
  int segment = 0;
  // The segment's limits, repeated for drawing.
  Limits limits;
  // |value - previous available value in the segment|; none for the first
  // point of a segment.
  std::optional<double> moving_range;
  // Whether moving_range entered the segment's mean moving range (false for
  // points after the fixed base, and for moving ranges screened out).
  bool moving_range_in_mean = false;
  // Set when a rule flags the point: the highest-priority rule.
  std::optional<SpecialCause> special_cause;
};

struct Segment {
  Month first_month;
  Month last_month;
  // Available points in the segment.
  int points = 0;
  // Points the mean and limits come from: all, or the first fix_after_points.
  int base_points = 0;
  // Moving ranges in the mean moving range, and those screened out of it.
  int moving_ranges = 0;
  int moving_ranges_screened_out = 0;
  double mean_moving_range = 0;
  Limits limits;
  // Fewer than 12 base points: the limits are provisional.
  bool trial_limits = false;
  // The rebase this segment starts with; none for a segment that starts with
  // the series.
  std::optional<Rebase> rebase;
  // fix_after_points, when it was set.
  std::optional<int> fixed_after;
};

struct XmrChart {
  std::vector<ChartPoint> points;
  std::vector<Segment> segments;
  VariationIcon variation = VariationIcon::kCommonCause;
  Assurance assurance = Assurance::kNone;
};

// Builds an XmR chart of `points`.
//
// Segments: a segment starts at each rebase month and runs to the next; the
// points before the first rebase month form the first segment. A segment
// holding no point (a rebase month with no data before the next rebase, or
// several rebases at or before the first point) is left out, so
// XmrChart::segments holds only segments with points, in month order, and a
// rebase at or before the first point labels the first segment.
//
// A segment whose base has a single point has no moving range: its mean
// moving range is 0, its limits lie on its mean and it has trial limits.
//
// Classification of a flagged point: a high deviation (side kHigh) is an
// improvement when the direction is kUp and a concern when kDown, a low one
// the reverse; with kNeither every special cause is kNeutral. Unlike
// NHSRplotthedots, which classifies every flagged point by its side of the
// mean, a trend is classified by the way it moves.
//
// Variation icon: from the last point: kCommonCause when it is not flagged,
// otherwise its classification and side (kImprovementHigh, ..., kNeitherLow).
//
// Assurance, from the latest segment's process limits (as NHSRplotthedots,
// comparisons are strict, so a target equal to a limit is inconsistent):
//   kUp:   lower limit > target -> kConsistentlyPasses;
//          upper limit < target -> kConsistentlyFails;   otherwise kInconsistent
//   kDown: upper limit < target -> kConsistentlyPasses;
//          lower limit > target -> kConsistentlyFails;   otherwise kInconsistent
//   no target, direction kNeither, or a latest segment without a moving range
//   (limits not yet known) -> kNone.
//
// Fails with INVALID_ARGUMENT (field violations naming the offending input)
// when `points` is empty, its months are not strictly increasing, a value or
// the target is not finite, two rebases share a month, or fix_after_points
// is below 2.
absl::StatusOr<XmrChart> BuildXmrChart(std::span<const Point> points, const XmrOptions& options);

// --------------------------------------------------- values per organisation

// One month of a count measure nationally: the sum over organisations and
// how many organisations were enrolled to report it that month.
struct MonthlyCount {
  Month month;
  int64_t sum = 0;
  int64_t enrolled_organisations = 0;
};

// The series of sum / enrolled organisations, one point per month, so that
// more organisations joining does not read as a rise (or a fall) of the
// measure. A month with no enrolled organisation has no value and is left
// out (a missing month on the chart). Order is kept.
std::vector<Point> ValuesPerOrganisation(std::span<const MonthlyCount> months);

// -------------------------------------------------------------- funnel plot

// How a unit's ratio varies by chance around the national rate p, for a
// unit with denominator D (limits in the units of numerator / denominator,
// then multiplied by the display factor):
//   kProportion (binomial):  p +/- z x sqrt(p (1 - p) / D), clamped to [0, 1]
//   kRate       (Poisson):   p +/- z x sqrt(p / D),         clamped below at 0
// with z = 1.959964 for the 95% band and z = 3.090232 for the 99.8% band.
enum class FunnelModel { kProportion, kRate };

// Where a unit lies against one band: strictly above its upper limit,
// strictly below its lower limit, or within (limits included).
enum class FunnelPosition { kWithin, kAbove, kBelow };

// "proportion", "rate"; "within", "above", "below".
std::string_view Name(FunnelModel v);
std::string_view Name(FunnelPosition v);

inline constexpr double kFunnelZ95 = 1.959964;
inline constexpr double kFunnelZ998 = 3.090232;

// The limits of one band at `denominator` (> 0) around the rate `p` (in
// numerator / denominator units, not scaled by a display factor), by the
// formulas above, in the same units: what BuildFunnel gives each unit, and
// the curves a funnel plot draws.
struct FunnelLimits {
  double lower = 0;
  double upper = 0;
};
FunnelLimits FunnelLimitsAt(FunnelModel model, double p, double denominator, double z);

// One unit compared (an organisation, a collaborative).
struct FunnelUnit {
  std::string id;
  int64_t numerator = 0;
  int64_t denominator = 0;
};

// Limits of one band for one unit, in display units, and where the unit is.
struct FunnelBand {
  double lower = 0;
  double upper = 0;
  FunnelPosition position = FunnelPosition::kWithin;
};

struct FunnelPoint {
  std::string id;
  int64_t numerator = 0;
  int64_t denominator = 0;
  // numerator / denominator x display factor.
  double value = 0;
  FunnelBand band95;
  FunnelBand band998;
};

struct Funnel {
  FunnelModel model = FunnelModel::kProportion;
  double display_factor = 1;
  // The national rate in display units: national numerator / national
  // denominator x display factor.
  double centre = 0;
  // In the order given.
  std::vector<FunnelPoint> units;
};

// Funnel plot of `units` around the national rate p = national_numerator /
// national_denominator (the national sums may cover more organisations than
// the units plotted). `display_factor` is 100 for a percentage, N for a rate
// per N. Fails with INVALID_ARGUMENT when the national denominator or a
// unit's denominator is not positive, a numerator is negative, a proportion's
// numerator exceeds its denominator, or display_factor is not positive.
absl::StatusOr<Funnel> BuildFunnel(FunnelModel model, double display_factor,
                                   int64_t national_numerator, int64_t national_denominator,
                                   std::span<const FunnelUnit> units);

}  // namespace psc::spc
