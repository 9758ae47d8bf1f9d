// Shared fixtures for tests: a small catalogue whose figures can be worked
// out by hand, and builders for requests. Test-only library.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "psc/v1/catalog.pb.h"
#include "psc/v1/events.pb.h"

namespace psc::testing {

// Two collaboratives, four organisations, five measures (one per aggregation
// rule and unit), enrolled from 2024-01:
//   wessex: RHM (acute), RDZ (acute); oxford: RTH (acute), R1A (community)
//   falls-harm-rate.v1   outcome    rate per 1,000 bed days, ratio, down
//   falls-count.v1       outcome    count, sum, down
//   news2-on-time.v1     process    proportion, ratio, up (R1A not enrolled)
//   staff-trained.v1     input      count, last, up
//   cc-admissions.v1     balancing  count, sum, neither
// RTH's falls-count.v1 enrolment ends 2024-06.
v1::CatalogueChanged SmallCatalogue(const std::string& change_id = "catalogue-1");

v1::Observation Obs(const std::string& ods, const std::string& measure, const std::string& month,
                    int64_t numerator, std::optional<int64_t> denominator = std::nullopt);

v1::ObservationsSubmitted Batch(const std::string& submission_id,
                                std::vector<v1::Observation> rows);

v1::ObservationKey Key(const std::string& ods, const std::string& measure,
                       const std::string& month);
v1::ObservationsWithdrawn Withdrawal(const std::string& id, std::vector<v1::ObservationKey> keys,
                                     const std::string& reason = "entered in error");

// A case study shared by `collaborative` on `topic` for `month` (YYYY-MM),
// valid against SmallCatalogue(), linked to no measure.
v1::Learning LearningOf(const std::string& id, const std::string& collaborative,
                        const std::string& topic, const std::string& month);

// Serialized envelopes, as a gateway would append them (recorded at a fixed
// instant, 2024-10-27, principal "test").
std::string EventOf(const v1::CatalogueChanged& change);
std::string EventOf(const v1::ObservationsSubmitted& batch);
std::string EventOf(const v1::Learning& learning);
std::string EventOf(const v1::ObservationsWithdrawn& withdrawal);
std::string EventOf(const v1::QuarterSignedOff& sign_off);
// A limits change recorded by `principal` (its author on the chart).
std::string EventOf(const v1::SpcLimitsChanged& change, const std::string& principal = "local");
// Recorded at `recorded_unix_seconds` by `principal`.
std::string EventOf(const v1::ObservationsSubmitted& batch, int64_t recorded_unix_seconds,
                    const std::string& principal);

}  // namespace psc::testing
