#include "psc/report/spc_chart.h"

#include <vector>

#include "psc/report/report.h"
#include "psc/spc/spc.h"

namespace psc::report {

absl::StatusOr<v1::SpcChart> BuildSpcChart(const projection::View& view,
                                           const v1::GetSeriesRequest& request) {
  auto series = BuildSeries(view, request);
  if (!series.ok()) return series.status();
  const v1::Measure& measure = series->measure();
  const bool per_organisation =
      measure.unit() == v1::UNIT_COUNT && request.scope_case() != v1::GetSeriesRequest::kOdsCode;

  std::vector<spc::Point> points;
  for (const v1::SeriesPoint& p : series->points()) {
    if (!p.figure().has_value()) continue;
    double value = p.figure().value();
    if (per_organisation) {
      if (p.figure().coverage().expected() <= 0) continue;
      value /= static_cast<double>(p.figure().coverage().expected());
    }
    points.push_back({*Month::Parse(p.month()), value});
  }

  v1::SpcChart chart;
  *chart.mutable_measure() = measure;
  chart.set_collaborative_id(series->collaborative_id());
  chart.set_ods_code(series->ods_code());
  chart.set_as_of_position(series->as_of_position());
  v1::SpcSummary* summary = chart.mutable_summary();
  summary->set_per_organisation(per_organisation);
  if (points.empty()) {
    summary->set_variation("common_cause");
    summary->set_assurance("none");
    return chart;
  }
  auto xmr = spc::BuildXmrChart(points, spc::OptionsFor(measure));
  if (!xmr.ok()) return xmr.status();
  for (const spc::ChartPoint& p : xmr->points) {
    v1::SpcPoint* out = chart.add_points();
    out->set_month(p.month.ToString());
    out->set_value(p.value);
    out->set_mean(p.limits.mean);
    out->set_lower_process_limit(p.limits.lower_process);
    out->set_upper_process_limit(p.limits.upper_process);
    out->set_lower_near_limit(p.limits.lower_near);
    out->set_upper_near_limit(p.limits.upper_near);
    out->set_segment(p.segment);
    if (p.special_cause) {
      out->set_special_cause(std::string(spc::Name(p.special_cause->rule)));
      out->set_classification(std::string(spc::Name(p.special_cause->classification)));
    }
  }
  const spc::Segment& latest = xmr->segments.back();
  summary->set_points(static_cast<int32_t>(xmr->points.size()));
  summary->set_variation(std::string(spc::Name(xmr->variation)));
  summary->set_assurance(std::string(spc::Name(xmr->assurance)));
  summary->set_mean(latest.limits.mean);
  summary->set_lower_process_limit(latest.limits.lower_process);
  summary->set_upper_process_limit(latest.limits.upper_process);
  summary->set_trial_limits(latest.trial_limits);
  return chart;
}

}  // namespace psc::report
