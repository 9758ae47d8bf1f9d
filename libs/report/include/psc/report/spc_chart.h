// XmR charts of the read model's monthly series (Making Data Count rules,
// libs/spc): the full chart of one series, and the summary the quarterly
// report shows beside each measure.
#pragma once

#include "absl/status/statusor.h"
#include "psc/projection/read_model.h"
#include "psc/v1/query.pb.h"

namespace psc::report {

// The chart of the series GetSeries would return for `request`. National
// and collaborative counts are charted per enrolled organisation; ratios,
// proportions and an organisation's own values as they are.
absl::StatusOr<v1::SpcChart> BuildSpcChart(const projection::View& view,
                                           const v1::GetSeriesRequest& request);

}  // namespace psc::report
