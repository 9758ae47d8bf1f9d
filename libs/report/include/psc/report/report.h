// The quarterly national aggregate and monthly series of a measure, built
// from one consistent view of the read model. Pure functions of the view:
// no clock, no configuration, so the same log position always gives the same
// report (DESIGN invariant 4).
//
// Figures (psc.v1.Figure):
//   numerator, denominator  integer sums over the period. AGGREGATION_SUM and
//                           AGGREGATION_RATIO add every organisation-month;
//                           AGGREGATION_LAST takes, per organisation, its
//                           latest month in the quarter with a value
//                           (numerator and denominator together) and adds
//                           those. Denominator is 0 for counts.
//   value                   DisplayValue() of the sums; absent when nothing
//                           was reported or a ratio's denominator is 0.
//   coverage.reported       organisation-months with a value in the period,
//                           for every rule. For AGGREGATION_LAST this is NOT
//                           the number of organisations behind the figure
//                           (the read model's quarters_last `reported`): it
//                           counts every month reported, so that it compares
//                           like for like with `expected`.
//   coverage.expected       organisation-months enrolled in the period.
//
// Thread-safety: the functions read only the view they are given; callers
// hold the view (and its shared lock) for the duration of the call.
#pragma once

#include "absl/status/statusor.h"
#include "psc/domain/period.h"
#include "psc/projection/read_model.h"
#include "psc/report/render.h"
#include "psc/v1/query.pb.h"

namespace psc::report {

// The national aggregate of `quarter`: every measure of the catalogue,
// grouped by type (input, process, outcome, balancing; types without
// measures omitted), then by topic id, then by measure id. Each measure has
// its national figure and one figure per collaborative that has
// organisations enrolled for it in any month of the quarter (or, should the
// log ever hold them, values), by collaborative id. `collaboratives` lists
// every collaborative of the catalogue by id; `as_of_position` is the view's
// position.
//
// Errors: INVALID_ARGUMENT (field `quarter`) when the quarter lies outside
// the years the service accepts.
absl::StatusOr<v1::QuarterlyReport> BuildQuarterlyReport(const projection::View& view,
                                                         Quarter quarter);

// Monthly figures of one measure for the nation (no scope), a collaborative
// or an organisation, for every month in [from_month, to_month] inclusive,
// months without data included (no value, coverage 0 of the enrolled).
// An empty from_month defaults to the first month with data in that scope,
// an empty to_month to the last; when a default cannot be taken (no data) or
// the defaulted range is empty, the series has no points. Coverage per
// month: expected is the organisations enrolled in that month within the
// scope (0 or 1 for an organisation).
//
// Errors:
//   INVALID_ARGUMENT  with google.rpc.BadRequest field violations:
//                     `measure_id` empty (REQUIRED), `collaborative_id` or
//                     `ods_code` set but empty (REQUIRED), `from_month` or
//                     `to_month` not `YYYY-MM` (MALFORMED_MONTH),
//                     `from_month` after `to_month` (INVALID_RANGE);
//   NOT_FOUND         unknown measure, collaborative or organisation, named
//                     in the message;
//   errors of View::Observations for an organisation's series.
absl::StatusOr<v1::Series> BuildSeries(const projection::View& view,
                                       const v1::GetSeriesRequest& request);

// The funnel plot of a ratio measure (AGGREGATION_RATIO with a denominator)
// for a quarter: the collaboratives by id, or with `collaborative_id` the
// organisations that belonged to it in some month of the quarter (summing
// only those months), by ODS code; units without a denominator are left
// out. The centre is always the national value of the quarter.
//
// Errors: INVALID_ARGUMENT with field violations (`measure_id` empty or not
// a ratio, `quarter` malformed); NOT_FOUND for an unknown measure or
// collaborative; FAILED_PRECONDITION when the nation has no denominator in
// the quarter.
absl::StatusOr<v1::Funnel> BuildFunnelPlot(const projection::View& view,
                                           const v1::GetFunnelRequest& request);

}  // namespace psc::report
