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
//   - a measure's target and a funnel's display factor (entered numbers,
//     not computed ones) are written in JSON in the shortest form that reads
//     back as the same double;
//   - statistics computed in doubles (SPC values, means and limits, funnel
//     centres, values and limits) are written in JSON with exactly 4
//     decimal places (std::to_chars fixed: correctly rounded from the
//     binary value, no locale; never "-0.0000"), and in HTML with 1 decimal
//     place for percentages and 2 for counts and rates.
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
// with "…". After the table: learning by collaborative and topic; one line
// per month of returns reported, on time and organisations owing; each
// sign-off and the figures changed since it; the revisions since the last
// publication. Revisions list numerator, denominator and coverage changes
// as integers (the value follows from them and is not repeated).
std::string RenderText(const v1::QuarterlyReport& report);

// JSON (UTF-8, two-space indentation, LF line ends, final newline), with the
// shape, names and field order of the psc.v1.QuarterlyReport message:
// snake_case keys in field-number order; every field written, including
// defaults (empty strings, 0, false, []); enums as lowercase names without
// their prefix ("input", "rate", "ratio", "down", "case_study",
// "unspecified"); 64-bit integers as JSON numbers (not strings); an absent
// value, target, message (a measure's `spc` or `funnel`, the report's
// `publication`) or timestamp as null. Timestamps (`signed_off_at`) as RFC
// 3339 strings in UTC ("2025-04-03T10:15:00Z"). A revision's `published`
// and `current` are integers for whole-number fields (numerator,
// denominator, reported, expected, on_time) and 4 decimal places for
// `value`.
std::string RenderJson(const v1::QuarterlyReport& report);

// CSV (RFC 4180: CRLF line ends, fields holding a comma, double quote, CR
// or LF enclosed in double quotes with quotes doubled), a header line
//   quarter,type,topic_id,measure_id,measure_name,area,area_id,
//   numerator,denominator,value,unit,reported,expected,variation,assurance
// then one line per measure for the nation (area `national`, empty
// area_id) followed by one per collaborative (area `collaborative`), in
// report order. `type` is input/process/outcome/balancing; `unit` is
// `count`, `%` or `per <N> <denominator label>` (N with thousands
// separators, e.g. `per 1,000 occupied bed days`); `denominator` is empty
// for counts; `value` is empty when the figure has none. `variation` and
// `assurance` are the national SPC summary's icons (`common_cause`,
// `improvement_high`, ...; `consistently_passes`, ..., `none`) on national
// lines of measures with an SPC summary, empty otherwise (new columns go at
// the end, so readers by position keep working).
std::string RenderCsv(const v1::QuarterlyReport& report);

// A self-contained HTML5 page (UTF-8, LF line ends): inline CSS and inline
// SVG only, no script, nothing fetched from the network, so it can be
// mailed, archived or opened offline. Every text from the report is
// escaped. Aimed at WCAG 2.2 AA: lang="en", one h1 and headings in order,
// a skip link, visible focus, tables with scoped header cells, text
// contrast of at least 4.5:1, nothing told by colour alone, and a text
// alternative (title, desc and a data table) for every chart.
//
// Contents, in order: the title (quarter, months, log position, number of
// collaboratives); contents links; "How to read this" (XmR charts, special
// cause rules in priority order, the icons, funnel plots); then per type
// and topic, per measure, a <section> with the measure's definition, the
// national figure and its coverage, the variation and assurance icons of
// its SPC summary, the learning linked to it, a table of the
// collaboratives' figures with coverage, and
//   - when the measure has `spc_points`: exactly one
//     <svg class="spc-chart" data-measure-id="ID" role="img"> (points and
//     line, mean, process limits labelled with their values, near limits,
//     a step at each rebase labelled with its reason and author, special
//     causes by colour AND shape, chart learning as numbered markers, the
//     target) followed by its data table; otherwise a paragraph saying
//     there is no chart yet (no <svg class="spc-chart">);
//   - when it has a `funnel`: one <svg class="funnel-plot"
//     data-measure-id="ID" role="img"> (collaboratives by denominator and
//     value, the national centre line, 95% and 99.8% limits computed with
//     spc::FunnelLimitsAt, units outside a band marked by shape and label)
//     followed by its data table.
// Then learning per collaborative and topic; coverage and outstanding
// returns per month of the quarter; sign-offs with the revisions since
// each; the publication note with its revisions. "No revisions" is said
// when a list of revisions is empty.
std::string RenderHtml(const v1::QuarterlyReport& report);

// A rendering and its media type.
struct Rendered {
  std::string bytes;
  // "text/plain; charset=utf-8", "application/json",
  // "text/csv; charset=utf-8" or "text/html; charset=utf-8"; empty with
  // empty bytes for
  // REPORT_FORMAT_UNSPECIFIED (and any unknown format).
  std::string content_type;
};

Rendered Render(const v1::QuarterlyReport& report, v1::ReportFormat format);

}  // namespace psc::report
