// Funnel plots: control limits around the national rate for each unit's
// denominator. The formulas are stated in psc/spc/spc.h.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "psc/domain/strings.h"
#include "psc/domain/violations.h"
#include "psc/spc/spc.h"

namespace psc::spc {

namespace {

absl::Status ValidateRatio(FunnelModel model, std::string_view field, int64_t numerator,
                           int64_t denominator) {
  if (denominator <= 0) {
    return InvalidField(StrCat(field, ".denominator"), "NOT_POSITIVE",
                        StrCat("denominator ", denominator, " must be positive"));
  }
  if (numerator < 0) {
    return InvalidField(StrCat(field, ".numerator"), "NEGATIVE",
                        StrCat("numerator ", numerator, " must not be negative"));
  }
  if (model == FunnelModel::kProportion && numerator > denominator) {
    return InvalidField(StrCat(field, ".numerator"), "EXCEEDS_DENOMINATOR",
                        StrCat("a proportion's numerator ", numerator,
                               " exceeds its denominator ", denominator));
  }
  return absl::OkStatus();
}

// One band for a unit with ratio `y` and denominator `d` around rate `p`,
// all in numerator / denominator units; the result is in display units.
FunnelBand Band(FunnelModel model, double p, double y, double d, double z, double factor) {
  const FunnelLimits limits = FunnelLimitsAt(model, p, d, z);
  FunnelBand band{limits.lower * factor, limits.upper * factor, FunnelPosition::kWithin};
  // Compared before scaling so that the display factor cannot move a unit
  // across a limit by rounding.
  if (y > limits.upper) band.position = FunnelPosition::kAbove;
  if (y < limits.lower) band.position = FunnelPosition::kBelow;
  return band;
}

}  // namespace

FunnelLimits FunnelLimitsAt(FunnelModel model, double p, double denominator, double z) {
  const double se = model == FunnelModel::kProportion ? std::sqrt(p * (1 - p) / denominator)
                                                      : std::sqrt(p / denominator);
  FunnelLimits limits{std::max(0.0, p - z * se), p + z * se};
  if (model == FunnelModel::kProportion) limits.upper = std::min(1.0, limits.upper);
  return limits;
}

absl::StatusOr<Funnel> BuildFunnel(FunnelModel model, double display_factor,
                                   int64_t national_numerator, int64_t national_denominator,
                                   std::span<const FunnelUnit> units) {
  if (!(std::isfinite(display_factor) && display_factor > 0)) {
    return InvalidField("display_factor", "NOT_POSITIVE", "the display factor must be positive");
  }
  if (absl::Status s = ValidateRatio(model, "national", national_numerator, national_denominator);
      !s.ok()) {
    return s;
  }
  for (size_t i = 0; i < units.size(); ++i) {
    if (absl::Status s = ValidateRatio(model, StrCat("units[", i, "]"), units[i].numerator,
                                       units[i].denominator);
        !s.ok()) {
      return s;
    }
  }

  const double p =
      static_cast<double>(national_numerator) / static_cast<double>(national_denominator);
  Funnel funnel;
  funnel.model = model;
  funnel.display_factor = display_factor;
  funnel.centre = p * display_factor;
  funnel.units.reserve(units.size());
  for (const FunnelUnit& u : units) {
    const double d = static_cast<double>(u.denominator);
    const double y = static_cast<double>(u.numerator) / d;
    funnel.units.push_back(FunnelPoint{
        .id = u.id,
        .numerator = u.numerator,
        .denominator = u.denominator,
        .value = y * display_factor,
        .band95 = Band(model, p, y, d, kFunnelZ95, display_factor),
        .band998 = Band(model, p, y, d, kFunnelZ998, display_factor),
    });
  }
  return funnel;
}

}  // namespace psc::spc
