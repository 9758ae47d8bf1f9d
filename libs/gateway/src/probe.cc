#include "psc/gateway/probe.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>

#include "psc/domain/violations.h"

namespace psc::gateway {
namespace {

const char* KindName(RequestKind kind) {
  switch (kind) {
    case RequestKind::kObservations:
      return "observations";
    case RequestKind::kWithdrawal:
      return "withdrawal";
    case RequestKind::kLearning:
      return "learning";
    case RequestKind::kCatalogue:
      return "catalogue";
    case RequestKind::kSpcLimits:
      return "spc_limits";
    case RequestKind::kErasure:
      return "erasure";
  }
  return "unknown";
}

bool IsReasonCode(const std::string& s) {
  return !s.empty() && s.size() <= 40 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; });
}

}  // namespace

GatewayProbe::GatewayProbe(prometheus::Registry* registry) {
  if (registry == nullptr) {
    own_ = std::make_shared<prometheus::Registry>();
    registry = own_.get();
  }
  requests_ = &prometheus::BuildCounter()
                   .Name("psc_gateway_requests_total")
                   .Help("Write requests by kind and outcome: accepted, duplicate (a known "
                         "request id, nothing appended), refused (bad input), failed (log "
                         "unavailable)")
                   .Register(*registry);
  rows_ = &prometheus::BuildCounter()
               .Name("psc_gateway_rows_total")
               .Help("Rows of write requests, accepted or refused (observations: rows; "
                     "withdrawals: keys; learning: 1; catalogue: entries)")
               .Register(*registry);
  refusals_ = &prometheus::BuildCounter()
                   .Name("psc_gateway_refusals_total")
                   .Help("Refused write requests by reason: the first field violation's reason, "
                         "or the status code")
                   .Register(*registry);
  position_ = &prometheus::BuildGauge()
                   .Name("psc_gateway_fold_position")
                   .Help("Log position of the gateway's fold (catalogue and request ids)")
                   .Register(*registry)
                   .Add({});
}

GatewayProbe::~GatewayProbe() = default;

bool GatewayProbe::IsRefusal(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

std::string GatewayProbe::ReasonOf(const absl::Status& status) {
  auto violations = FieldViolationsOf(status);
  std::string reason = violations.empty() ? absl::StatusCodeToString(status.code())
                                          : violations.front().reason;
  return IsReasonCode(reason) ? reason : "OTHER";
}

void GatewayProbe::Answered(RequestKind kind, uint32_t rows, bool ok, bool duplicate,
                            const absl::Status& status) {
  const std::string k = KindName(kind);
  if (ok) {
    requests_->Add({{"kind", k}, {"outcome", duplicate ? "duplicate" : "accepted"}}).Increment();
    if (!duplicate) rows_->Add({{"kind", k}, {"outcome", "accepted"}}).Increment(rows);
    return;
  }
  if (!IsRefusal(status)) {
    requests_->Add({{"kind", k}, {"outcome", "failed"}}).Increment();
    return;
  }
  requests_->Add({{"kind", k}, {"outcome", "refused"}}).Increment();
  rows_->Add({{"kind", k}, {"outcome", "refused"}}).Increment(rows);
  refusals_->Add({{"kind", k}, {"reason", ReasonOf(status)}}).Increment();
}

void GatewayProbe::Folded(uint64_t position) { position_->Set(static_cast<double>(position)); }

}  // namespace psc::gateway
