#include "psc/report/spc_chart.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

#include "psc/report/report.h"
#include "psc/spc/spc.h"

namespace psc::report {
namespace {

// The options of a measure's chart with the series' limits changes folded in
// log order: a rebase per month (the latest reason and author of that month
// win), and the latest fix (-1 clears it).
absl::StatusOr<spc::XmrOptions> ChartOptions(const projection::View& view,
                                             const v1::Measure& measure,
                                             const v1::GetSeriesRequest& request) {
  spc::XmrOptions options = spc::OptionsFor(measure);
  auto changes =
      view.SpcLimitChanges(measure.id(), request.collaborative_id(), request.ods_code());
  if (!changes.ok()) return changes.status();
  std::map<Month, spc::Rebase> rebases;
  for (const v1::Envelope& e : *changes) {
    const v1::SpcLimitsChanged& c = e.spc_limits_changed();
    if (auto month = Month::Parse(c.rebase_month())) {
      rebases[*month] = spc::Rebase{*month, c.reason(), e.principal()};
    }
    if (c.fix_after_points() == -1) options.fix_after_points.reset();
    if (c.fix_after_points() >= 2) options.fix_after_points = c.fix_after_points();
  }
  for (auto& [_, rebase] : rebases) options.rebases.push_back(std::move(rebase));
  return options;
}

}  // namespace

void FillChartLearning(const std::vector<v1::Learning>& learning, const std::string& measure_id,
                       const std::string& collaborative_id, Month from, Month to,
                       google::protobuf::RepeatedPtrField<v1::LearningItem>* out) {
  std::vector<v1::LearningItem> items;
  for (const v1::Learning& l : learning) {
    if (!collaborative_id.empty() && l.collaborative_id() != collaborative_id) continue;
    auto month = Month::Parse(l.month());
    if (!month || *month < from || *month > to) continue;
    bool linked = false;
    for (const auto& m : l.measure_ids()) linked = linked || m == measure_id;
    if (!linked) continue;
    items.push_back(LearningItemOf(l));
  }
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
    return std::tie(a.month(), a.learning_id()) < std::tie(b.month(), b.learning_id());
  });
  for (auto& item : items) *out->Add() = std::move(item);
}

absl::StatusOr<v1::SpcChart> BuildSpcChart(const projection::View& view,
                                           const v1::GetSeriesRequest& request,
                                           const std::vector<v1::Learning>* learning) {
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
  auto options = ChartOptions(view, measure, request);
  if (!options.ok()) return options.status();
  auto xmr = spc::BuildXmrChart(points, *options);
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
  for (const spc::Segment& seg : xmr->segments) {
    v1::SpcSegment* out = chart.add_segments();
    out->set_first_month(seg.first_month.ToString());
    out->set_last_month(seg.last_month.ToString());
    out->set_points(seg.points);
    out->set_base_points(seg.base_points);
    out->set_trial_limits(seg.trial_limits);
    out->set_mean(seg.limits.mean);
    out->set_lower_process_limit(seg.limits.lower_process);
    out->set_upper_process_limit(seg.limits.upper_process);
    if (seg.rebase) {
      out->set_rebase_reason(seg.rebase->reason);
      out->set_rebase_author(seg.rebase->author);
    }
    out->set_fixed_after_points(seg.fixed_after.value_or(0));
  }
  // Changes made, marked on the chart: linked learning of the scope's
  // collaborative (an organisation's: the one it belonged to at the end).
  std::vector<v1::Learning> read;
  if (learning == nullptr) {
    auto all = view.Learning();
    if (!all.ok()) return all.status();
    read = std::move(*all);
    learning = &read;
  }
  std::string collaborative = request.collaborative_id();
  if (!request.ods_code().empty()) {
    const std::string* c = view.catalogue().CollaborativeOf(request.ods_code(), points.back().month);
    if (c != nullptr) collaborative = *c;
  }
  FillChartLearning(*learning, measure.id(), collaborative, points.front().month,
                    points.back().month, chart.mutable_learning());

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
