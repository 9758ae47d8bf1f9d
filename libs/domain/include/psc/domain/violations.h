// Field-level refusals. Every refusal of bad input in the service is an
// absl::Status INVALID_ARGUMENT carrying a google.rpc.BadRequest payload (one
// FieldViolation per bad field); the gRPC layer turns that payload into the
// standard `grpc-status-details-bin` trailer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace psc {

// absl::Status payload key of the serialized google.rpc.BadRequest.
inline constexpr char kBadRequestTypeUrl[] = "type.googleapis.com/google.rpc.BadRequest";

struct FieldViolation {
  std::string field;        // e.g. "rows[3].month"
  std::string reason;       // e.g. "MONTH_IN_FUTURE"
  std::string description;  // e.g. "month 2031-01 is after ..."
  bool operator==(const FieldViolation&) const = default;
};

// Collects violations of one request; lists at most `max_listed` of them,
// and only while their text fits kMaxListedBytes (so the error stays small
// enough for gRPC trailers however many rows are bad), and counts the rest.
class Violations {
 public:
  static constexpr size_t kDefaultMaxListed = 25;
  // A listed field path and description are cut to these (with "...").
  static constexpr size_t kMaxFieldBytes = 128;
  static constexpr size_t kMaxDescriptionBytes = 320;
  // The listed violations' fields, reasons and descriptions together.
  static constexpr size_t kMaxListedBytes = 2048;
  explicit Violations(size_t max_listed = kDefaultMaxListed) : max_listed_(max_listed) {}

  void Add(std::string field, std::string reason, std::string description);
  bool empty() const { return total_ == 0; }
  size_t total() const { return total_; }
  const std::vector<FieldViolation>& listed() const { return listed_; }

  // OK when empty; otherwise `code` (INVALID_ARGUMENT unless a request
  // over a bound, RESOURCE_EXHAUSTED) with `summary` and the first
  // violation in the message, and every listed violation in the payload
  // (plus one "N more" entry when some were not listed).
  absl::Status ToStatus(std::string_view summary,
                        absl::StatusCode code = absl::StatusCode::kInvalidArgument) const;

 private:
  size_t max_listed_;
  size_t total_ = 0;
  size_t listed_bytes_ = 0;
  std::vector<FieldViolation> listed_;
};

// INVALID_ARGUMENT for a single bad field.
absl::Status InvalidField(std::string field, std::string reason, std::string description);

// The violations carried by a status (empty when it has none).
std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status);

}  // namespace psc
