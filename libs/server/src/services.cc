#include "psc/server/services.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "psc/disclosure/disclosure.h"
#include "psc/domain/period.h"
#include "psc/domain/strings.h"
#include "psc/domain/validation.h"
#include "psc/domain/violations.h"
#include "psc/domain/ids.h"
#include "psc/eventlog/random_id.h"
#include "psc/report/outstanding.h"
#include "psc/report/publication.h"
#include "psc/report/report.h"
#include "psc/report/spc_chart.h"
#include "psc/server/status.h"

namespace psc::server {
namespace {

// The first of `n` items that `check(i)` refuses, saying how many in all
// were refused; OK when none is.
absl::Status FirstRefused(int n, const std::function<absl::Status(int)>& check) {
  absl::Status first;
  int refused = 0;
  for (int i = 0; i < n; ++i) {
    absl::Status s = check(i);
    if (s.ok()) continue;
    if (refused++ == 0) first = std::move(s);
  }
  if (refused <= 1) return first;
  return absl::Status(first.code(), StrCat(first.message(), "; ", refused, " of ", n,
                                           " are outside the scope"));
}

// DEADLINE_EXCEEDED unless the gateway's fold reaches `position` in time.
grpc::Status AwaitGateway(const gateway::Gateway& gateway, const grpc::ServerContext& context,
                          uint64_t position) {
  if (position == 0 || gateway.WaitFor(LogPosition(position), WaitDeadline(context))) {
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                      StrCat("the gateway has read the log to position ",
                             gateway.position().value(), ", not yet ", position));
}

// The answer to a call: the value, or the error with its details.
template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

// The quarter a request names, or INVALID_ARGUMENT on `quarter`.
absl::StatusOr<Quarter> QuarterField(const std::string& text) {
  if (auto quarter = Quarter::Parse(text)) return *quarter;
  return InvalidField("quarter", "INVALID_QUARTER",
                      StrCat(Quote(text), " is not an NHS financial quarter like 2024/25 Q1"));
}

// A series or chart request inside the caller's scope: its collaborative,
// or one of its organisations; the national series is the national role's.
absl::Status SeriesInScope(const Caller& caller, const Catalogue& catalogue,
                           const v1::GetSeriesRequest& request) {
  if (request.scope_case() == v1::GetSeriesRequest::kOdsCode) {
    return caller.MayActFor(catalogue, request.ods_code(), std::nullopt, "ods_code");
  }
  return caller.MayActForCollaborative(request.collaborative_id(), "collaborative_id");
}

// An organisation's series answered to a collaborative holds only months
// the organisation spent in that collaborative: the first month of
// `points` outside it is refused (ask for from_month..to_month within).
template <typename Points>
absl::Status MonthsInScope(const Caller& caller, const Catalogue& catalogue,
                           const v1::GetSeriesRequest& request, const Points& points) {
  if (caller.unrestricted() || request.scope_case() != v1::GetSeriesRequest::kOdsCode) {
    return absl::OkStatus();
  }
  for (const auto& point : points) {
    auto month = Month::Parse(point.month());
    if (!month) continue;
    if (auto s = caller.MayActFor(catalogue, request.ods_code(), *month, "ods_code"); !s.ok()) {
      return absl::Status(s.code(), StrCat(s.message(), "; ask for from_month..to_month within "
                                                        "its months in the collaborative"));
    }
  }
  return absl::OkStatus();
}

// One event as the audit trail shows it.
v1::AuditEntry AuditEntryOf(uint64_t position, const v1::Envelope& e) {
  v1::AuditEntry entry;
  entry.set_position(position);
  *entry.mutable_recorded_at() = e.recorded_at();
  entry.set_principal(e.principal());
  const auto* payload = e.GetDescriptor()->FindOneofByName("payload");
  if (const auto* field = e.GetReflection()->GetOneofFieldDescriptor(e, payload)) {
    entry.set_action(field->name());
  }
  uint32_t rows = 1;
  switch (e.payload_case()) {
    case v1::Envelope::kCatalogueChanged:
      entry.set_request_id(e.catalogue_changed().change_id());
      rows = EntriesIn(e.catalogue_changed());
      break;
    case v1::Envelope::kObservationsSubmitted:
      entry.set_request_id(e.observations_submitted().submission_id());
      rows = static_cast<uint32_t>(e.observations_submitted().rows_size());
      break;
    case v1::Envelope::kObservationsWithdrawn:
      entry.set_request_id(e.observations_withdrawn().withdrawal_id());
      rows = static_cast<uint32_t>(e.observations_withdrawn().keys_size());
      break;
    case v1::Envelope::kLearningShared:
      entry.set_request_id(e.learning_shared().learning().learning_id());
      break;
    case v1::Envelope::kQuarterPublished:
      entry.set_request_id(e.quarter_published().publication_id());
      break;
    case v1::Envelope::kQuarterSignedOff:
      entry.set_request_id(e.quarter_signed_off().sign_off_id());
      break;
    case v1::Envelope::kSpcLimitsChanged:
      entry.set_request_id(e.spc_limits_changed().change_id());
      break;
    case v1::Envelope::kLearningErased:
      entry.set_request_id(e.learning_erased().erasure_id());
      break;
    case v1::Envelope::PAYLOAD_NOT_SET:
      rows = 0;
      break;
  }
  entry.set_rows(rows);
  return entry;
}

}  // namespace

std::chrono::steady_clock::time_point WaitDeadline(const grpc::ServerContext& context) {
  auto now_system = std::chrono::system_clock::now();
  auto now = std::chrono::steady_clock::now();
  auto limit = now + kMaxPositionWait;
  auto deadline = context.deadline();
  if (deadline >= now_system + kMaxPositionWait) return limit;
  return now + (deadline - now_system);
}

IngestServiceImpl::IngestServiceImpl(gateway::Gateway& gateway, const Guard& guard)
    : ParsingService(v1::IngestService::service_full_name()), gateway_(gateway), guard_(guard) {
  Serve("SubmitObservations", &IngestServiceImpl::SubmitObservations);
  Serve("ShareLearning", &IngestServiceImpl::ShareLearning);
  Serve("WithdrawObservations", &IngestServiceImpl::WithdrawObservations);
  Serve("EraseLearning", &IngestServiceImpl::EraseLearning);
}

CatalogServiceImpl::CatalogServiceImpl(gateway::Gateway& gateway, const Guard& guard)
    : ParsingService(v1::CatalogService::service_full_name()), gateway_(gateway), guard_(guard) {
  Serve("ChangeCatalogue", &CatalogServiceImpl::ChangeCatalogue);
  Serve("GetCatalogue", &CatalogServiceImpl::GetCatalogue);
  Serve("ChangeSpcLimits", &CatalogServiceImpl::ChangeSpcLimits);
}

QueryServiceImpl::QueryServiceImpl(projection::ReadModel& model, eventlog::EventLog& log,
                                   const Guard& guard)
    : ParsingService(v1::QueryService::service_full_name()),
      model_(model),
      log_(log),
      guard_(guard) {
  Serve("GetQuarterlyReport", &QueryServiceImpl::GetQuarterlyReport);
  Serve("GetSeries", &QueryServiceImpl::GetSeries);
  Serve("GetReceipt", &QueryServiceImpl::GetReceipt);
  Serve("GetStatus", &QueryServiceImpl::GetStatus);
  Serve("GetSpcChart", &QueryServiceImpl::GetSpcChart);
  Serve("GetValueHistory", &QueryServiceImpl::GetValueHistory);
  Serve("ListOutstandingReturns", &QueryServiceImpl::ListOutstandingReturns);
  Serve("GetFunnel", &QueryServiceImpl::GetFunnel);
  Serve("ListAudit", &QueryServiceImpl::ListAudit);
}

PublicationServiceImpl::PublicationServiceImpl(projection::ReadModel& model,
                                               eventlog::EventLog& log, const Clock& clock,
                                               const Guard& guard)
    : ParsingService(v1::PublicationService::service_full_name()),
      model_(model),
      log_(log),
      clock_(clock),
      guard_(guard) {
  Serve("PublishQuarter", &PublicationServiceImpl::PublishQuarter);
  Serve("GetPublication", &PublicationServiceImpl::GetPublication);
  Serve("SignOffQuarter", &PublicationServiceImpl::SignOffQuarter);
}

// Declares `caller`, the admitted caller of `rpc`, or returns the refusal
// (every handler starts with it; undefined at the end of the file).
#define PSC_ADMIT(caller, rpc)               \
  auto caller = guard_.Admit(*context, rpc); \
  if (!caller.ok()) return ToGrpcStatus(caller.status())

grpc::Status IngestServiceImpl::SubmitObservations(grpc::ServerContext* context,
                                                   const v1::SubmitObservationsRequest* request,
                                                   v1::Receipt* response) {
  PSC_ADMIT(caller, Rpc::kSubmitObservations);
  const size_t bytes = request->ByteSizeLong();
  // Over the bounds: refused before anything else is looked at.
  if (auto s = CheckBounds(request->rows_size(), bytes, "rows", "submission", gateway_.limits());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (auto s = AwaitGateway(gateway_, *context, request->min_position()); !s.ok()) return s;
  if (!caller->unrestricted()) {
    const auto catalogue = gateway_.catalogue();
    auto scope = FirstRefused(request->rows_size(), [&](int i) {
      const v1::Observation& row = request->rows(i);
      return caller->MayActFor(*catalogue, row.ods_code(), Month::Parse(row.month()),
                               StrCat("rows[", i, "].ods_code"));
    });
    if (!scope.ok()) return ToGrpcStatus(scope);
  }
  v1::ObservationsSubmitted batch;
  batch.set_submission_id(request->submission_id());
  *batch.mutable_rows() = request->rows();
  auto receipt = request->dry_run()
                     ? gateway_.DryRunObservations(batch, bytes)
                     : gateway_.SubmitObservations(std::move(batch), bytes, caller->name());
  return Reply(std::move(receipt), response);
}

grpc::Status IngestServiceImpl::ShareLearning(grpc::ServerContext* context,
                                              const v1::ShareLearningRequest* request,
                                              v1::Receipt* response) {
  PSC_ADMIT(caller, Rpc::kShareLearning);
  if (auto s = caller->MayActForCollaborative(request->learning().collaborative_id(),
                                              "learning.collaborative_id");
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (auto s = AwaitGateway(gateway_, *context, request->min_position()); !s.ok()) return s;
  auto receipt = gateway_.ShareLearning(request->learning(), caller->name());
  return Reply(std::move(receipt), response);
}

grpc::Status IngestServiceImpl::WithdrawObservations(grpc::ServerContext* context,
                                                     const v1::WithdrawObservationsRequest* request,
                                                     v1::Receipt* response) {
  PSC_ADMIT(caller, Rpc::kWithdrawObservations);
  if (auto s = CheckBounds(request->keys_size(), 0, "keys", "withdrawal", gateway_.limits());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (auto s = AwaitGateway(gateway_, *context, request->min_position()); !s.ok()) return s;
  if (!caller->unrestricted()) {
    const auto catalogue = gateway_.catalogue();
    auto scope = FirstRefused(request->keys_size(), [&](int i) {
      const v1::ObservationKey& key = request->keys(i);
      return caller->MayActFor(*catalogue, key.ods_code(), Month::Parse(key.month()),
                               StrCat("keys[", i, "].ods_code"));
    });
    if (!scope.ok()) return ToGrpcStatus(scope);
  }
  v1::ObservationsWithdrawn withdrawal;
  withdrawal.set_withdrawal_id(request->withdrawal_id());
  *withdrawal.mutable_keys() = request->keys();
  withdrawal.set_reason(request->reason());
  auto receipt = gateway_.WithdrawObservations(std::move(withdrawal), caller->name());
  return Reply(std::move(receipt), response);
}

grpc::Status IngestServiceImpl::EraseLearning(grpc::ServerContext* context,
                                              const v1::EraseLearningRequest* request,
                                              v1::Receipt* response) {
  PSC_ADMIT(caller, Rpc::kEraseLearning);
  if (auto s = AwaitGateway(gateway_, *context, request->min_position()); !s.ok()) return s;
  if (!caller->unrestricted()) {
    // A learning outside the scope and one that does not exist answer
    // alike: nothing about other collaboratives' learning leaks.
    auto shared_by = gateway_.CollaborativeOfLearning(request->learning_id());
    auto scope = caller->MayActForCollaborative(shared_by.value_or(""), "learning_id");
    if (!shared_by.has_value() || !scope.ok()) {
      return ToGrpcStatus(caller->Denied(
          "learning_id",
          StrCat("no learning ", Quote(request->learning_id()), " shared by its collaborative")));
    }
  }
  v1::LearningErased erasure;
  erasure.set_erasure_id(request->erasure_id());
  erasure.set_learning_id(request->learning_id());
  erasure.set_reason(request->reason());
  return Reply(gateway_.EraseLearning(std::move(erasure), caller->name()), response);
}

grpc::Status CatalogServiceImpl::ChangeCatalogue(grpc::ServerContext* context,
                                                 const v1::ChangeCatalogueRequest* request,
                                                 v1::Receipt* response) {
  PSC_ADMIT(caller, Rpc::kChangeCatalogue);
  if (auto s = AwaitGateway(gateway_, *context, request->min_position()); !s.ok()) return s;
  auto receipt = gateway_.ChangeCatalogue(request->change(), caller->name());
  return Reply(std::move(receipt), response);
}

grpc::Status CatalogServiceImpl::GetCatalogue(grpc::ServerContext* context,
                                              const v1::GetCatalogueRequest* request,
                                              v1::Catalogue* response) {
  PSC_ADMIT(caller, Rpc::kGetCatalogue);
  if (auto s = AwaitGateway(gateway_, *context, request->min_position()); !s.ok()) return s;
  LogPosition position = gateway_.position();
  gateway_.catalogue()->ToProto(response);
  response->set_as_of_position(position.value());
  return grpc::Status::OK;
}

grpc::Status CatalogServiceImpl::ChangeSpcLimits(grpc::ServerContext* context,
                                                 const v1::ChangeSpcLimitsRequest* request,
                                                 v1::Receipt* response) {
  PSC_ADMIT(caller, Rpc::kChangeSpcLimits);
  if (auto s = AwaitGateway(gateway_, *context, request->min_position()); !s.ok()) return s;
  auto receipt = gateway_.ChangeSpcLimits(request->change(), caller->name());
  return Reply(std::move(receipt), response);
}

grpc::Status AwaitReadModel(const projection::ReadModel& model, const grpc::ServerContext& context,
                            uint64_t position) {
  if (position == 0 || model.WaitFor(LogPosition(position), WaitDeadline(context))) {
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                      StrCat("the read model has applied the log to position ",
                             model.applied().value(), ", not yet ", position));
}

grpc::Status QueryServiceImpl::GetQuarterlyReport(grpc::ServerContext* context,
                                                  const v1::GetQuarterlyReportRequest* request,
                                                  v1::GetQuarterlyReportResponse* response) {
  PSC_ADMIT(caller, Rpc::kGetQuarterlyReport);
  auto quarter = QuarterField(request->quarter());
  if (!quarter.ok()) return ToGrpcStatus(quarter.status());
  if (!v1::ReportFormat_IsValid(request->format())) {
    return ToGrpcStatus(InvalidField("format", "INVALID_FORMAT", "unknown report format"));
  }
  if (auto s = AwaitReadModel(model_, *context, request->min_position()); !s.ok()) return s;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::shared_ptr<const v1::QuarterlyReport>> report;
  {
    auto view = model_.Snapshot();
    report = reports_.Get(view, *quarter);
  }
  if (!report.ok()) return ToGrpcStatus(report.status());
  if (request->format() != v1::REPORT_FORMAT_UNSPECIFIED) {
    report::Rendered rendered = report::Render(**report, request->format());
    response->set_rendered(std::move(rendered.bytes));
    response->set_content_type(std::move(rendered.content_type));
  }
  *response->mutable_report() = **report;
  // The time spent here, after the wait for min_position (as HTTP's
  // Server-Timing): what a client's latency owes to the server.
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  char timing[48];
  std::snprintf(timing, sizeof timing, "report;dur=%.3f", ms);
  context->AddTrailingMetadata(std::string(kServerTimingKey), timing);
  return grpc::Status::OK;
}

grpc::Status QueryServiceImpl::GetSeries(grpc::ServerContext* context,
                                         const v1::GetSeriesRequest* request,
                                         v1::Series* response) {
  PSC_ADMIT(caller, Rpc::kGetSeries);
  if (auto s = AwaitReadModel(model_, *context, request->min_position()); !s.ok()) return s;
  auto view = model_.Snapshot();
  if (auto s = SeriesInScope(*caller, view.catalogue(), *request); !s.ok()) return ToGrpcStatus(s);
  auto series = report::BuildSeries(view, *request);
  if (series.ok()) {
    if (auto s = MonthsInScope(*caller, view.catalogue(), *request, series->points()); !s.ok()) {
      return ToGrpcStatus(s);
    }
  }
  return Reply(std::move(series), response);
}

grpc::Status QueryServiceImpl::GetSpcChart(grpc::ServerContext* context,
                                           const v1::GetSeriesRequest* request,
                                           v1::SpcChart* response) {
  PSC_ADMIT(caller, Rpc::kGetSpcChart);
  if (auto s = AwaitReadModel(model_, *context, request->min_position()); !s.ok()) return s;
  auto view = model_.Snapshot();
  if (auto s = SeriesInScope(*caller, view.catalogue(), *request); !s.ok()) return ToGrpcStatus(s);
  auto chart = report::BuildSpcChart(view, *request);
  if (chart.ok()) {
    if (auto s = MonthsInScope(*caller, view.catalogue(), *request, chart->points()); !s.ok()) {
      return ToGrpcStatus(s);
    }
  }
  return Reply(std::move(chart), response);
}

grpc::Status QueryServiceImpl::GetReceipt(grpc::ServerContext* context,
                                          const v1::GetReceiptRequest* request,
                                          v1::Receipt* response) {
  PSC_ADMIT(caller, Rpc::kGetReceipt);
  if (request->id().empty()) {
    return ToGrpcStatus(InvalidField("id", "REQUIRED", "a request id is required"));
  }
  if (auto s = AwaitReadModel(model_, *context, request->min_position()); !s.ok()) return s;
  auto receipt = model_.Snapshot().Receipt(request->id());
  if (!receipt.ok()) return ToGrpcStatus(receipt.status());
  if (!receipt->has_value()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        StrCat("no request ", Quote(request->id()), " has been applied"));
  }
  if (auto s = caller->Made((*receipt)->principal(), "id"); !s.ok()) return ToGrpcStatus(s);
  *response = std::move(**receipt);
  return grpc::Status::OK;
}

grpc::Status QueryServiceImpl::GetValueHistory(grpc::ServerContext* context,
                                               const v1::GetValueHistoryRequest* request,
                                               v1::ValueHistory* response) {
  PSC_ADMIT(caller, Rpc::kGetValueHistory);
  const v1::ObservationKey& key = request->key();
  auto month = Month::Parse(key.month());
  if (!month) {
    return ToGrpcStatus(InvalidField("key.month", "MALFORMED_MONTH",
                                     StrCat(Quote(key.month()), " is not a month YYYY-MM")));
  }
  if (auto s = AwaitReadModel(model_, *context, request->min_position()); !s.ok()) return s;
  auto view = model_.Snapshot();
  if (auto s = caller->MayActFor(view.catalogue(), key.ods_code(), *month, "key.ods_code");
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (view.catalogue().FindOrganisation(key.ods_code()) == nullptr) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        StrCat("organisation ", Quote(key.ods_code()), " is not registered"));
  }
  if (view.catalogue().FindMeasure(key.measure_id()) == nullptr) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        StrCat("measure ", Quote(key.measure_id()), " is not defined"));
  }
  auto history = view.History(key.measure_id(), key.ods_code(), *month);
  if (!history.ok()) return ToGrpcStatus(history.status());
  *response->mutable_key() = key;
  for (auto& change : *history) *response->add_changes() = std::move(change);
  response->set_as_of_position(view.position().value());
  return grpc::Status::OK;
}

grpc::Status QueryServiceImpl::ListOutstandingReturns(
    grpc::ServerContext* context, const v1::ListOutstandingReturnsRequest* request,
    v1::OutstandingReturns* response) {
  PSC_ADMIT(caller, Rpc::kListOutstandingReturns);
  if (auto s = caller->MayActForCollaborative(request->collaborative_id(), "collaborative_id");
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (auto s = AwaitReadModel(model_, *context, request->min_position()); !s.ok()) return s;
  auto view = model_.Snapshot();
  auto out = report::BuildOutstandingReturns(view, *request);
  return Reply(std::move(out), response);
}

grpc::Status QueryServiceImpl::GetFunnel(grpc::ServerContext* context,
                                         const v1::GetFunnelRequest* request,
                                         v1::Funnel* response) {
  PSC_ADMIT(caller, Rpc::kGetFunnel);
  // The funnel of collaboratives shows aggregates only; one
  // collaborative's organisations are for that collaborative.
  if (!request->collaborative_id().empty()) {
    if (auto s = caller->MayActForCollaborative(request->collaborative_id(), "collaborative_id");
        !s.ok()) {
      return ToGrpcStatus(s);
    }
  }
  if (auto s = AwaitReadModel(model_, *context, request->min_position()); !s.ok()) return s;
  auto view = model_.Snapshot();
  return Reply(report::BuildFunnelPlot(view, *request), response);
}

grpc::Status QueryServiceImpl::ListAudit(grpc::ServerContext* context,
                                         const v1::ListAuditRequest* request,
                                         v1::AuditTrail* response) {
  PSC_ADMIT(caller, Rpc::kListAudit);
  constexpr uint32_t kMaxLimit = 1000;
  constexpr uint64_t kMaxScanned = 100'000;
  if (request->limit() > kMaxLimit) {
    return ToGrpcStatus(InvalidField("limit", "OUT_OF_RANGE",
                                     StrCat(request->limit(), " entries; at most ", kMaxLimit)));
  }
  const uint32_t limit = request->limit() == 0 ? 100 : request->limit();
  auto end = log_.End();
  if (!end.ok()) return ToGrpcStatus(end.status());
  uint64_t last = request->after_position();
  if (last >= end->value()) return grpc::Status::OK;
  auto reader = log_.OpenReader(LogPosition(last));
  if (!reader.ok()) return ToGrpcStatus(reader.status());
  const uint64_t first = last;
  while (response->entries_size() < static_cast<int>(limit) && last < end->value() &&
         last - first < kMaxScanned) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(1000, end->value() - last));
    auto records = (*reader)->Read(want, std::chrono::seconds(5));
    if (!records.ok()) return ToGrpcStatus(records.status());
    if (records->empty()) break;
    for (const eventlog::Record& record : *records) {
      last = record.position.value();
      v1::Envelope envelope;
      if (!envelope.ParseFromString(record.payload)) {
        return ToGrpcStatus(absl::DataLossError(
            StrCat("event at position ", last, " cannot be decoded: the log is damaged")));
      }
      if (!request->principal().empty() && envelope.principal() != request->principal()) continue;
      *response->add_entries() = AuditEntryOf(last, envelope);
      if (response->entries_size() == static_cast<int>(limit)) break;
    }
  }
  response->set_next_after_position(last < end->value() ? last : 0);
  return grpc::Status::OK;
}

grpc::Status QueryServiceImpl::GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest*,
                                         v1::ProjectionStatus* response) {
  PSC_ADMIT(caller, Rpc::kGetStatus);
  auto view = model_.Snapshot();
  response->set_applied_position(view.position().value());
  response->set_observations(view.observation_count());
  response->set_refused_events(view.refused_events());
  return grpc::Status::OK;
}

}  // namespace psc::server

namespace psc::server {

grpc::Status PublicationServiceImpl::PublishQuarter(grpc::ServerContext* context,
                                                    const v1::PublishQuarterRequest* request,
                                                    v1::Receipt* response) {
  PSC_ADMIT(caller, Rpc::kPublishQuarter);
  return AppendFromReadModel(
      *context, *caller, request->publication_id(), "publication_id", request->quarter(),
      request->min_position(),
      [&](const projection::View& view, Quarter quarter) -> absl::StatusOr<v1::Envelope> {
        auto report = report::BuildQuarterlyReport(view, quarter);
        if (!report.ok()) return report.status();
        v1::Envelope envelope;
        *envelope.mutable_quarter_published() =
            report::FreezeQuarter(*report, request->publication_id(), request->public_());
        return envelope;
      },
      [](const v1::Envelope& e) { return e.quarter_published().renderings_size(); }, response);
}

grpc::Status PublicationServiceImpl::AppendFromReadModel(
    grpc::ServerContext& context, const Caller& caller, const std::string& id, const char* id_field,
    const std::string& quarter_text, uint64_t min_position,
    const std::function<absl::StatusOr<v1::Envelope>(const projection::View&, Quarter)>& build,
    const std::function<int(const v1::Envelope&)>& rows, v1::Receipt* response) {
  if (!IsValidClientId(id)) {
    return ToGrpcStatus(
        InvalidField(id_field, "INVALID_ID", "must be 1..128 characters of A-Z a-z 0-9 . _ : -"));
  }
  auto quarter = QuarterField(quarter_text);
  if (!quarter.ok()) return ToGrpcStatus(quarter.status());
  if (auto s = AwaitReadModel(model_, context, min_position); !s.ok()) return s;
  std::lock_guard serial(publish_mu_);
  v1::Envelope envelope;
  {
    auto view = model_.Snapshot();
    auto known = view.Receipt(id);
    if (!known.ok()) return ToGrpcStatus(known.status());
    if (known->has_value()) {
      if ((*known)->principal() != caller.name()) {
        return ToGrpcStatus(absl::PermissionDeniedError(StrCat(
            id_field, ": request id ", Quote(id), " is another principal's: choose another id")));
      }
      *response = **known;
      response->set_duplicate(true);
      return grpc::Status::OK;
    }
    auto built = build(view, *quarter);
    if (!built.ok()) return ToGrpcStatus(built.status());
    envelope = std::move(*built);
  }
  envelope.set_event_id(eventlog::RandomId());
  *envelope.mutable_recorded_at() = ToTimestamp(clock_.Now());
  envelope.set_principal(caller.name());
  auto position = log_.Append(id, envelope.SerializeAsString());
  if (!position.ok()) return ToGrpcStatus(position.status());
  // Answer once the event can be read back from this read model.
  model_.WaitFor(*position, WaitDeadline(context));
  response->set_id(id);
  response->set_position(position->value());
  response->set_rows_accepted(static_cast<uint32_t>(rows(envelope)));
  *response->mutable_recorded_at() = envelope.recorded_at();
  response->set_principal(caller.name());
  return grpc::Status::OK;
}

grpc::Status PublicationServiceImpl::SignOffQuarter(grpc::ServerContext* context,
                                                    const v1::SignOffQuarterRequest* request,
                                                    v1::Receipt* response) {
  PSC_ADMIT(caller, Rpc::kSignOffQuarter);
  if (auto s = caller->MayActForCollaborative(request->collaborative_id(), "collaborative_id");
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  return AppendFromReadModel(
      *context, *caller, request->sign_off_id(), "sign_off_id", request->quarter(),
      request->min_position(),
      [&](const projection::View& view, Quarter quarter) -> absl::StatusOr<v1::Envelope> {
        if (view.catalogue().FindCollaborative(request->collaborative_id()) == nullptr) {
          return InvalidField(
              "collaborative_id", "UNKNOWN_COLLABORATIVE",
              StrCat("collaborative ", Quote(request->collaborative_id()), " is not registered"));
        }
        auto report = report::BuildQuarterlyReport(view, quarter);
        if (!report.ok()) return report.status();
        v1::Envelope envelope;
        *envelope.mutable_quarter_signed_off() =
            report::SignOffFigures(*report, request->collaborative_id(), request->sign_off_id());
        return envelope;
      },
      [](const v1::Envelope& e) { return e.quarter_signed_off().figures_size(); }, response);
}

grpc::Status PublicationServiceImpl::GetPublication(grpc::ServerContext* context,
                                                    const v1::GetPublicationRequest* request,
                                                    v1::Publication* response) {
  PSC_ADMIT(caller, Rpc::kGetPublication);
  auto quarter = QuarterField(request->quarter());
  if (!quarter.ok()) return ToGrpcStatus(quarter.status());
  if (auto s = AwaitReadModel(model_, *context, request->min_position()); !s.ok()) return s;
  auto view = model_.Snapshot();
  auto latest = view.LatestPublication(*quarter);
  if (!latest.ok()) return ToGrpcStatus(latest.status());
  if (!latest->has_value()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        StrCat(request->quarter(), " has not been published"));
  }
  const v1::Envelope& envelope = (*latest)->envelope;
  // An observer reads what was published for the public only: the
  // controlled rendering, not the structured report or the revisions
  // behind it (unsuppressed figures).
  const bool observer = !caller->unrestricted();
  if (observer &&
      envelope.quarter_published().disclosure_policy() != disclosure::DisclosurePolicy::Public().name) {
    return ToGrpcStatus(caller->Denied(
        "quarter", StrCat("the latest publication of ", request->quarter(), " is not public")));
  }
  *response->mutable_published() = envelope.quarter_published();
  response->set_position((*latest)->position.value());
  *response->mutable_published_at() = envelope.recorded_at();
  response->set_principal(envelope.principal());
  response->set_as_of_position(view.position().value());
  if (observer) {
    response->mutable_published()->clear_report();
    return grpc::Status::OK;
  }
  v1::QuarterlyReport published;
  published.ParseFromString(envelope.quarter_published().report());
  auto current = report::BuildQuarterlyReport(view, *quarter);
  if (!current.ok()) return ToGrpcStatus(current.status());
  for (auto& r : report::Revisions(published, *current)) *response->add_revisions() = std::move(r);
  return grpc::Status::OK;
}

}  // namespace psc::server

#undef PSC_ADMIT
