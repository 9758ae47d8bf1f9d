#include "psc/gateway/gateway.h"

#include <malloc.h>

#include <iostream>

#include "psc/domain/strings.h"
#include "psc/domain/violations.h"
#include "psc/eventlog/random_id.h"
#include "psc/vault/seal.h"

namespace psc::gateway {
namespace {

// Request ids live in one namespace per kind.
std::string RequestKey(char kind, std::string_view id) { return StrCat(kind, id); }
constexpr char kSubmission = 's';
constexpr char kLearning = 'l';
constexpr char kErasure = 'e';
constexpr char kCatalogueChange = 'c';
constexpr char kWithdrawal = 'w';
constexpr char kSpcLimits = 'x';

}  // namespace

struct Gateway::InFlight {
  std::promise<absl::StatusOr<v1::Receipt>> promise;
  std::shared_future<absl::StatusOr<v1::Receipt>> future = promise.get_future().share();
};

Gateway::Gateway(eventlog::EventLog& log, const Clock& clock, GatewayOptions options)
    : log_(log),
      clock_(clock),
      options_(options),
      probe_(options.metrics),
      catalogue_(std::make_shared<Catalogue>()),
      health_(absl::UnavailableError("gateway has not read the log yet")) {}

Gateway::~Gateway() { Stop(); }

absl::Status Gateway::Start() {
  auto end = log_.End();
  if (!end.ok()) return end.status();
  auto reader = log_.OpenReader(LogPosition());
  if (!reader.ok()) return reader.status();
  while (position().value() < end->value()) {
    auto records = (*reader)->Read(4096, std::chrono::seconds(1));
    if (!records.ok()) return records.status();
    std::lock_guard lock(mu_);
    for (const auto& r : *records) {
      if (auto s = FoldLocked(r); !s.ok()) return s;
    }
  }
  {
    std::lock_guard lock(mu_);
    health_ = absl::OkStatus();
  }
  stop_ = false;
  tail_ = std::thread([this, r = std::move(*reader)]() mutable { Tail(std::move(r)); });
  return absl::OkStatus();
}

void Gateway::Stop() {
  stop_ = true;
  if (tail_.joinable()) tail_.join();
}

absl::Status Gateway::health() const {
  std::lock_guard lock(mu_);
  return health_;
}

void Gateway::Tail(std::unique_ptr<eventlog::LogReader> reader) {
  while (!stop_) {
    auto records = reader->Read(4096, options_.idle_wait);
    std::lock_guard lock(mu_);
    absl::Status status = records.status();
    if (records.ok()) {
      for (const auto& r : *records) {
        status = FoldLocked(r);
        if (!status.ok()) break;
      }
    }
    if (!status.ok()) {
      std::cerr << "gateway stopped reading the log at position " << position_ << ": "
                << status.message() << "\n";
      health_ = absl::UnavailableError(
          StrCat("gateway cannot follow the log: ", status.message()));
      folded_cv_.notify_all();
      return;
    }
    if (!records->empty()) folded_cv_.notify_all();
  }
}

absl::Status Gateway::FoldLocked(const eventlog::Record& record) {
  const uint64_t position = record.position.value();
  if (position != position_ + 1) {
    return absl::DataLossError(
        StrCat("log jumped from position ", position_, " to ", position));
  }
  v1::Envelope envelope;
  if (!envelope.ParseFromString(record.payload)) {
    return absl::DataLossError(
        StrCat("event at position ", position, " cannot be decoded: the log is damaged"));
  }
  position_ = position;
  probe_.Folded(position);
  const bool own = own_events_.erase(envelope.event_id()) > 0;

  // Records the receipt unless the id is known from earlier in the log. An
  // entry from a later position (this gateway's own answer, recorded before
  // its fold saw an earlier append of the same id by another replica) gives
  // way: the first in log order wins everywhere.
  auto remember = [&](const std::string& key, const std::string& id, uint32_t rows) {
    auto it = receipts_.find(key);
    if (it != receipts_.end() && it->second.position() <= position) return;
    v1::Receipt receipt;
    receipt.set_id(id);
    receipt.set_position(position);
    receipt.set_rows_accepted(rows);
    *receipt.mutable_recorded_at() = envelope.recorded_at();
    receipt.set_principal(envelope.principal());
    receipts_[key] = std::move(receipt);
  };
  auto known = [&](const std::string& key) {
    auto it = receipts_.find(key);
    return it != receipts_.end() && it->second.position() < position;
  };

  // Checks mirror the projection's exactly, so that every fold agrees on
  // which events took effect. Events this gateway validated itself skip
  // them: the catalogue only grows, so what was valid stays valid.
  switch (envelope.payload_case()) {
    case v1::Envelope::kCatalogueChanged: {
      const auto& change = envelope.catalogue_changed();
      std::string key = RequestKey(kCatalogueChange, change.change_id());
      if (known(key) || !catalogue_->Check(change).ok()) return absl::OkStatus();
      auto next = std::make_shared<Catalogue>(*catalogue_);
      next->Apply(change);
      catalogue_ = std::move(next);
      // The old catalogue is freed unless a request still holds it: hand
      // its pages back (as the read model does after a catalogue change).
      malloc_trim(0);
      remember(key, change.change_id(),
               EntriesIn(change));
      return absl::OkStatus();
    }
    case v1::Envelope::kObservationsSubmitted: {
      const auto& batch = envelope.observations_submitted();
      std::string key = RequestKey(kSubmission, batch.submission_id());
      if (known(key)) return absl::OkStatus();
      if (!own && !ValidateObservations(*catalogue_, batch, 0, std::nullopt, kNoLimits).ok()) {
        return absl::OkStatus();
      }
      remember(key, batch.submission_id(), static_cast<uint32_t>(batch.rows_size()));
      return absl::OkStatus();
    }
    case v1::Envelope::kObservationsWithdrawn: {
      const auto& w = envelope.observations_withdrawn();
      std::string key = RequestKey(kWithdrawal, w.withdrawal_id());
      if (known(key)) return absl::OkStatus();
      if (!own && !ValidateWithdrawal(*catalogue_, w, kNoLimits).ok()) return absl::OkStatus();
      remember(key, w.withdrawal_id(), static_cast<uint32_t>(w.keys_size()));
      return absl::OkStatus();
    }
    case v1::Envelope::kQuarterPublished:
    case v1::Envelope::kQuarterSignedOff:
      // Appended by the read side; nothing the gateway validates against.
      return absl::OkStatus();
    case v1::Envelope::kSpcLimitsChanged: {
      const auto& c = envelope.spc_limits_changed();
      std::string key = RequestKey(kSpcLimits, c.change_id());
      if (known(key)) return absl::OkStatus();
      if (!own && !ValidateSpcLimitsChange(*catalogue_, c).ok()) return absl::OkStatus();
      remember(key, c.change_id(), 1);
      return absl::OkStatus();
    }
    case v1::Envelope::kLearningShared: {
      const auto& shared = envelope.learning_shared();
      const auto& learning = shared.learning();
      std::string key = RequestKey(kLearning, learning.learning_id());
      if (known(key)) return absl::OkStatus();
      if (!own && !ValidateLearning(*catalogue_, learning, std::nullopt,
                                    /*check_text=*/shared.sealed_text().empty())
                       .ok()) {
        return absl::OkStatus();
      }
      remember(key, learning.learning_id(), 1);
      learnings_[learning.learning_id()] = {learning.collaborative_id(), shared.key_id()};
      return absl::OkStatus();
    }
    case v1::Envelope::kLearningErased: {
      const auto& e = envelope.learning_erased();
      std::string key = RequestKey(kErasure, e.erasure_id());
      if (known(key)) return absl::OkStatus();
      if (!own && (!ValidateErasure(e).ok() || learnings_.count(e.learning_id()) == 0)) {
        return absl::OkStatus();
      }
      remember(key, e.erasure_id(), 1);
      return absl::OkStatus();
    }
    default:
      return absl::FailedPreconditionError(
          StrCat("event at position ", position,
                 " has a type this version does not know: upgrade psc before serving this log"));
  }
}

absl::StatusOr<v1::Receipt> Gateway::Answer(RequestKind kind, uint32_t rows,
                                            absl::StatusOr<v1::Receipt> result) {
  probe_.Answered(kind, rows, result.ok(), result.ok() && result->duplicate(), result.status());
  return result;
}

// A known request id may be sent again by the principal that made it only.
static absl::Status SameMaker(const v1::Receipt& known, const std::string& principal) {
  if (known.principal() == principal) return absl::OkStatus();
  return absl::PermissionDeniedError(
      StrCat("request id ", Quote(known.id()), " is another principal's: choose another id"));
}

v1::Envelope Gateway::NewEnvelope(const std::string& principal) const {
  v1::Envelope envelope;
  envelope.set_event_id(eventlog::RandomId());
  *envelope.mutable_recorded_at() = ToTimestamp(clock_.Now());
  envelope.set_principal(principal);
  return envelope;
}

absl::StatusOr<v1::Receipt> Gateway::AppendOnce(
    const std::string& key, const std::string& id, uint32_t rows, v1::Envelope envelope,
    const std::function<absl::Status(const Catalogue&)>& validate) {
  std::shared_ptr<InFlight> mine;
  std::shared_future<absl::StatusOr<v1::Receipt>> theirs;
  std::shared_ptr<const Catalogue> catalogue;
  {
    std::lock_guard lock(mu_);
    if (!health_.ok()) return health_;
    if (auto it = receipts_.find(key); it != receipts_.end()) {
      if (auto s = SameMaker(it->second, envelope.principal()); !s.ok()) return s;
      v1::Receipt receipt = it->second;
      receipt.set_duplicate(true);
      return receipt;
    }
    if (auto it = in_flight_.find(key); it != in_flight_.end()) {
      theirs = it->second->future;
    } else {
      mine = std::make_shared<InFlight>();
      in_flight_.emplace(key, mine);
      catalogue = catalogue_;
    }
  }
  if (theirs.valid()) {
    // The same id is being appended by another call right now: answer what
    // that call answers.
    absl::StatusOr<v1::Receipt> result = theirs.get();
    if (!result.ok()) return result;
    if (auto s = SameMaker(*result, envelope.principal()); !s.ok()) return s;
    result->set_duplicate(true);
    return result;
  }

  auto result = [&]() -> absl::StatusOr<v1::Receipt> {
    if (auto s = validate(*catalogue); !s.ok()) return s;
    const std::string event_id = envelope.event_id();
    v1::Receipt receipt;
    receipt.set_id(id);
    receipt.set_rows_accepted(rows);
    *receipt.mutable_recorded_at() = envelope.recorded_at();
    receipt.set_principal(envelope.principal());
    {
      std::lock_guard lock(mu_);
      own_events_.insert(event_id);
    }
    auto position = log_.Append(id, envelope.SerializeAsString());
    std::lock_guard lock(mu_);
    if (!position.ok()) {
      own_events_.erase(event_id);
      return position.status();
    }
    receipt.set_position(position->value());
    auto it = receipts_.find(key);
    if (it != receipts_.end() && it->second.position() < receipt.position()) {
      receipt = it->second;  // another replica's append of this id came first
      if (auto s = SameMaker(receipt, envelope.principal()); !s.ok()) return s;
      receipt.set_duplicate(true);
    } else {
      receipts_[key] = receipt;
    }
    return receipt;
  }();

  {
    std::lock_guard lock(mu_);
    in_flight_.erase(key);
  }
  mine->promise.set_value(result);
  return result;
}

absl::StatusOr<v1::Receipt> Gateway::SubmitObservations(v1::ObservationsSubmitted batch,
                                                        size_t request_bytes,
                                                        const std::string& principal) {
  const std::string id = batch.submission_id();
  const auto rows = static_cast<uint32_t>(batch.rows_size());
  const Month current = LondonMonth(clock_.Now());
  v1::Envelope envelope = NewEnvelope(principal);
  *envelope.mutable_observations_submitted() = std::move(batch);
  const auto& submitted = envelope.observations_submitted();
  if (id.empty()) {
    return Answer(RequestKind::kObservations, rows,
                  ValidateObservations(Catalogue(), submitted, request_bytes, current,
                                       options_.limits));
  }
  return Answer(RequestKind::kObservations, rows,
                AppendOnce(RequestKey(kSubmission, id), id, rows, std::move(envelope),
                           [&](const Catalogue& catalogue) {
                             return ValidateObservations(catalogue, submitted, request_bytes,
                                                         current, options_.limits);
                           }));
}

absl::StatusOr<v1::Receipt> Gateway::DryRunObservations(const v1::ObservationsSubmitted& batch,
                                                        size_t request_bytes) const {
  const Month current = LondonMonth(clock_.Now());
  if (auto s = ValidateObservations(*catalogue(), batch, request_bytes, current, options_.limits);
      !s.ok()) {
    return s;
  }
  v1::Receipt receipt;
  receipt.set_id(batch.submission_id());
  receipt.set_rows_accepted(static_cast<uint32_t>(batch.rows_size()));
  receipt.set_dry_run(true);
  {
    std::lock_guard lock(mu_);
    auto it = receipts_.find(RequestKey(kSubmission, batch.submission_id()));
    if (it != receipts_.end()) {
      // Sending it for real would answer this receipt and change nothing.
      receipt = it->second;
      receipt.set_duplicate(true);
      receipt.set_dry_run(true);
    }
  }
  return receipt;
}

absl::StatusOr<v1::Receipt> Gateway::WithdrawObservations(v1::ObservationsWithdrawn withdrawal,
                                                          const std::string& principal) {
  const std::string id = withdrawal.withdrawal_id();
  const auto keys = static_cast<uint32_t>(withdrawal.keys_size());
  v1::Envelope envelope = NewEnvelope(principal);
  *envelope.mutable_observations_withdrawn() = std::move(withdrawal);
  const auto& withdrawn = envelope.observations_withdrawn();
  if (id.empty()) {
    return Answer(RequestKind::kWithdrawal, keys,
                  ValidateWithdrawal(Catalogue(), withdrawn, options_.limits));
  }
  return Answer(RequestKind::kWithdrawal, keys,
                AppendOnce(RequestKey(kWithdrawal, id), id, keys, std::move(envelope),
                           [&](const Catalogue& catalogue) {
                             return ValidateWithdrawal(catalogue, withdrawn, options_.limits);
                           }));
}

absl::StatusOr<v1::Receipt> Gateway::ShareLearning(v1::Learning learning,
                                                   const std::string& principal) {
  const std::string id = learning.learning_id();
  const Month current = LondonMonth(clock_.Now());
  // The text is checked in the clear, then sealed: the log never holds it.
  if (auto s = ValidateLearning(*catalogue(), learning, current); !s.ok()) {
    return Answer(RequestKind::kLearning, 1, s);
  }
  if (options_.key_store == nullptr) {
    return Answer(RequestKind::kLearning, 1,
                  absl::FailedPreconditionError(
                      "this gateway has no key store, so it cannot keep learning text erasable"));
  }
  v1::LearningText text;
  text.set_title(std::move(*learning.mutable_title()));
  text.set_summary(std::move(*learning.mutable_summary()));
  text.set_outcome(std::move(*learning.mutable_outcome()));
  learning.clear_title();
  learning.clear_summary();
  learning.clear_outcome();
  auto key_id = options_.key_store->Create();
  if (!key_id.ok()) return Answer(RequestKind::kLearning, 1, key_id.status());
  auto key = options_.key_store->Get(*key_id);
  if (!key.ok() || !key->has_value()) {
    return Answer(RequestKind::kLearning, 1,
                  absl::UnavailableError("the key store lost a key it had just made"));
  }
  auto sealed = vault::Seal(**key, text.SerializeAsString(), id);
  if (!sealed.ok()) return Answer(RequestKind::kLearning, 1, sealed.status());
  v1::Envelope envelope = NewEnvelope(principal);
  auto* shared = envelope.mutable_learning_shared();
  *shared->mutable_learning() = std::move(learning);
  shared->set_sealed_text(std::move(*sealed));
  shared->set_key_id(*key_id);
  // The learning message moves with the envelope (its heap object stays).
  const v1::Learning& appended = shared->learning();
  return Answer(RequestKind::kLearning, 1,
                AppendOnce(RequestKey(kLearning, id), id, 1, std::move(envelope),
                           [&](const Catalogue& catalogue) {
                             return ValidateLearning(catalogue, appended, current,
                                                     /*check_text=*/false);
                           }));
}

absl::StatusOr<v1::Receipt> Gateway::EraseLearning(v1::LearningErased erasure,
                                                   const std::string& principal) {
  if (auto s = ValidateErasure(erasure); !s.ok()) return Answer(RequestKind::kErasure, 1, s);
  const std::string id = erasure.erasure_id();
  std::string key_id;
  {
    std::lock_guard lock(mu_);
    if (receipts_.count(RequestKey(kErasure, id)) == 0) {
      auto it = learnings_.find(erasure.learning_id());
      if (it == learnings_.end()) {
        return Answer(RequestKind::kErasure, 1,
                      absl::NotFoundError(StrCat("learning_id: no learning ",
                                                 Quote(erasure.learning_id()), " has been shared")));
      }
      key_id = it->second.key_id;
    }
  }
  // The key goes first: once it is gone the text is, whatever happens to
  // the append (a retry with the same id appends the record of it).
  if (!key_id.empty()) {
    if (options_.key_store == nullptr) {
      return Answer(RequestKind::kErasure, 1,
                    absl::FailedPreconditionError("this gateway has no key store to erase from"));
    }
    if (auto s = options_.key_store->Destroy(key_id); !s.ok()) {
      return Answer(RequestKind::kErasure, 1, s);
    }
  }
  v1::Envelope envelope = NewEnvelope(principal);
  *envelope.mutable_learning_erased() = std::move(erasure);
  return Answer(RequestKind::kErasure, 1,
                AppendOnce(RequestKey(kErasure, id), id, 1, std::move(envelope),
                           [](const Catalogue&) { return absl::OkStatus(); }));
}

std::optional<std::string> Gateway::CollaborativeOfLearning(const std::string& learning_id) const {
  std::lock_guard lock(mu_);
  auto it = learnings_.find(learning_id);
  if (it == learnings_.end()) return std::nullopt;
  return it->second.collaborative_id;
}

absl::StatusOr<v1::Receipt> Gateway::ChangeCatalogue(v1::CatalogueChanged change,
                                                     const std::string& principal) {
  const std::string id = change.change_id();
  const auto rows = EntriesIn(change);
  if (id.empty()) {
    return Answer(RequestKind::kCatalogue, rows,
                  InvalidField("change.change_id", "REQUIRED", "a change id is required"));
  }
  v1::Envelope envelope = NewEnvelope(principal);
  *envelope.mutable_catalogue_changed() = std::move(change);
  const auto& changed = envelope.catalogue_changed();
  // One change at a time, each checked against a catalogue that already
  // holds the one before it.
  std::lock_guard serial(catalogue_change_mu_);
  auto receipt = AppendOnce(RequestKey(kCatalogueChange, id), id, rows, std::move(envelope),
                            [&](const Catalogue& catalogue) {
                              return catalogue.Check(changed, "change.");
                            });
  if (receipt.ok() && !receipt->duplicate()) {
    WaitFor(LogPosition(receipt->position()),
            std::chrono::steady_clock::now() + std::chrono::seconds(30));
  }
  return Answer(RequestKind::kCatalogue, rows, std::move(receipt));
}

absl::StatusOr<v1::Receipt> Gateway::ChangeSpcLimits(v1::SpcLimitsChanged change,
                                                     const std::string& principal) {
  const std::string id = change.change_id();
  v1::Envelope envelope = NewEnvelope(principal);
  *envelope.mutable_spc_limits_changed() = std::move(change);
  const auto& changed = envelope.spc_limits_changed();
  if (id.empty()) {
    return Answer(RequestKind::kSpcLimits, 1,
                  ValidateSpcLimitsChange(Catalogue(), changed, "change."));
  }
  return Answer(RequestKind::kSpcLimits, 1,
                AppendOnce(RequestKey(kSpcLimits, id), id, 1, std::move(envelope),
                           [&](const Catalogue& catalogue) {
                             return ValidateSpcLimitsChange(catalogue, changed, "change.");
                           }));
}

std::shared_ptr<const Catalogue> Gateway::catalogue() const {
  std::lock_guard lock(mu_);
  return catalogue_;
}

LogPosition Gateway::position() const {
  std::lock_guard lock(mu_);
  return LogPosition(position_);
}

bool Gateway::WaitFor(LogPosition position,
                      std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(mu_);
  return folded_cv_.wait_until(lock, deadline,
                               [&] { return position_ >= position.value() || !health_.ok(); }) &&
         position_ >= position.value();
}

}  // namespace psc::gateway
