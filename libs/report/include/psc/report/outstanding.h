// Outstanding returns: for one month, every (organisation, measure) pair an
// organisation is enrolled for and has no value for, grouped by
// collaborative, with the counts behind completeness and timeliness.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "psc/domain/period.h"
#include "psc/projection/read_model.h"
#include "psc/v1/query.pb.h"

namespace psc::report {

// INVALID_ARGUMENT for a malformed month; NOT_FOUND for an unknown
// collaborative.
absl::StatusOr<v1::OutstandingReturns> BuildOutstandingReturns(
    const projection::View& view, const v1::ListOutstandingReturnsRequest& request);

// The same for every collaborative and each of `months`, walking the
// catalogue's enrolments once for all of them (the quarterly report's
// section).
absl::StatusOr<std::vector<v1::OutstandingReturns>> BuildOutstandingReturns(
    const projection::View& view, const std::vector<Month>& months);

}  // namespace psc::report
