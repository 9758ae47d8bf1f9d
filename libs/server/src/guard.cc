#include "psc/server/guard.h"

#include "psc/domain/strings.h"

namespace psc::server {
namespace {

constexpr Grant N = Grant::kNone;
constexpr Grant S = Grant::kScoped;
constexpr Grant A = Grant::kAll;

struct Row {
  Rpc rpc;
  std::string_view name;
  Grant feed, collaborative, national, observer;
  // What the scope is, for the scoped cells.
  std::string_view scope;
};

// The access matrix. Writes are the act of one role each: feeds and
// collaboratives submit, the national team publishes and manages the
// catalogue; nobody both submits and publishes.
constexpr std::array<Row, kRpcCount> kMatrix = {{
    {Rpc::kSubmitObservations, "psc.v1.IngestService/SubmitObservations", S, S, N, N,
     "every row's organisation: listed by the feed; in the collaborative in the row's month"},
    {Rpc::kWithdrawObservations, "psc.v1.IngestService/WithdrawObservations", S, S, N, N,
     "every key's organisation, as for submissions"},
    {Rpc::kShareLearning, "psc.v1.IngestService/ShareLearning", N, S, N, N,
     "the learning's collaborative is the principal's"},
    {Rpc::kEraseLearning, "psc.v1.IngestService/EraseLearning", N, S, A, N,
     "learning its collaborative shared"},
    {Rpc::kSignOffQuarter, "psc.v1.PublicationService/SignOffQuarter", N, S, N, N,
     "the principal's own collaborative"},
    {Rpc::kGetCatalogue, "psc.v1.CatalogService/GetCatalogue", A, A, A, N, ""},
    {Rpc::kGetStatus, "psc.v1.QueryService/GetStatus", A, A, A, A, ""},
    {Rpc::kGetReceipt, "psc.v1.QueryService/GetReceipt", S, S, A, N,
     "receipts of the principal's own requests"},
    {Rpc::kGetSeries, "psc.v1.QueryService/GetSeries", N, S, A, N,
     "the collaborative's series, or one of its organisations' over months it was a member"},
    {Rpc::kGetSpcChart, "psc.v1.QueryService/GetSpcChart", N, S, A, N, "as for GetSeries"},
    {Rpc::kGetValueHistory, "psc.v1.QueryService/GetValueHistory", N, S, A, N,
     "the key's organisation is in the collaborative in the key's month"},
    {Rpc::kListOutstandingReturns, "psc.v1.QueryService/ListOutstandingReturns", N, S, A, N,
     "collaborative_id set to the principal's own"},
    {Rpc::kGetFunnel, "psc.v1.QueryService/GetFunnel", N, S, A, N,
     "the funnel of collaboratives (aggregates only), or of its own organisations"},
    {Rpc::kGetPublication, "psc.v1.PublicationService/GetPublication", N, A, A, S,
     "publications marked public"},
    {Rpc::kGetQuarterlyReport, "psc.v1.QueryService/GetQuarterlyReport", N, N, A, N, ""},
    {Rpc::kListAudit, "psc.v1.QueryService/ListAudit", N, N, A, N, ""},
    {Rpc::kChangeCatalogue, "psc.v1.CatalogService/ChangeCatalogue", N, N, A, N, ""},
    {Rpc::kChangeSpcLimits, "psc.v1.CatalogService/ChangeSpcLimits", N, N, A, N, ""},
    {Rpc::kPublishQuarter, "psc.v1.PublicationService/PublishQuarter", N, N, A, N, ""},
}};

const Row& RowOf(Rpc rpc) { return kMatrix[static_cast<size_t>(rpc)]; }

std::string_view RoleName(v1::Role role) {
  switch (role) {
    case v1::ROLE_FEED: return "feed";
    case v1::ROLE_COLLABORATIVE: return "collaborative";
    case v1::ROLE_NATIONAL: return "national";
    case v1::ROLE_OBSERVER: return "observer";
    default: return "none";
  }
}

}  // namespace

std::string_view RpcName(Rpc rpc) { return RowOf(rpc).name; }

Grant GrantOf(v1::Role role, Rpc rpc) {
  const Row& row = RowOf(rpc);
  switch (role) {
    case v1::ROLE_FEED: return row.feed;
    case v1::ROLE_COLLABORATIVE: return row.collaborative;
    case v1::ROLE_NATIONAL: return row.national;
    case v1::ROLE_OBSERVER: return row.observer;
    default: return Grant::kNone;
  }
}

std::string AccessMatrixMarkdown() {
  auto cell = [](Grant g) -> std::string_view {
    return g == Grant::kAll ? "yes" : g == Grant::kScoped ? "scoped" : "-";
  };
  std::string out = "| RPC | feed | collaborative | national | observer | scoped means |\n";
  StrAppend(&out, "|---|---|---|---|---|---|\n");
  for (const Row& row : kMatrix) {
    StrAppend(&out, "| `", row.name, "` | ", cell(row.feed), " | ", cell(row.collaborative), " | ",
              cell(row.national), " | ", cell(row.observer), " | ", row.scope, " |\n");
  }
  return out;
}

Caller Caller::Local() {
  access::Principal local;
  local.name = "local";
  return Caller(std::move(local), Grant::kAll);
}

absl::Status Caller::Denied(std::string_view field, std::string_view why) const {
  return absl::PermissionDeniedError(
      StrCat(field, ": outside the scope of principal ", Quote(name()), " (", why, ")"));
}

absl::Status Caller::MayActFor(const Catalogue& catalogue, std::string_view ods_code,
                               std::optional<Month> month, std::string_view field) const {
  if (unrestricted()) return absl::OkStatus();
  switch (role()) {
    case v1::ROLE_FEED:
      if (principal_.Lists(ods_code)) return absl::OkStatus();
      return Denied(field, StrCat("the feed does not list organisation ", Quote(ods_code)));
    case v1::ROLE_COLLABORATIVE: {
      const std::string& own = principal_.collaborative_id;
      if (month.has_value()) {
        const std::string* of = catalogue.CollaborativeOf(ods_code, *month);
        if (of != nullptr && *of == own) return absl::OkStatus();
        return Denied(field, StrCat("organisation ", Quote(ods_code), " is not in collaborative ",
                                    Quote(own), " in ", month->ToString()));
      }
      if (catalogue.EverMemberOf(ods_code, own)) return absl::OkStatus();
      return Denied(field,
                    StrCat("organisation ", Quote(ods_code),
                           " has never been in collaborative ", Quote(own)));
    }
    default:
      return Denied(field, StrCat("the ", RoleName(role()), " role acts for no organisation"));
  }
}

absl::Status Caller::MayActForCollaborative(std::string_view id, std::string_view field) const {
  if (unrestricted()) return absl::OkStatus();
  if (role() == v1::ROLE_COLLABORATIVE && principal_.collaborative_id == id) {
    return absl::OkStatus();
  }
  if (role() == v1::ROLE_COLLABORATIVE && id.empty()) {
    return Denied(field, StrCat("set it to ", Quote(principal_.collaborative_id),
                                ": figures of every collaborative are the national role's"));
  }
  if (role() == v1::ROLE_COLLABORATIVE) {
    return Denied(field, StrCat("it acts for collaborative ", Quote(principal_.collaborative_id),
                                ", not ", Quote(id)));
  }
  return Denied(field, StrCat("the ", RoleName(role()), " role acts for no collaborative"));
}

absl::Status Caller::Made(std::string_view principal, std::string_view field) const {
  if (unrestricted() || principal == name()) return absl::OkStatus();
  return Denied(field, "another principal made it");
}

Guard::Guard(access::PolicyFile& policy, const Clock& clock)
    : authenticator_(std::make_unique<Authenticator>(policy)),
      limiter_(std::make_unique<access::RateLimiter>(clock)) {}

absl::StatusOr<Caller> Guard::Admit(const grpc::ServerContext& context, Rpc rpc) const {
  if (!enforcing()) return Caller::Local();
  auto principal = authenticator_->Authenticate(context);
  if (!principal.ok()) return principal.status();
  // Refused calls count too: a principal probing what it may not do is
  // held to its rate like any other.
  if (auto s = limiter_->Take(*principal); !s.ok()) return s;
  const Grant grant = GrantOf(principal->role, rpc);
  if (grant == Grant::kNone) {
    return absl::PermissionDeniedError(StrCat("principal ", Quote(principal->name), " (role ",
                                              RoleName(principal->role), ") may not call ",
                                              RpcName(rpc)));
  }
  return Caller(std::move(*principal), grant);
}

}  // namespace psc::server
