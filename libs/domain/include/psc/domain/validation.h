// Validation of submissions against the catalogue. Pure: the caller passes
// the catalogue and the current month (Europe/London).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "psc/domain/catalogue.h"
#include "psc/domain/period.h"
#include "psc/v1/events.pb.h"

namespace psc {

struct SubmissionLimits {
  size_t max_rows = 10'000;
  size_t max_bytes = 4 * 1024 * 1024;
};

// Largest numerator or denominator accepted. Keeps every sum far inside
// int64 (50M observations x 1e9 < 2^63).
inline constexpr int64_t kMaxCount = 1'000'000'000;

// RESOURCE_EXHAUSTED, with a BadRequest naming `field` (reason
// TOO_MANY_ROWS or TOO_LARGE), when a request (a `what`) has more than
// limits.max_rows rows or is larger than limits.max_bytes bytes (0: not
// measured). Checked before anything else about the request.
absl::Status CheckBounds(int rows, size_t request_bytes, std::string_view field,
                         std::string_view what, const SubmissionLimits& limits);

// Checks a batch of observations: the bounds (CheckBounds), then the
// submission id and every row (known organisation and measure, enrolment
// in that month, month well-formed and not after `current_month`, counts in range, denominator
// present exactly when the unit has one, numerator <= denominator for
// proportions, no key twice). `request_bytes` is the size of the request as
// received. Returns INVALID_ARGUMENT naming every bad row and field as
// `rows[i].<field>`.
//
// Replaying the log must not depend on the clock or on limits configured
// later: readers of the log pass no current month (no future check) and
// unlimited limits.
absl::Status ValidateObservations(const Catalogue& catalogue, const v1::ObservationsSubmitted& batch,
                                  size_t request_bytes, std::optional<Month> current_month,
                                  const SubmissionLimits& limits = {});

// Checks a withdrawal: the bounds (CheckBounds), id, reason, 1..max_rows keys naming registered
// organisations and measures and well-formed months, no key twice. Whether
// a value is stored under a key is not checked: withdrawing nothing is a
// no-op. Fields are named `keys[i].<field>`.
absl::Status ValidateWithdrawal(const Catalogue& catalogue, const v1::ObservationsWithdrawn& w,
                                const SubmissionLimits& limits = {});

// Checks a publication: id, quarter, a report and renderings present, and
// every rendering's hash matching its bytes. Fields named as in
// QuarterPublished.
absl::Status ValidatePublication(const v1::QuarterPublished& published);

// Checks a collaborative's sign-off: id, quarter, a registered
// collaborative, and figures naming defined measures, each at most once.
// Fields named as in QuarterSignedOff.
absl::Status ValidateSignOff(const Catalogue& catalogue, const v1::QuarterSignedOff& s);

// Checks a change of an XmR chart's limits: id; a defined measure; a
// registered collaborative or organisation when scoped; a well-formed
// rebase_month; fix_after_points 0, -1 or >= 2; a rebase or a fix (or both);
// a reason of 1..500 characters. Fields are named `<prefix><field>`.
absl::Status ValidateSpcLimitsChange(const Catalogue& catalogue, const v1::SpcLimitsChanged& c,
                                     std::string_view prefix = "");

// Limits that never refuse: for replaying events already on the log.
inline constexpr SubmissionLimits kNoLimits{SIZE_MAX, SIZE_MAX};

// Checks a learning submission: ids, collaborative, topic, kind, month,
// text lengths, linked measures, and that no free text holds an NHS number.
// Without `check_text` (a learning read back from the log, whose text is
// sealed apart from it), the free text is not looked at.
absl::Status ValidateLearning(const Catalogue& catalogue, const v1::Learning& learning,
                              std::optional<Month> current_month, bool check_text = true);

// Checks an erasure request: its id, the learning id and the reason.
// Whether the learning exists is the caller's to check.
absl::Status ValidateErasure(const v1::LearningErased& erasure);

}  // namespace psc
