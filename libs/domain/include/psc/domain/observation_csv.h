// The monthly return as CSV (RFC 4180, UTF-8, optional BOM, LF or CRLF):
//
//   org_code,measure_id,month,numerator,denominator
//   RHM,falls-harm-rate.v1,2024-04,12,8410
//   RHM,staff-trained.v1,2024-04,310,
//
// The header is required exactly. Counts are whole non-negative numbers; the
// denominator is empty for counts. Errors name the line (1-based, the header
// is line 1) and the column, and the whole file is refused.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "psc/v1/events.pb.h"

namespace psc {

inline constexpr std::string_view kObservationCsvHeader =
    "org_code,measure_id,month,numerator,denominator";

struct ObservationCsv {
  std::vector<v1::Observation> rows;
  // Line number of each row, for mapping server errors (`rows[i]`) back.
  std::vector<int> lines;
};

// Parses the file. INVALID_ARGUMENT lists violations as `line N: column`.
absl::StatusOr<ObservationCsv> ParseObservationCsv(std::string_view text);

// Rewrites a field path `rows[i].x` to `line N: x` using `lines`; other
// paths are returned unchanged.
std::string CsvFieldOf(std::string_view field, const std::vector<int>& lines);

}  // namespace psc
