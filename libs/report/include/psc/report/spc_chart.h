// XmR charts of the read model's monthly series (Making Data Count rules,
// libs/spc): the full chart of one series, and the summary the quarterly
// report shows beside each measure.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "psc/domain/period.h"
#include "psc/projection/read_model.h"
#include "psc/v1/query.pb.h"

namespace psc::report {

// The chart of the series GetSeries would return for `request`. National
// and collaborative counts are charted per enrolled organisation; ratios,
// proportions and an organisation's own values as they are. The series'
// SpcLimitsChanged events, in log order, set its rebases (one per month:
// the latest reason and author for a month win) and its fixed limits (the
// latest fix_after_points; -1 clears it). `learning` holds the learning
// linked to the measure in the chart's months: for a collaborative's chart
// only that collaborative's, for an organisation's the collaborative it
// belonged to in the chart's last month.
// `learning`, when given, is every learning submission of the view (so a
// caller charting many series reads them once); otherwise it is read here.
absl::StatusOr<v1::SpcChart> BuildSpcChart(const projection::View& view,
                                           const v1::GetSeriesRequest& request,
                                           const std::vector<v1::Learning>* learning = nullptr);

// Appends to `out` the learning linked to `measure_id` with a month in
// [from, to] (only `collaborative_id`'s unless empty), by month then id.
void FillChartLearning(const std::vector<v1::Learning>& learning, const std::string& measure_id,
                       const std::string& collaborative_id, Month from, Month to,
                       google::protobuf::RepeatedPtrField<v1::LearningItem>* out);

// The report's listing of one learning submission.
v1::LearningItem LearningItemOf(const v1::Learning& learning);

}  // namespace psc::report
