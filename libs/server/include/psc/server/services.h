// The gRPC services of psc.v1, thin over the gateway (write side) and the
// read model (read side). Each parses its own requests (ParsingService:
// what cannot be parsed is INVALID_ARGUMENT, never INTERNAL) and serves
// every method of its proto. Every handler first has the guard admit its
// caller and checks the rows and objects it touches against the caller's
// scope (see guard.h), then turns its request into a call on the domain
// objects and maps the absl::Status it gets back; no other rules live
// here.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "psc/report/cache.h"
#include "psc/gateway/gateway.h"
#include "psc/projection/read_model.h"
#include "psc/v1/catalog_service.grpc.pb.h"
#include "psc/v1/ingest.grpc.pb.h"
#include "psc/domain/clock.h"
#include "psc/eventlog/event_log.h"
#include "psc/server/guard.h"
#include "psc/server/parsing_service.h"
#include "psc/v1/publication.grpc.pb.h"
#include "psc/v1/query.grpc.pb.h"

namespace psc::server {

// The longest a request waits for a min_position when the client set no
// deadline.
inline constexpr std::chrono::seconds kMaxPositionWait{30};
// Trailing metadata of GetQuarterlyReport: "report;dur=<ms>", the time the
// server spent on the call after its min_position wait.
inline constexpr std::string_view kServerTimingKey = "server-timing";

class IngestServiceImpl final : public ParsingService {
 public:
  IngestServiceImpl(gateway::Gateway& gateway, const Guard& guard);
  grpc::Status SubmitObservations(grpc::ServerContext* context,
                                  const v1::SubmitObservationsRequest* request,
                                  v1::Receipt* response);
  grpc::Status ShareLearning(grpc::ServerContext* context, const v1::ShareLearningRequest* request,
                             v1::Receipt* response);
  grpc::Status WithdrawObservations(grpc::ServerContext* context,
                                    const v1::WithdrawObservationsRequest* request,
                                    v1::Receipt* response);
  grpc::Status EraseLearning(grpc::ServerContext* context, const v1::EraseLearningRequest* request,
                             v1::Receipt* response);

 private:
  gateway::Gateway& gateway_;
  const Guard& guard_;
};

class CatalogServiceImpl final : public ParsingService {
 public:
  CatalogServiceImpl(gateway::Gateway& gateway, const Guard& guard);
  grpc::Status ChangeCatalogue(grpc::ServerContext* context,
                               const v1::ChangeCatalogueRequest* request,
                               v1::Receipt* response);
  grpc::Status GetCatalogue(grpc::ServerContext* context, const v1::GetCatalogueRequest* request,
                            v1::Catalogue* response);
  grpc::Status ChangeSpcLimits(grpc::ServerContext* context,
                               const v1::ChangeSpcLimitsRequest* request,
                               v1::Receipt* response);

 private:
  gateway::Gateway& gateway_;
  const Guard& guard_;
};

class QueryServiceImpl final : public ParsingService {
 public:
  // The audit trail is read from `log`, the log the read model folds.
  QueryServiceImpl(projection::ReadModel& model, eventlog::EventLog& log, const Guard& guard);
  grpc::Status GetQuarterlyReport(grpc::ServerContext* context,
                                  const v1::GetQuarterlyReportRequest* request,
                                  v1::GetQuarterlyReportResponse* response);
  grpc::Status GetSeries(grpc::ServerContext* context, const v1::GetSeriesRequest* request,
                         v1::Series* response);
  grpc::Status GetReceipt(grpc::ServerContext* context, const v1::GetReceiptRequest* request,
                          v1::Receipt* response);
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::ProjectionStatus* response);
  grpc::Status GetSpcChart(grpc::ServerContext* context, const v1::GetSeriesRequest* request,
                           v1::SpcChart* response);
  grpc::Status GetValueHistory(grpc::ServerContext* context,
                               const v1::GetValueHistoryRequest* request,
                               v1::ValueHistory* response);
  grpc::Status ListOutstandingReturns(grpc::ServerContext* context,
                                      const v1::ListOutstandingReturnsRequest* request,
                                      v1::OutstandingReturns* response);

  grpc::Status GetFunnel(grpc::ServerContext* context, const v1::GetFunnelRequest* request,
                         v1::Funnel* response);
  grpc::Status ListAudit(grpc::ServerContext* context, const v1::ListAuditRequest* request,
                         v1::AuditTrail* response);

 private:
  projection::ReadModel& model_;
  eventlog::EventLog& log_;
  const Guard& guard_;
  // The reports last built, by quarter, at their positions.
  report::ReportCache reports_;
};

// Publication: served where a read model is, appending to the log it
// folds.
class PublicationServiceImpl final : public ParsingService {
 public:
  PublicationServiceImpl(projection::ReadModel& model, eventlog::EventLog& log, const Clock& clock,
                         const Guard& guard);
  grpc::Status PublishQuarter(grpc::ServerContext* context,
                              const v1::PublishQuarterRequest* request,
                              v1::Receipt* response);
  grpc::Status GetPublication(grpc::ServerContext* context,
                              const v1::GetPublicationRequest* request,
                              v1::Publication* response);
  grpc::Status SignOffQuarter(grpc::ServerContext* context,
                              const v1::SignOffQuarterRequest* request,
                              v1::Receipt* response);

 private:
  // Checks `id` (named `id_field`) and the quarter, waits for min_position,
  // then, one at a time per process: a known id answers its original
  // receipt (PERMISSION_DENIED when another principal made it); otherwise `build` makes the event from one view of the read
  // model, it is appended, and the answer (`rows` of it) comes once this
  // read model has applied it.
  grpc::Status AppendFromReadModel(
      grpc::ServerContext& context, const Caller& caller, const std::string& id, const char* id_field,
      const std::string& quarter_text, uint64_t min_position,
      const std::function<absl::StatusOr<v1::Envelope>(const projection::View&, Quarter)>& build,
      const std::function<int(const v1::Envelope&)>& rows, v1::Receipt* response);

  projection::ReadModel& model_;
  eventlog::EventLog& log_;
  const Clock& clock_;
  const Guard& guard_;
  std::mutex publish_mu_;  // one publication or sign-off at a time per process
};

// When a wait for a position must end: the call's deadline, at most
// kMaxPositionWait from now.
std::chrono::steady_clock::time_point WaitDeadline(const grpc::ServerContext& context);

// OK once the read model has applied `position` (0: at once);
// DEADLINE_EXCEEDED, saying how far it is, when the wait ends first.
grpc::Status AwaitReadModel(const projection::ReadModel& model, const grpc::ServerContext& context,
                            uint64_t position);

}  // namespace psc::server
