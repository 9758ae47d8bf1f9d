// Renderers of the quarterly report. Each is a pure function of the report
// message: the same report always gives the same bytes (no clock, no locale,
// no floating-point formatting of computed values).
//
// Numbers:
//   - integers (sums, coverage, positions) are written exactly;
//   - a value is recomputed from the figure's integer numerator and
//     denominator and rounded half up from the exact quotient (no binary
//     floating point involved), and is written only when the figure has a
//     value. JSON and CSV: counts as integers, percentages and rates with
//     exactly 4 decimal places (87.5% -> 87.5000). Text: counts with
//     thousands separators (1,234), percentages with 1 decimal place
//     (87.5%), rates with 2 (12.34 per 1,000 occupied bed days);
//   - a measure's target (an entered number, not a computed one) is written
//     in JSON in the shortest form that reads back as the same double.
//
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <string>

#include "psc/v1/query.pb.h"

namespace psc::report {

// A fixed-width table for a terminal (UTF-8, LF line ends): a title naming
// the quarter, its months and the log position, then per type and topic a
// section with one row per measure (national) followed by an indented row
// per collaborative: value with unit, numerator / denominator, coverage
// `reported/expected (pct%)` and a ten-cell bar of coverage. Missing values
// show as "no data" (nothing reported) or "–" (reported, but no value, e.g. a
// zero denominator). Column widths follow the report's contents, so every
// section of one report lines up; names longer than 60 columns are cut
// with "…".
std::string RenderText(const v1::QuarterlyReport& report);

// JSON (UTF-8, two-space indentation, LF line ends, final newline), with the
// shape, names and field order of the psc.v1.QuarterlyReport message:
// snake_case keys in field-number order; every field written, including
// defaults; enums as lowercase names without their prefix ("input",
// "rate", "ratio", "down", "unspecified"); 64-bit integers as JSON numbers
// (not strings); an absent value or target as null.
std::string RenderJson(const v1::QuarterlyReport& report);

// CSV (RFC 4180: CRLF line ends, fields holding a comma, double quote, CR
// or LF enclosed in double quotes with quotes doubled), a header line
//   quarter,type,topic_id,measure_id,measure_name,area,area_id,
//   numerator,denominator,value,unit,reported,expected
// then one line per measure for the nation (area `national`, empty
// area_id) followed by one per collaborative (area `collaborative`), in
// report order. `type` is input/process/outcome/balancing; `unit` is
// `count`, `%` or `per <N> <denominator label>` (N with thousands
// separators, e.g. `per 1,000 occupied bed days`); `denominator` is empty
// for counts; `value` is empty when the figure has none.
std::string RenderCsv(const v1::QuarterlyReport& report);

// A rendering and its media type.
struct Rendered {
  std::string bytes;
  // "text/plain; charset=utf-8", "application/json" or
  // "text/csv; charset=utf-8"; empty with empty bytes for
  // REPORT_FORMAT_UNSPECIFIED (and any unknown format).
  std::string content_type;
};

Rendered Render(const v1::QuarterlyReport& report, v1::ReportFormat format);

}  // namespace psc::report
