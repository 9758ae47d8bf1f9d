// Aggregation maths. Sums are integers and exact; a value in display units is
// derived only when read, never accumulated.
#pragma once

#include <cstdint>
#include <optional>

#include "psc/v1/catalog.pb.h"

namespace psc {

// Integer sums of one aggregate.
struct Sums {
  int64_t numerator = 0;
  int64_t denominator = 0;
  // Organisation-months with a value behind these sums (for the quarterly
  // AGGREGATION_LAST sums: organisations).
  int64_t reported = 0;
  // Of those, the ones whose first accepted value arrived on time (see
  // timeliness.h); 0 in the quarterly AGGREGATION_LAST sums.
  int64_t on_time = 0;

  Sums& operator+=(const Sums& o) {
    numerator += o.numerator;
    denominator += o.denominator;
    reported += o.reported;
    on_time += o.on_time;
    return *this;
  }
  Sums& operator-=(const Sums& o) {
    numerator -= o.numerator;
    denominator -= o.denominator;
    reported -= o.reported;
    on_time -= o.on_time;
    return *this;
  }
  bool IsZero() const {
    return numerator == 0 && denominator == 0 && reported == 0 && on_time == 0;
  }
  bool operator==(const Sums&) const = default;
};

// Whether a measure's values carry a denominator.
inline bool HasDenominator(const v1::Measure& m) {
  return m.unit() == v1::UNIT_PROPORTION || m.unit() == v1::UNIT_RATE;
}

// Multiplier from numerator/denominator to display units: 100 for a
// proportion (per cent), rate_per for a rate, 1 for a count.
inline double DisplayFactor(const v1::Measure& m) {
  switch (m.unit()) {
    case v1::UNIT_PROPORTION:
      return 100.0;
    case v1::UNIT_RATE:
      return static_cast<double>(m.rate_per());
    default:
      return 1.0;
  }
}

// The value in display units of summed numerator and denominator, or none
// when nothing was reported (or a ratio's denominator is 0).
inline std::optional<double> DisplayValue(const v1::Measure& m, int64_t numerator,
                                          int64_t denominator, bool any_reported) {
  if (!any_reported) return std::nullopt;
  if (!HasDenominator(m)) return static_cast<double>(numerator);
  if (denominator <= 0) return std::nullopt;
  return static_cast<double>(numerator) / static_cast<double>(denominator) * DisplayFactor(m);
}

}  // namespace psc
