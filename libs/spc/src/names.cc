// Names of the SPC enums, as reports and the MDC icon set spell them.
#include "psc/spc/spc.h"

namespace psc::spc {

std::string_view Name(ImprovementDirection v) {
  switch (v) {
    case ImprovementDirection::kUp:
      return "up";
    case ImprovementDirection::kDown:
      return "down";
    case ImprovementDirection::kNeither:
      return "neither";
  }
  return "unknown";
}

std::string_view Name(Rule v) {
  switch (v) {
    case Rule::kOutsideLimits:
      return "outside_limits";
    case Rule::kTrend:
      return "trend";
    case Rule::kTwoOfThree:
      return "two_of_three";
    case Rule::kShift:
      return "shift";
  }
  return "unknown";
}

std::string_view Name(Side v) {
  switch (v) {
    case Side::kHigh:
      return "high";
    case Side::kLow:
      return "low";
  }
  return "unknown";
}

std::string_view Name(Classification v) {
  switch (v) {
    case Classification::kImprovement:
      return "improvement";
    case Classification::kConcern:
      return "concern";
    case Classification::kNeutral:
      return "neutral";
  }
  return "unknown";
}

std::string_view Name(VariationIcon v) {
  switch (v) {
    case VariationIcon::kCommonCause:
      return "common_cause";
    case VariationIcon::kImprovementHigh:
      return "improvement_high";
    case VariationIcon::kImprovementLow:
      return "improvement_low";
    case VariationIcon::kConcernHigh:
      return "concern_high";
    case VariationIcon::kConcernLow:
      return "concern_low";
    case VariationIcon::kNeitherHigh:
      return "neither_high";
    case VariationIcon::kNeitherLow:
      return "neither_low";
  }
  return "unknown";
}

std::string_view Name(Assurance v) {
  switch (v) {
    case Assurance::kNone:
      return "none";
    case Assurance::kConsistentlyPasses:
      return "consistently_passes";
    case Assurance::kConsistentlyFails:
      return "consistently_fails";
    case Assurance::kInconsistent:
      return "inconsistent";
  }
  return "unknown";
}

std::string_view Name(FunnelModel v) {
  switch (v) {
    case FunnelModel::kProportion:
      return "proportion";
    case FunnelModel::kRate:
      return "rate";
  }
  return "unknown";
}

std::string_view Name(FunnelPosition v) {
  switch (v) {
    case FunnelPosition::kWithin:
      return "within";
    case FunnelPosition::kAbove:
      return "above";
    case FunnelPosition::kBelow:
      return "below";
  }
  return "unknown";
}

}  // namespace psc::spc
