// Pieces the renderers share (render.cc defines them): names of enums,
// month labels, units, and the exact formatting of values. Private to the
// report library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "psc/v1/query.pb.h"

namespace psc::report::internal {

// Lowercase names without the enum prefix: "input", "rate", "ratio", "down",
// "case_study"; "unspecified" for anything else.
std::string_view TypeName(v1::MeasureType t);
std::string_view UnitName(v1::Unit u);
std::string_view AggregationName(v1::Aggregation a);
std::string_view DirectionName(v1::Direction d);
std::string_view LearningKindName(v1::LearningKind k);
// A learning item's title for people: the title, or why there is none
// (erased on request; not frozen into a publication).
std::string_view LearningTitle(const v1::LearningItem& item);

// "Jan 2025" for "2025-01"; the text itself when it is not a month.
std::string MonthLabel(const std::string& text);

// Proportions and rates.
bool IsRatio(const v1::Measure& m);
// 100 for a proportion, rate_per for a rate, 1 for a count.
int64_t Factor(const v1::Measure& m);
// "count", "%" or "per 1,000 occupied bed days".
std::string UnitLabel(const v1::Measure& m);

// The shortest decimal that reads back as `v`; nullopt for NaN and
// infinities.
std::optional<std::string> ShortestDouble(double v);

// `v` with exactly `decimals` places (0..17), rounded as std::to_chars does
// (from the exact binary value, independent of the locale); never "-0.00"
// (a value that rounds to zero is written without its sign); nullopt for NaN
// and infinities.
std::optional<std::string> FixedDouble(double v, int decimals);

// The figure's value for JSON and CSV: counts as integers, percentages and
// rates to 4 decimal places; nullopt when the figure has no value.
std::optional<std::string> MachineValue(const v1::Measure& m, const v1::Figure& f);

// The figure's value for people, as the text table shows it: `number` is
// "no data" (nothing reported), "–" (reported, no value), a count with
// thousands separators, a percentage to 1 place or a rate to 2; `suffix` is
// "%" or " per 1,000 ..." (empty for counts and missing values).
struct HumanValue {
  std::string number;
  std::string suffix;
};
HumanValue HumanValueOf(const v1::Measure& m, const v1::Figure& f);

// Decimal places for values of a measure computed in doubles (SPC means and
// limits, funnel limits) when shown to people: 1 for percentages, 2 for
// rates and counts (a count per organisation has fractions).
int HumanDecimals(const v1::Measure& m);

// An instant as RFC 3339 in UTC: "2025-04-03T10:15:00Z", with 3, 6 or 9
// fractional digits when it has nanoseconds.
std::string Rfc3339Utc(const google::protobuf::Timestamp& t);
// An instant as Europe/London wall-clock time for people:
// "3 Apr 2025 11:15 BST" (GMT in winter).
std::string LondonDateTime(const google::protobuf::Timestamp& t);

}  // namespace psc::report::internal
