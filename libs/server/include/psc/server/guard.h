// What a caller may do: every RPC asks the guard to admit its caller
// (authenticated, under its request rate, its role allowed the RPC), then
// checks each row and object it touches against the caller's scope.
//
// The embedded single-user default has no policy: every caller is `local`
// with every right, and the server listens on loopback only.
#pragma once

#include <grpcpp/grpcpp.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "psc/access/policy.h"
#include "psc/access/rate_limiter.h"
#include "psc/domain/catalogue.h"
#include "psc/domain/clock.h"
#include "psc/domain/period.h"
#include "psc/server/auth.h"

namespace psc::server {

// Every RPC of psc.v1, in the order of the access matrix.
enum class Rpc {
  kSubmitObservations,
  kWithdrawObservations,
  kShareLearning,
  kEraseLearning,
  kSignOffQuarter,
  kGetCatalogue,
  kGetStatus,
  kGetReceipt,
  kGetSeries,
  kGetSpcChart,
  kGetValueHistory,
  kListOutstandingReturns,
  kGetFunnel,
  kGetPublication,
  kGetQuarterlyReport,
  kListAudit,
  kChangeCatalogue,
  kChangeSpcLimits,
  kPublishQuarter,
};
inline constexpr int kRpcCount = static_cast<int>(Rpc::kPublishQuarter) + 1;

// `psc.v1.IngestService/SubmitObservations`.
std::string_view RpcName(Rpc rpc);

// What a role may do with an RPC.
enum class Grant {
  kNone,    // refused: PERMISSION_DENIED
  kScoped,  // allowed for the rows and objects inside the principal's scope
  kAll,     // allowed for everything
};
Grant GrantOf(v1::Role role, Rpc rpc);

// The matrix as a Markdown table, with what each scoped cell means; the
// docs print exactly this (a test holds them equal).
std::string AccessMatrixMarkdown();

// An admitted caller of one RPC.
class Caller {
 public:
  // The single-user `local`, with every right.
  static Caller Local();
  Caller(access::Principal principal, Grant grant)
      : principal_(std::move(principal)), grant_(grant) {}

  // Recorded in the events the call causes.
  const std::string& name() const { return principal_.name; }
  v1::Role role() const { return principal_.role; }
  // True when no row or object of the call needs checking.
  bool unrestricted() const { return grant_ == Grant::kAll; }

  // OK when the caller may act for organisation `ods_code` in `month`: a
  // feed lists it; a collaborative's catalogue membership holds it that
  // month (any month when `month` is not given). Otherwise
  // PERMISSION_DENIED naming `field`.
  absl::Status MayActFor(const Catalogue& catalogue, std::string_view ods_code,
                         std::optional<Month> month, std::string_view field) const;
  // OK when the caller acts for collaborative `id`; otherwise
  // PERMISSION_DENIED naming `field`.
  absl::Status MayActForCollaborative(std::string_view id, std::string_view field) const;
  // OK when the caller made the request `principal` recorded (or may read
  // everything); otherwise PERMISSION_DENIED naming `field`.
  absl::Status Made(std::string_view principal, std::string_view field) const;
  // PERMISSION_DENIED: `field` is outside this caller's scope, because
  // `why`.
  absl::Status Denied(std::string_view field, std::string_view why) const;

 private:
  access::Principal principal_;
  Grant grant_;
};

class Guard {
 public:
  // The single-user default: every caller is `local` with every right.
  Guard() = default;
  // Callers as the policy says, limited to their request rates by `clock`.
  Guard(access::PolicyFile& policy, const Clock& clock);

  // The caller of `rpc`: UNAUTHENTICATED without a principal,
  // RESOURCE_EXHAUSTED over its rate, PERMISSION_DENIED when its role may
  // not call `rpc`.
  absl::StatusOr<Caller> Admit(const grpc::ServerContext& context, Rpc rpc) const;
  bool enforcing() const { return authenticator_ != nullptr; }

 private:
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<access::RateLimiter> limiter_;
};

}  // namespace psc::server
