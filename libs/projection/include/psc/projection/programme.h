// The programme at a glance, from a View: what the programme team watches
// in Grafana (docs/metrics.md, psc_programme_*). Cheap enough to compute at
// every scrape: it reads the aggregates and the reporting index, never the
// observations.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "psc/domain/period.h"
#include "psc/projection/read_model.h"

namespace psc::projection {

struct ProgrammeArea {
  int64_t values_reported = 0;         // organisation x measure values stored
  int64_t values_expected = 0;         // enrolled organisation x measure pairs
  int64_t organisations_reporting = 0;  // with any value
  int64_t organisations_enrolled = 0;   // in any measure
  bool operator==(const ProgrammeArea&) const = default;
};

struct NationalValue {
  Month month;   // the measure's latest month with a value
  double value;  // in display units
};

struct ProgrammeFigures {
  // The programme month: the latest month holding any value.
  std::optional<Month> month;
  // Every collaborative of the catalogue, for the programme month (each
  // organisation under the collaborative it belonged to in that month).
  std::map<std::string, ProgrammeArea> areas;
  // Learning submissions stored, by topic id.
  std::map<std::string, int64_t> learning_by_topic;
  // Measures with a national value.
  std::map<std::string, NationalValue> national;
};

absl::StatusOr<ProgrammeFigures> ProgrammeOf(const View& view);

}  // namespace psc::projection
