// XmR charts: segments, limits, the four special cause rules, icons.
// The formulas and rules are stated in psc/spc/spc.h.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "psc/domain/strings.h"
#include "psc/domain/violations.h"
#include "psc/spc/spc.h"

namespace psc::spc {

namespace {

absl::Status Validate(std::span<const Point> points, const XmrOptions& options) {
  if (points.empty()) {
    return InvalidField("points", "EMPTY_SERIES", "an XmR chart needs at least one point");
  }
  for (size_t i = 0; i < points.size(); ++i) {
    if (!std::isfinite(points[i].value)) {
      return InvalidField(StrCat("points[", i, "].value"), "NOT_FINITE",
                          StrCat("the value of ", points[i].month.ToString(),
                                 " is not a finite number"));
    }
    if (i > 0 && points[i].month <= points[i - 1].month) {
      return InvalidField(StrCat("points[", i, "].month"), "MONTH_ORDER",
                          StrCat(points[i].month.ToString(), " follows ",
                                 points[i - 1].month.ToString(),
                                 "; months must strictly increase"));
    }
  }
  if (options.target && !std::isfinite(*options.target)) {
    return InvalidField("options.target", "NOT_FINITE", "the target is not a finite number");
  }
  if (options.fix_after_points && *options.fix_after_points < 2) {
    return InvalidField("options.fix_after_points", "TOO_FEW_POINTS",
                        StrCat("limits need at least 2 points (one moving range), not ",
                               *options.fix_after_points));
  }
  for (size_t i = 0; i < options.rebases.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (options.rebases[i].month == options.rebases[j].month) {
        return InvalidField(StrCat("options.rebases[", i, "].month"), "DUPLICATE_REBASE",
                            StrCat("two rebases in ", options.rebases[i].month.ToString()));
      }
    }
  }
  return absl::OkStatus();
}

int Sign(double d) { return d > 0 ? 1 : (d < 0 ? -1 : 0); }

Side SideOf(int sign) { return sign > 0 ? Side::kHigh : Side::kLow; }

Classification Classify(ImprovementDirection direction, Side side) {
  if (direction == ImprovementDirection::kNeither) return Classification::kNeutral;
  bool high_is_better = direction == ImprovementDirection::kUp;
  return (side == Side::kHigh) == high_is_better ? Classification::kImprovement
                                                 : Classification::kConcern;
}

VariationIcon IconOf(const std::optional<SpecialCause>& cause) {
  if (!cause) return VariationIcon::kCommonCause;
  bool high = cause->side == Side::kHigh;
  switch (cause->classification) {
    case Classification::kImprovement:
      return high ? VariationIcon::kImprovementHigh : VariationIcon::kImprovementLow;
    case Classification::kConcern:
      return high ? VariationIcon::kConcernHigh : VariationIcon::kConcernLow;
    case Classification::kNeutral:
      return high ? VariationIcon::kNeitherHigh : VariationIcon::kNeitherLow;
  }
  return VariationIcon::kCommonCause;
}

Assurance AssuranceOf(const XmrOptions& options, const Segment& latest) {
  if (!options.target || options.improvement == ImprovementDirection::kNeither) {
    return Assurance::kNone;
  }
  if (latest.moving_ranges == 0) return Assurance::kNone;  // limits not yet known
  double target = *options.target;
  bool above_target = latest.limits.lower_process > target;  // the whole range
  bool below_target = latest.limits.upper_process < target;
  if (options.improvement == ImprovementDirection::kUp) {
    if (above_target) return Assurance::kConsistentlyPasses;
    if (below_target) return Assurance::kConsistentlyFails;
  } else {
    if (below_target) return Assurance::kConsistentlyPasses;
    if (above_target) return Assurance::kConsistentlyFails;
  }
  return Assurance::kInconsistent;
}

// Flags each point of a run of at least kRunLength consecutive points whose
// `sign` (+1 or -1, 0 breaks every run) is the same, with the run's side.
// `sign[k]` belongs to the step that ENDS at point k + offset, so trends pass
// offset 1 (a run of s equal step signs spans s + 1 points) and shifts pass
// offset 0. A point already flagged keeps its first run.
void FlagRuns(const std::vector<int>& sign, size_t offset, std::vector<std::optional<Side>>& flags) {
  size_t k = 0;
  while (k < sign.size()) {
    if (sign[k] == 0) {
      ++k;
      continue;
    }
    size_t end = k;
    while (end < sign.size() && sign[end] == sign[k]) ++end;
    // Steps k..end-1 span points k..end-1+offset (indices into flags).
    size_t first_point = k;
    size_t last_point = end - 1 + offset;
    if (last_point - first_point + 1 >= static_cast<size_t>(kRunLength)) {
      for (size_t p = first_point; p <= last_point; ++p) {
        if (!flags[p]) flags[p] = SideOf(sign[k]);
      }
    }
    k = end;
  }
}

// Evaluates the four rules on the points of one segment (values `v`,
// against `limits`) and labels each flagged point with its first rule.
std::vector<std::optional<SpecialCause>> Evaluate(const std::vector<double>& v,
                                                  const Limits& limits,
                                                  ImprovementDirection direction) {
  const size_t n = v.size();
  std::vector<std::optional<Side>> outside(n), trend(n), two_of_three(n), shift(n);

  for (size_t k = 0; k < n; ++k) {
    if (v[k] > limits.upper_process) outside[k] = Side::kHigh;
    if (v[k] < limits.lower_process) outside[k] = Side::kLow;
  }

  // Trend: step k (k = 0..n-2) goes from point k to point k + 1.
  if (n >= 2) {
    std::vector<int> steps(n - 1);
    for (size_t k = 0; k + 1 < n; ++k) steps[k] = Sign(v[k + 1] - v[k]);
    FlagRuns(steps, 1, trend);
  }

  // Two of three: every window of three consecutive points that lie on one
  // side of the mean (none on it), at least two of them near: beyond the
  // two-sigma line on that side but not beyond the process limit. Only the
  // near points of the window are flagged.
  auto near = [&](double x, int side) {
    return side > 0 ? x > limits.upper_near && x <= limits.upper_process
                    : x < limits.lower_near && x >= limits.lower_process;
  };
  for (size_t w = 0; w + 3 <= n; ++w) {
    const int side = Sign(v[w] - limits.mean);
    if (side == 0 || Sign(v[w + 1] - limits.mean) != side ||
        Sign(v[w + 2] - limits.mean) != side) {
      continue;
    }
    int near_points = 0;
    for (size_t k = w; k < w + 3; ++k) near_points += near(v[k], side) ? 1 : 0;
    if (near_points < 2) continue;
    for (size_t k = w; k < w + 3; ++k) {
      if (near(v[k], side)) two_of_three[k] = SideOf(side);
    }
  }

  std::vector<int> sides(n);
  for (size_t k = 0; k < n; ++k) sides[k] = Sign(v[k] - limits.mean);
  FlagRuns(sides, 0, shift);

  std::vector<std::optional<SpecialCause>> causes(n);
  for (size_t k = 0; k < n; ++k) {
    const std::pair<Rule, const std::optional<Side>*> by_priority[] = {
        {Rule::kOutsideLimits, &outside[k]},
        {Rule::kTrend, &trend[k]},
        {Rule::kTwoOfThree, &two_of_three[k]},
        {Rule::kShift, &shift[k]},
    };
    for (const auto& [rule, side] : by_priority) {
      if (*side) {
        causes[k] = SpecialCause{rule, **side, Classify(direction, **side)};
        break;
      }
    }
  }
  return causes;
}

// Computes the segment of points [begin, end) and fills its chart points.
Segment BuildSegment(std::span<const Point> points, size_t begin, size_t end, int index,
                     const XmrOptions& options, std::vector<ChartPoint>& out) {
  Segment seg;
  seg.first_month = points[begin].month;
  seg.last_month = points[end - 1].month;
  seg.points = static_cast<int>(end - begin);
  seg.fixed_after = options.fix_after_points;
  size_t base_end = end;
  if (options.fix_after_points) {
    base_end = std::min(end, begin + static_cast<size_t>(*options.fix_after_points));
  }
  seg.base_points = static_cast<int>(base_end - begin);
  seg.trial_limits = seg.base_points < kMinPointsForFirmLimits;

  double sum = 0;
  for (size_t i = begin; i < base_end; ++i) sum += points[i].value;
  double mean = sum / seg.base_points;

  for (size_t i = begin; i < end; ++i) {
    ChartPoint& p = out[i];
    p.segment = index;
    if (i > begin) {
      p.moving_range = std::fabs(points[i].value - points[i - 1].value);
      p.moving_range_in_mean = i < base_end;
    }
  }

  auto mean_of_used = [&](int& count) {
    double total = 0;
    count = 0;
    for (size_t i = begin + 1; i < base_end; ++i) {
      if (!out[i].moving_range_in_mean) continue;
      total += *out[i].moving_range;
      ++count;
    }
    return count == 0 ? 0.0 : total / count;
  };
  int count = 0;
  double mean_mr = mean_of_used(count);
  // Screening once, as NHSRplotthedots: keep a moving range only when it is
  // below 3.267 x the mean. A mean of 0 means every moving range is 0, and
  // there is no outlier to screen.
  if (options.screen_outlier_moving_ranges && mean_mr > 0) {
    double threshold = kMovingRangeScreenFactor * mean_mr;
    for (size_t i = begin + 1; i < base_end; ++i) {
      if (*out[i].moving_range >= threshold) {
        out[i].moving_range_in_mean = false;
        ++seg.moving_ranges_screened_out;
      }
    }
    mean_mr = mean_of_used(count);
  }
  seg.moving_ranges = count;
  seg.mean_moving_range = mean_mr;
  seg.limits = Limits{
      .mean = mean,
      .lower_process = mean - kProcessLimitFactor * mean_mr,
      .upper_process = mean + kProcessLimitFactor * mean_mr,
      .lower_near = mean - kNearLimitFactor * mean_mr,
      .upper_near = mean + kNearLimitFactor * mean_mr,
  };

  std::vector<double> values;
  values.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) values.push_back(points[i].value);
  std::vector<std::optional<SpecialCause>> causes =
      Evaluate(values, seg.limits, options.improvement);
  for (size_t i = begin; i < end; ++i) {
    out[i].limits = seg.limits;
    out[i].special_cause = causes[i - begin];
  }
  return seg;
}

}  // namespace

ImprovementDirection ImprovementOf(v1::Direction direction) {
  switch (direction) {
    case v1::DIRECTION_UP:
      return ImprovementDirection::kUp;
    case v1::DIRECTION_DOWN:
      return ImprovementDirection::kDown;
    default:
      return ImprovementDirection::kNeither;
  }
}

XmrOptions OptionsFor(const v1::Measure& measure) {
  XmrOptions options;
  options.improvement = ImprovementOf(measure.improvement());
  if (measure.has_target()) options.target = measure.target();
  return options;
}

absl::StatusOr<XmrChart> BuildXmrChart(std::span<const Point> points, const XmrOptions& options) {
  if (absl::Status s = Validate(points, options); !s.ok()) return s;

  std::vector<Rebase> rebases = options.rebases;
  std::sort(rebases.begin(), rebases.end(),
            [](const Rebase& a, const Rebase& b) { return a.month < b.month; });
  // The raw segment of a month: how many rebases start at or before it.
  auto raw_segment = [&](Month m) {
    return static_cast<size_t>(
        std::upper_bound(rebases.begin(), rebases.end(), m,
                         [](Month month, const Rebase& r) { return month < r.month; }) -
        rebases.begin());
  };

  XmrChart chart;
  chart.points.resize(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    chart.points[i].month = points[i].month;
    chart.points[i].value = points[i].value;
  }

  size_t begin = 0;
  while (begin < points.size()) {
    size_t raw = raw_segment(points[begin].month);
    size_t end = begin + 1;
    while (end < points.size() && raw_segment(points[end].month) == raw) ++end;
    Segment seg = BuildSegment(points, begin, end, static_cast<int>(chart.segments.size()),
                               options, chart.points);
    if (raw > 0) seg.rebase = rebases[raw - 1];
    chart.segments.push_back(std::move(seg));
    begin = end;
  }

  chart.variation = IconOf(chart.points.back().special_cause);
  chart.assurance = AssuranceOf(options, chart.segments.back());
  return chart;
}

std::vector<Point> ValuesPerOrganisation(std::span<const MonthlyCount> months) {
  std::vector<Point> out;
  out.reserve(months.size());
  for (const MonthlyCount& m : months) {
    if (m.enrolled_organisations <= 0) continue;
    out.push_back(Point{m.month, static_cast<double>(m.sum) /
                                     static_cast<double>(m.enrolled_organisations)});
  }
  return out;
}

}  // namespace psc::spc
