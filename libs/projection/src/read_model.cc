#include "psc/projection/read_model.h"

#include <malloc.h>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <google/protobuf/arena.h>

#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "codec.h"
#include "psc/domain/strings.h"
#include "psc/domain/timeliness.h"
#include "psc/domain/validation.h"
#include "psc/vault/seal.h"

namespace psc::projection {
namespace {

using codec::ObservationValue;

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(StrCat("read model: ", what, ": ", s.ToString()));
}

const std::vector<std::string>& FamilyNames() {
  static const std::vector<std::string> names = {
      rocksdb::kDefaultColumnFamilyName, codec::kMetaCf,      codec::kCatalogueCf,
      codec::kRequestsCf,               codec::kObservationsCf, codec::kAggregatesCf,
      codec::kQuarterLastCf,            codec::kLearningCf,   codec::kRefusedCf,
      codec::kHistoryCf,                codec::kPublicationsCf, codec::kSignOffsCf,
      codec::kSpcLimitsCf,              codec::kReportingCf};
  return names;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

// Where an aggregate lives: (measure, period, collaborative), monthly or
// AGGREGATION_LAST quarterly.
struct AggregateRef {
  std::string measure;
  int period = 0;
  std::string collaborative;
  bool quarter = false;
};
// The same, by views: what lookups pass, so finding one copies nothing.
struct AggregateRefView {
  std::string_view measure;
  int period = 0;
  std::string_view collaborative;
  bool quarter = false;
};
struct AggregateRefHash {
  using is_transparent = void;
  static AggregateRefView Of(const AggregateRef& r) {
    return {r.measure, r.period, r.collaborative, r.quarter};
  }
  static AggregateRefView Of(const AggregateRefView& r) { return r; }
  template <class R>
  size_t operator()(const R& r) const {
    const AggregateRefView v = Of(r);
    std::hash<std::string_view> h;
    return h(v.measure) ^ (h(v.collaborative) * 31) ^
           (static_cast<size_t>(v.period) * 2 + (v.quarter ? 1 : 0)) * 1000003;
  }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    const AggregateRefView x = Of(a), y = Of(b);
    return x.period == y.period && x.quarter == y.quarter && x.measure == y.measure &&
           x.collaborative == y.collaborative;
  }
};

int64_t MillisOf(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000 + t.nanos() / 1'000'000;
}

}  // namespace

// One record decoded and, for a submission, validated against the
// catalogue its run starts with: done on a second thread while the first
// applies the records before it.
struct Prepared {
  // Parsed on an arena: one allocation for the whole event instead of one
  // per row and string.
  std::unique_ptr<google::protobuf::Arena> arena;
  v1::Envelope* envelope = nullptr;  // null: the bytes do not decode
  // ValidateObservations against `catalogue` (submissions only).
  std::optional<absl::Status> validation;

  void Prepare(const eventlog::Record& record, const Catalogue& catalogue) {
    arena = std::make_unique<google::protobuf::Arena>();
    envelope = google::protobuf::Arena::CreateMessage<v1::Envelope>(arena.get());
    if (!envelope->ParseFromString(record.payload)) {
      envelope = nullptr;
      return;
    }
    if (envelope->has_observations_submitted()) {
      validation = ValidateObservations(catalogue, envelope->observations_submitted(), 0,
                                        std::nullopt, kNoLimits);
    }
  }
};

// Folds a run of records into one WriteBatch, reading state through an
// overlay of what the run itself has written so far.
class Applier {
 public:
  explicit Applier(ReadModel& model)
      : model_(model), catalogue_(model.catalogue_), run_catalogue_(model.catalogue_.get()) {}

  // `prepared` was made against the catalogue this run started with; its
  // validation is used only while that is still the catalogue in force
  // (no catalogue change earlier in the run), so the outcome is the one a
  // validation here would give.
  absl::Status ApplyRecord(const eventlog::Record& record, const Prepared& prepared) {
    if (prepared.envelope == nullptr) {
      return absl::DataLossError(StrCat("event at position ", record.position.value(),
                                        " cannot be decoded: the log is damaged"));
    }
    const v1::Envelope& envelope = *prepared.envelope;
    prevalidated_ = prepared.validation ? &*prepared.validation : nullptr;
    uint64_t position = record.position.value();
    event_position_ = position;
    last_recorded_ms_ = MillisOf(envelope.recorded_at());
    switch (envelope.payload_case()) {
      case v1::Envelope::kCatalogueChanged:
        return ApplyCatalogue(position, envelope);
      case v1::Envelope::kObservationsSubmitted:
        return ApplyObservations(position, envelope);
      case v1::Envelope::kLearningShared:
        return ApplyLearning(position, envelope);
      case v1::Envelope::kLearningErased:
        return ApplyErasure(position, envelope);
      case v1::Envelope::kObservationsWithdrawn:
        return ApplyWithdrawal(position, envelope);
      case v1::Envelope::kQuarterPublished:
        return ApplyPublication(position, envelope);
      case v1::Envelope::kQuarterSignedOff:
        return ApplySignOff(position, envelope);
      case v1::Envelope::kSpcLimitsChanged:
        return ApplySpcLimits(position, envelope);
      default:
        return absl::FailedPreconditionError(
            StrCat("event at position ", position,
                   " has a type this version does not know: upgrade psc before folding this log"));
    }
  }

  absl::Status Commit(uint64_t position) {
    auto& m = model_;
    // Every family goes in key order: RocksDB's memtable inserts a sorted
    // run next to the previous key instead of searching from the top for
    // each one.
    std::vector<std::pair<const std::string*, OrgMonth*>> written;
    for (auto& [key, org_month] : org_months_) {
      if (org_month.dirty) written.emplace_back(&key, &org_month);
    }
    std::sort(written.begin(), written.end(),
              [](const auto& a, const auto& b) { return *a.first < *b.first; });
    codec::MeasureValues values;
    for (const auto& [key, org_month] : written) {
      if (org_month->values.empty()) {
        batch_.Delete(m.observations_, *key);
        continue;
      }
      values.clear();
      for (const auto& [measure, value] : org_month->values) values.emplace_back(measure, value);
      batch_.Put(m.observations_, *key, codec::EncodeOrgMonth(values));
    }
    std::sort(history_.begin(), history_.end());
    for (const auto& [key, value] : history_) batch_.Put(m.history_, key, value);
    batch_.Put(m.meta_, codec::kAppliedPositionKey, codec::U64(position));
    batch_.Put(m.meta_, codec::kObservationCountKey,
               codec::U64(m.observation_count_ + observation_delta_));
    batch_.Put(m.meta_, codec::kRefusedCountKey, codec::U64(m.refused_count_ + refused_delta_));
    PutAggregates();
    // Values per organisation-month after this run, where that changed.
    std::vector<std::pair<std::pair<int, std::string_view>, int64_t>> reporting;
    for (const auto& [key, org_month] : written) {
      if (org_month->values.size() == org_month->loaded_size) continue;
      auto parts = codec::ParseOrgMonthKey(*key);
      const int64_t now = static_cast<int64_t>(org_month->values.size());
      const std::string k = codec::ReportingKey(parts->second, parts->first);
      if (now == 0) {
        batch_.Delete(m.reporting_cf_, k);
      } else {
        batch_.Put(m.reporting_cf_, k, codec::U64(static_cast<uint64_t>(now)));
      }
      reporting.emplace_back(std::make_pair(parts->second.index(), parts->first), now);
    }
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    if (auto s = FromRocks(m.db_->Write(wo, &batch_), "write"); !s.ok()) return s;
    const rocksdb::Snapshot* snapshot = m.db_->GetSnapshot();
    const rocksdb::Snapshot* old = nullptr;
    {
      std::unique_lock lock(m.mu_);
      for (const auto& [ref, sums] : dirty_) {
        auto measure = m.aggregates_by_measure_.find(ref.measure);
        if (measure == m.aggregates_by_measure_.end()) {
          measure = m.aggregates_by_measure_.emplace(ref.measure, MeasureAggregates()).first;
        }
        MeasureAggregates& agg = measure->second;
        auto& areas_by_period = ref.quarter ? agg.quarters_last : agg.months;
        Sums before;
        auto p = areas_by_period.find(ref.period);
        if (p != areas_by_period.end()) {
          if (auto c = p->second.find(ref.collaborative); c != p->second.end()) before = c->second;
        }
        if (sums.IsZero()) {
          if (p != areas_by_period.end()) {
            p->second.erase(ref.collaborative);
            if (p->second.empty()) areas_by_period.erase(p);
          }
        } else {
          areas_by_period[ref.period][ref.collaborative] = sums;
        }
        if (!ref.quarter) {
          Sums& national = agg.national_months[ref.period];
          national -= before;
          national += sums;
          if (national.IsZero()) agg.national_months.erase(ref.period);
        }
        if (agg.months.empty() && agg.quarters_last.empty()) {
          m.aggregates_by_measure_.erase(measure);
        }
        auto& group = m.sums_by_period_[{ref.quarter, ref.period, ref.collaborative}];
        if (sums.IsZero()) {
          group.erase(ref.measure);
        } else {
          group[ref.measure] = sums;
        }
      }
      for (const auto& [key, now] : reporting) {
        auto& orgs = m.reporting_[key.first];
        if (now <= 0) {
          if (auto o = orgs.find(key.second); o != orgs.end()) orgs.erase(o);
          if (orgs.empty()) m.reporting_.erase(key.first);
        } else if (auto o = orgs.find(key.second); o != orgs.end()) {
          o->second = now;
        } else {
          orgs.emplace(std::string(key.second), now);
        }
      }
      m.catalogue_ = catalogue_;
      m.last_recorded_ms_ = last_recorded_ms_;
      m.observation_count_ += observation_delta_;
      m.refused_count_ += refused_delta_;
      old = m.snapshot_;
      m.snapshot_ = snapshot;
      std::lock_guard wait_lock(m.wait_mu_);
      m.applied_ = position;
    }
    if (old != nullptr) m.db_->ReleaseSnapshot(old);
    m.applied_cv_.notify_all();
    // A catalogue change copied the catalogue and may have freed the one
    // before: hand the freed pages back, which the allocator would keep
    // otherwise (at 10M, 82 MiB of a 188 MiB fold; BM_CatalogueFoldWithCopies).
    // Catalogue changes are rare, the trim is cheap beside the copy.
    if (own_catalogue_) malloc_trim(0);
    return absl::OkStatus();
  }

 private:
  // True when a request id is already applied (on disk or earlier in this run).
  absl::StatusOr<bool> Seen(const std::string& key) {
    if (requests_.count(key) > 0) return true;
    std::string value;
    auto s = model_.db_->Get(rocksdb::ReadOptions(), model_.requests_, key, &value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) return FromRocks(s, "read request");
    return true;
  }

  void PutReceipt(const std::string& key, std::string_view id, uint64_t position, uint32_t rows,
                  const v1::Envelope& envelope) {
    v1::Receipt receipt;
    receipt.set_id(std::string(id));
    receipt.set_position(position);
    receipt.set_rows_accepted(rows);
    *receipt.mutable_recorded_at() = envelope.recorded_at();
    receipt.set_principal(envelope.principal());
    batch_.Put(model_.requests_, key, receipt.SerializeAsString());
    requests_.insert(key);
  }

  void PutLearning(const std::string& id, std::string value) {
    batch_.Put(model_.learning_, id, value);
    learning_[id] = std::move(value);
  }

  void Refuse(uint64_t position, std::string_view reason) {
    batch_.Put(model_.refused_, codec::U64(position), std::string(reason));
    ++refused_delta_;
  }

  // One organisation-month's values as this run has left them, sorted by
  // measure id; loaded from the read model on first use.
  struct OrgMonth {
    const std::string* key = nullptr;  // its observations key
    std::vector<std::pair<std::string, ObservationValue>> values;
    bool dirty = false;      // written by this run
    size_t loaded_size = 0;  // values stored before this run
    // Where the current event's changes of it are in event_changes_.
    uint64_t change_event = 0;
    size_t change_slot = 0;
  };

  absl::StatusOr<OrgMonth*> Load(std::string_view ods, Month month) {
    if (last_org_month_ != nullptr && last_ods_ == ods && last_month_ == month) {
      return last_org_month_;
    }
    std::string key = codec::OrgMonthKey(ods, month);
    auto [it, inserted] = org_months_.try_emplace(std::move(key));
    if (inserted) {
      it->second.key = &it->first;
      std::string bytes;
      auto s = model_.db_->Get(rocksdb::ReadOptions(), model_.observations_, it->first, &bytes);
      if (!s.ok() && !s.IsNotFound()) {
        org_months_.erase(it);
        return FromRocks(s, "read observations");
      }
      if (s.ok()) {
        codec::MeasureValues decoded;
        if (!codec::DecodeOrgMonth(bytes, &decoded)) {
          org_months_.erase(it);
          return absl::DataLossError("read model: undecodable observations");
        }
        it->second.values.reserve(decoded.size());
        for (const auto& [measure, value] : decoded) {
          it->second.values.emplace_back(std::string(measure), value);
        }
        it->second.loaded_size = decoded.size();
      }
    }
    last_ods_.assign(ods);
    last_month_ = month;
    last_org_month_ = &it->second;
    return last_org_month_;
  }

  static auto Find(OrgMonth& org_month, std::string_view measure) {
    return std::lower_bound(org_month.values.begin(), org_month.values.end(), measure,
                            [](const auto& entry, std::string_view m) { return entry.first < m; });
  }

  absl::StatusOr<std::optional<ObservationValue>> GetObservation(std::string_view measure,
                                                                 std::string_view ods,
                                                                 Month month) {
    auto org_month = Load(ods, month);
    if (!org_month.ok()) return org_month.status();
    auto it = Find(**org_month, measure);
    if (it == (*org_month)->values.end() || it->first != measure) {
      return std::optional<ObservationValue>();
    }
    return it->second;
  }

  // Stores (value set) or removes (nullopt) one measure's value.
  absl::Status SetObservation(std::string_view measure, std::string_view ods, Month month,
                              const std::optional<ObservationValue>& value) {
    auto org_month = Load(ods, month);
    if (!org_month.ok()) return org_month.status();
    OrgMonth& om = **org_month;
    auto it = Find(om, measure);
    const bool present = it != om.values.end() && it->first == measure;
    if (value) {
      if (present) {
        it->second = *value;
      } else {
        om.values.emplace(it, std::string(measure), *value);
      }
    } else if (present) {
      om.values.erase(it);
    }
    om.dirty = true;
    return absl::OkStatus();
  }

  // Records one measure's change for the history entry of its
  // organisation-month at this event.
  absl::Status NoteChange(std::string_view measure, std::string_view ods, Month month,
                          const std::optional<ObservationValue>& value,
                          const std::optional<ObservationValue>& previous) {
    auto loaded = Load(ods, month);
    if (!loaded.ok()) return loaded.status();
    OrgMonth& om = **loaded;
    if (om.change_event != event_position_ || om.change_slot >= event_changes_.size() ||
        event_changes_[om.change_slot].first != om.key) {
      om.change_event = event_position_;
      om.change_slot = event_changes_.size();
      event_changes_.emplace_back(om.key, std::vector<codec::MeasureChange>());
    }
    event_changes_[om.change_slot].second.push_back({std::string(measure), value, previous});
    return absl::OkStatus();
  }

  // Turns the changes of one event into history entries, one per
  // organisation-month.
  void PutHistory(uint64_t position, const v1::Envelope& envelope, const std::string& request_id,
                  v1::ValueChangeKind kind, const std::string& reason) {
    if (event_changes_.empty()) return;
    v1::ValueChange shared;
    shared.set_kind(kind);
    *shared.mutable_recorded_at() = envelope.recorded_at();
    shared.set_principal(envelope.principal());
    shared.set_request_id(request_id);
    shared.set_reason(reason);
    const std::string shared_bytes = shared.SerializeAsString();
    const std::string suffix = codec::U64(position);
    for (auto& [key, changes] : event_changes_) {
      history_.emplace_back(*key + suffix, codec::EncodeHistory(shared_bytes, changes));
    }
    event_changes_.clear();
  }

  Sums& Dirty(const AggregateRefView& ref) {
    auto it = dirty_.find(ref);
    if (it != dirty_.end()) return it->second;
    Sums current;
    auto m = model_.aggregates_by_measure_.find(ref.measure);
    if (m != model_.aggregates_by_measure_.end()) {
      const auto& by_period = ref.quarter ? m->second.quarters_last : m->second.months;
      auto p = by_period.find(ref.period);
      if (p != by_period.end()) {
        auto c = p->second.find(ref.collaborative);
        if (c != p->second.end()) current = c->second;
      }
    }
    return dirty_
        .emplace(AggregateRef{std::string(ref.measure), ref.period, std::string(ref.collaborative),
                              ref.quarter},
                 current)
        .first->second;
  }

  // An organisation's latest month in a quarter with a value, for
  // AGGREGATION_LAST.
  struct Latest {
    Month month;
    ObservationValue value;
  };
  absl::StatusOr<std::optional<Latest>> LatestInQuarter(const std::string& measure,
                                                        const std::string& ods, Quarter q) {
    for (Month m = q.LastMonth(); m >= q.FirstMonth(); m = m.Plus(-1)) {
      auto v = GetObservation(measure, ods, m);
      if (!v.ok()) return v.status();
      if (v->has_value()) return Latest{m, **v};
    }
    return std::optional<Latest>();
  }

  // What an organisation's latest month adds to its quarter's
  // AGGREGATION_LAST sums.
  static Sums LastSums(const Latest& latest) {
    return {latest.value.numerator, latest.value.denominator.value_or(0), 1, 0};
  }

  // Adds (sign +1) or removes (-1) an organisation's latest month in the
  // sums of the collaborative it belonged to in that month. The sums always
  // sit under the catalogue's current membership (MoveAggregates moves them
  // when it changes), so a removal finds them where the addition put them.
  void AddLatest(const std::string& measure, const std::string& ods, Quarter q,
                 const Latest& latest, int sign) {
    const std::string* collab = catalogue_->CollaborativeOf(ods, latest.month);
    Sums& s = Dirty({measure, q.index(), collab ? std::string_view(*collab) : "", true});
    if (sign > 0) {
      s += LastSums(latest);
    } else {
      s -= LastSums(latest);
    }
  }

  // What one stored value adds to its month's sums.
  static Sums MonthSums(const v1::Measure& measure, Month month, const ObservationValue& value) {
    return {value.numerator, value.denominator.value_or(0), 1,
            OnTime(measure, month, value.first_recorded_ms) ? 1 : 0};
  }

  // Writes every period and collaborative whose sums this run changed, with
  // the sums of every measure in it: the stored ones merged with this
  // run's.
  void PutAggregates() {
    std::map<PeriodGroup, std::map<std::string_view, Sums>> groups;
    for (const auto& [ref, sums] : dirty_) {
      groups[{ref.quarter, ref.period, ref.collaborative}][ref.measure] = sums;
    }
    codec::MeasureSums packed;
    static const std::map<std::string, Sums, std::less<>> kNone;
    for (const auto& [group, changed] : groups) {
      auto found = model_.sums_by_period_.find(group);
      const auto& stored = found == model_.sums_by_period_.end() ? kNone : found->second;
      packed.clear();
      auto a = stored.begin();
      auto b = changed.begin();
      while (a != stored.end() || b != changed.end()) {
        if (b == changed.end() || (a != stored.end() && std::string_view(a->first) < b->first)) {
          packed.emplace_back(a->first, a->second);
          ++a;
          continue;
        }
        if (a != stored.end() && std::string_view(a->first) == b->first) ++a;
        if (!b->second.IsZero()) packed.emplace_back(b->first, b->second);
        ++b;
      }
      auto* cf = group.quarter ? model_.quarter_last_ : model_.aggregates_;
      const std::string key = codec::PeriodKey(group.period, group.collaborative);
      if (packed.empty()) {
        batch_.Delete(cf, key);
      } else {
        batch_.Put(cf, key, codec::EncodeMeasureSums(packed));
      }
    }
  }

  // The months in `span` with any value stored for an organisation, as
  // this run has left them.
  absl::StatusOr<std::vector<Month>> MonthsStored(const std::string& ods, const MonthSpan& span) {
    std::set<Month> months;
    const std::string prefix = codec::OrgMonthPrefix(ods);
    std::unique_ptr<rocksdb::Iterator> it(
        model_.db_->NewIterator(rocksdb::ReadOptions(), model_.observations_));
    for (it->Seek(codec::OrgMonthKey(ods, span.from));
         it->Valid() && it->key().starts_with(prefix); it->Next()) {
      auto key = codec::ParseOrgMonthKey(std::string_view(it->key().data(), it->key().size()));
      if (!key) return absl::DataLossError("read model: undecodable observations key");
      if (!span.Contains(key->second)) break;
      months.insert(key->second);
    }
    if (!it->status().ok()) return FromRocks(it->status(), "read observations");
    for (const auto& [key, org_month] : org_months_) {
      auto parts = codec::ParseOrgMonthKey(key);
      if (parts && parts->first == ods && span.Contains(parts->second)) months.insert(parts->second);
    }
    std::vector<Month> out;
    for (Month m : months) {
      auto org_month = Load(ods, m);
      if (!org_month.ok()) return org_month.status();
      if (!(*org_month)->values.empty()) out.push_back(m);
    }
    return out;
  }

  // Moves the sums of every value stored in the months of `moves` from the
  // collaborative the organisation left to the one it joined, for every
  // measure, and the AGGREGATION_LAST sums of the quarters whose latest
  // month moved. Totals across collaboratives do not change.
  absl::Status MoveAggregates(const std::vector<MembershipMove>& moves) {
    for (const MembershipMove& move : moves) {
      auto months = MonthsStored(move.ods_code, move.months);
      if (!months.ok()) return months.status();
      for (const std::string& measure_id : catalogue_->MeasuresEnrolled(move.ods_code)) {
        const v1::Measure& measure = *catalogue_->FindMeasure(measure_id);
        std::set<Quarter> quarters;
        for (Month month : *months) {
          auto value = GetObservation(measure_id, move.ods_code, month);
          if (!value.ok()) return value.status();
          if (!value->has_value()) continue;
          const Sums sums = MonthSums(measure, month, **value);
          Dirty({measure_id, month.index(), move.from_collaborative, false}) -= sums;
          Dirty({measure_id, month.index(), move.to_collaborative, false}) += sums;
          quarters.insert(Quarter::Containing(month));
        }
        if (measure.aggregation() != v1::AGGREGATION_LAST) continue;
        for (Quarter q : quarters) {
          auto latest = LatestInQuarter(measure_id, move.ods_code, q);
          if (!latest.ok()) return latest.status();
          // A quarter whose latest month did not move stays where it is.
          if (!latest->has_value() || !move.months.Contains((*latest)->month)) continue;
          Dirty({measure_id, q.index(), move.from_collaborative, true}) -= LastSums(**latest);
          Dirty({measure_id, q.index(), move.to_collaborative, true}) += LastSums(**latest);
        }
      }
    }
    return absl::OkStatus();
  }

  absl::Status ApplyCatalogue(uint64_t position, const v1::Envelope& envelope) {
    const auto& change = envelope.catalogue_changed();
    std::string key = codec::RequestKey(codec::kCatalogueRequest, change.change_id());
    auto seen = Seen(key);
    if (!seen.ok()) return seen.status();
    if (*seen) return absl::OkStatus();
    if (absl::Status check = catalogue_->Check(change); !check.ok()) {
      Refuse(position, StrCat("catalogue change ", change.change_id(), ": ", check.message()));
      return absl::OkStatus();
    }
    // Values stored for months the change moves to another collaborative
    // move with them, in this batch.
    const std::vector<MembershipMove> moves = catalogue_->MovesIn(change);
    if (!own_catalogue_) {
      own_catalogue_ = std::make_shared<Catalogue>(*catalogue_);
      catalogue_ = own_catalogue_;
    }
    own_catalogue_->Apply(change);
    if (absl::Status moved = MoveAggregates(moves); !moved.ok()) return moved;
    batch_.Put(model_.catalogue_cf_, codec::U64(position), change.SerializeAsString());
    uint32_t rows = EntriesIn(change);
    PutReceipt(key, change.change_id(), position, rows, envelope);
    return absl::OkStatus();
  }

  absl::Status ApplyObservations(uint64_t position, const v1::Envelope& envelope) {
    const auto& batch = envelope.observations_submitted();
    std::string key = codec::RequestKey(codec::kSubmissionRequest, batch.submission_id());
    auto seen = Seen(key);
    if (!seen.ok()) return seen.status();
    if (*seen) return absl::OkStatus();  // a repeated submission id changes nothing
    const bool prevalidated = prevalidated_ != nullptr && catalogue_.get() == run_catalogue_;
    if (absl::Status check = prevalidated ? *prevalidated_
                                          : ValidateObservations(*catalogue_, batch, 0,
                                                                 std::nullopt, kNoLimits);
        !check.ok()) {
      Refuse(position, StrCat("submission ", batch.submission_id(), ": ", check.message()));
      return absl::OkStatus();
    }
    const int64_t recorded_ms = MillisOf(envelope.recorded_at());
    for (const v1::Observation& row : batch.rows()) {
      Month month = *Month::Parse(row.month());
      const v1::Measure& measure = *catalogue_->FindMeasure(row.measure_id());
      const std::string& collab = *catalogue_->CollaborativeOf(row.ods_code(), month);
      const bool last = measure.aggregation() == v1::AGGREGATION_LAST;
      Quarter quarter = Quarter::Containing(month);

      std::optional<Latest> latest_before;
      if (last) {
        auto l = LatestInQuarter(row.measure_id(), row.ods_code(), quarter);
        if (!l.ok()) return l.status();
        latest_before = *l;
      }
      auto old = GetObservation(row.measure_id(), row.ods_code(), month);
      if (!old.ok()) return old.status();
      ObservationValue value;
      value.numerator = row.numerator();
      if (row.has_denominator()) value.denominator = row.denominator();
      value.position = position;
      value.first_position = old->has_value() ? (*old)->first_position : position;
      value.first_recorded_ms = old->has_value() ? (*old)->first_recorded_ms : recorded_ms;
      if (auto set = SetObservation(row.measure_id(), row.ods_code(), month, value); !set.ok()) {
        return set;
      }
      if (auto noted = NoteChange(row.measure_id(), row.ods_code(), month, value, *old);
          !noted.ok()) {
        return noted;
      }

      // Move the monthly sums by the delta: a correction replaces (and keeps
      // the timeliness of the first value).
      Sums& s = Dirty({row.measure_id(), month.index(), collab, false});
      if (old->has_value()) {
        s.numerator -= (*old)->numerator;
        s.denominator -= (*old)->denominator.value_or(0);
      } else {
        s.reported += 1;
        s.on_time += OnTime(measure, month, value.first_recorded_ms) ? 1 : 0;
        ++observation_delta_;
      }
      s.numerator += value.numerator;
      s.denominator += value.denominator.value_or(0);

      if (last) {
        if (latest_before) AddLatest(row.measure_id(), row.ods_code(), quarter, *latest_before, -1);
        auto l = LatestInQuarter(row.measure_id(), row.ods_code(), quarter);
        if (!l.ok()) return l.status();
        AddLatest(row.measure_id(), row.ods_code(), quarter, **l, +1);
      }
    }
    PutHistory(position, envelope, batch.submission_id(), v1::VALUE_CHANGE_KIND_SUBMITTED, "");
    PutReceipt(key, batch.submission_id(), position, static_cast<uint32_t>(batch.rows_size()),
               envelope);
    return absl::OkStatus();
  }

  static bool OnTime(const v1::Measure& measure, Month month, int64_t first_recorded_ms) {
    const auto deadline = std::chrono::duration_cast<std::chrono::milliseconds>(
                              OnTimeDeadline(measure, month).time_since_epoch())
                              .count();
    return first_recorded_ms < deadline;
  }

  absl::Status ApplyWithdrawal(uint64_t position, const v1::Envelope& envelope) {
    const auto& w = envelope.observations_withdrawn();
    std::string key = codec::RequestKey(codec::kWithdrawalRequest, w.withdrawal_id());
    auto seen = Seen(key);
    if (!seen.ok()) return seen.status();
    if (*seen) return absl::OkStatus();
    if (absl::Status check = ValidateWithdrawal(*catalogue_, w, kNoLimits); !check.ok()) {
      Refuse(position, StrCat("withdrawal ", w.withdrawal_id(), ": ", check.message()));
      return absl::OkStatus();
    }
    uint32_t withdrawn = 0;
    for (const v1::ObservationKey& k : w.keys()) {
      Month month = *Month::Parse(k.month());
      auto old = GetObservation(k.measure_id(), k.ods_code(), month);
      if (!old.ok()) return old.status();
      if (!old->has_value()) continue;  // nothing stored: nothing to withdraw
      const v1::Measure& measure = *catalogue_->FindMeasure(k.measure_id());
      const bool last = measure.aggregation() == v1::AGGREGATION_LAST;
      Quarter quarter = Quarter::Containing(month);
      std::optional<Latest> latest_before;
      if (last) {
        auto l = LatestInQuarter(k.measure_id(), k.ods_code(), quarter);
        if (!l.ok()) return l.status();
        latest_before = *l;
      }
      if (auto noted = NoteChange(k.measure_id(), k.ods_code(), month, std::nullopt, *old);
          !noted.ok()) {
        return noted;
      }
      if (auto set = SetObservation(k.measure_id(), k.ods_code(), month, std::nullopt); !set.ok()) {
        return set;
      }
      const std::string* collab = catalogue_->CollaborativeOf(k.ods_code(), month);
      Dirty({k.measure_id(), month.index(), collab ? std::string_view(*collab) : "", false}) -=
          MonthSums(measure, month, **old);
      --observation_delta_;
      ++withdrawn;
      if (last) {
        if (latest_before) AddLatest(k.measure_id(), k.ods_code(), quarter, *latest_before, -1);
        auto l = LatestInQuarter(k.measure_id(), k.ods_code(), quarter);
        if (!l.ok()) return l.status();
        if (l->has_value()) AddLatest(k.measure_id(), k.ods_code(), quarter, **l, +1);
      }
    }
    PutHistory(position, envelope, w.withdrawal_id(), v1::VALUE_CHANGE_KIND_WITHDRAWN, w.reason());
    PutReceipt(key, w.withdrawal_id(), position, withdrawn, envelope);
    return absl::OkStatus();
  }

  absl::Status ApplyPublication(uint64_t position, const v1::Envelope& envelope) {
    const auto& p = envelope.quarter_published();
    std::string key = codec::RequestKey(codec::kPublicationRequest, p.publication_id());
    auto seen = Seen(key);
    if (!seen.ok()) return seen.status();
    if (*seen) return absl::OkStatus();
    if (absl::Status check = ValidatePublication(p); !check.ok()) {
      Refuse(position, StrCat("publication ", p.publication_id(), ": ", check.message()));
      return absl::OkStatus();
    }
    Quarter quarter = *Quarter::Parse(p.quarter());
    std::string pub_key = codec::U64(static_cast<uint64_t>(quarter.index()));
    pub_key.append(codec::U64(position));
    batch_.Put(model_.publications_, pub_key, envelope.SerializeAsString());
    PutReceipt(key, p.publication_id(), position, static_cast<uint32_t>(p.renderings_size()),
               envelope);
    return absl::OkStatus();
  }

  absl::Status ApplySignOff(uint64_t position, const v1::Envelope& envelope) {
    const auto& so = envelope.quarter_signed_off();
    std::string key = codec::RequestKey(codec::kSignOffRequest, so.sign_off_id());
    auto seen = Seen(key);
    if (!seen.ok()) return seen.status();
    if (*seen) return absl::OkStatus();
    if (absl::Status check = ValidateSignOff(*catalogue_, so); !check.ok()) {
      Refuse(position, StrCat("sign-off ", so.sign_off_id(), ": ", check.message()));
      return absl::OkStatus();
    }
    std::string value = codec::U64(position);
    value.append(envelope.SerializeAsString());
    batch_.Put(model_.sign_offs_,
               codec::SignOffKey(*Quarter::Parse(so.quarter()), so.collaborative_id()), value);
    PutReceipt(key, so.sign_off_id(), position, static_cast<uint32_t>(so.figures_size()),
               envelope);
    return absl::OkStatus();
  }

  absl::Status ApplySpcLimits(uint64_t position, const v1::Envelope& envelope) {
    const auto& c = envelope.spc_limits_changed();
    std::string key = codec::RequestKey(codec::kSpcLimitsRequest, c.change_id());
    auto seen = Seen(key);
    if (!seen.ok()) return seen.status();
    if (*seen) return absl::OkStatus();
    if (absl::Status check = ValidateSpcLimitsChange(*catalogue_, c); !check.ok()) {
      Refuse(position, StrCat("limits change ", c.change_id(), ": ", check.message()));
      return absl::OkStatus();
    }
    std::string limits_key =
        codec::SpcLimitsPrefix(c.measure_id(), c.collaborative_id(), c.ods_code());
    limits_key.append(codec::U64(position));
    batch_.Put(model_.spc_limits_, limits_key, envelope.SerializeAsString());
    PutReceipt(key, c.change_id(), position, 1, envelope);
    return absl::OkStatus();
  }

  absl::Status ApplyLearning(uint64_t position, const v1::Envelope& envelope) {
    const v1::LearningShared& shared = envelope.learning_shared();
    const v1::Learning& learning = shared.learning();
    std::string key = codec::RequestKey(codec::kLearningRequest, learning.learning_id());
    auto seen = Seen(key);
    if (!seen.ok()) return seen.status();
    if (*seen) return absl::OkStatus();
    if (absl::Status check = ValidateLearning(*catalogue_, learning, std::nullopt,
                                              /*check_text=*/shared.sealed_text().empty());
        !check.ok()) {
      Refuse(position, StrCat("learning ", learning.learning_id(), ": ", check.message()));
      return absl::OkStatus();
    }
    PutLearning(learning.learning_id(), shared.SerializeAsString());
    PutReceipt(key, learning.learning_id(), position, 1, envelope);
    return absl::OkStatus();
  }

  // The learning stays (it counts in the reports); its text goes: the
  // sealed text and key id are dropped (the key itself was destroyed before
  // the event was appended), and text kept in the clear by an event from
  // before sealing is cleared.
  absl::Status ApplyErasure(uint64_t position, const v1::Envelope& envelope) {
    const v1::LearningErased& e = envelope.learning_erased();
    std::string key = codec::RequestKey(codec::kErasureRequest, e.erasure_id());
    auto seen = Seen(key);
    if (!seen.ok()) return seen.status();
    if (*seen) return absl::OkStatus();
    if (absl::Status check = ValidateErasure(e); !check.ok()) {
      Refuse(position, StrCat("erasure ", e.erasure_id(), ": ", check.message()));
      return absl::OkStatus();
    }
    std::string value;
    rocksdb::Status s;
    if (auto it = learning_.find(e.learning_id()); it != learning_.end()) {
      value = it->second;
    } else {
      s = model_.db_->Get(rocksdb::ReadOptions(), model_.learning_, e.learning_id(), &value);
    }
    if (s.IsNotFound()) {
      Refuse(position,
             StrCat("erasure ", e.erasure_id(), ": no learning ", Quote(e.learning_id())));
      return absl::OkStatus();
    }
    if (!s.ok()) return FromRocks(s, "read learning");
    v1::LearningShared shared;
    if (!shared.ParseFromString(value)) return absl::DataLossError("read model: undecodable learning");
    shared.clear_sealed_text();
    shared.clear_key_id();
    v1::Learning* learning = shared.mutable_learning();
    learning->clear_title();
    learning->clear_summary();
    learning->clear_outcome();
    PutLearning(e.learning_id(), shared.SerializeAsString());
    PutReceipt(key, e.erasure_id(), position, 1, envelope);
    return absl::OkStatus();
  }

  ReadModel& model_;
  rocksdb::WriteBatch batch_;
  std::shared_ptr<const Catalogue> catalogue_;
  std::shared_ptr<Catalogue> own_catalogue_;  // set once this run changes the catalogue
  const Catalogue* run_catalogue_;            // the catalogue the run started with
  const absl::Status* prevalidated_ = nullptr;  // the current record's, if any
  // Organisation-months read or written by this run, by observations key,
  // and the one used last (a request's rows come by organisation-month).
  std::unordered_map<std::string, OrgMonth> org_months_;
  std::string last_ods_;
  Month last_month_;
  OrgMonth* last_org_month_ = nullptr;
  // The current event's changes, per organisation-month (by its key), and
  // the event's position.
  std::vector<std::pair<const std::string*, std::vector<codec::MeasureChange>>> event_changes_;
  uint64_t event_position_ = 0;
  std::unordered_set<std::string> requests_;
  // Learning written by this run, by id (an erasure may follow its
  // learning in one run).
  std::unordered_map<std::string, std::string> learning_;
  std::unordered_map<AggregateRef, Sums, AggregateRefHash, AggregateRefHash> dirty_;
  // History entries of this run, written at Commit in key order.
  std::vector<std::pair<std::string, std::string>> history_;
  int64_t observation_delta_ = 0;
  int64_t refused_delta_ = 0;
  int64_t last_recorded_ms_ = 0;
};

absl::StatusOr<std::unique_ptr<ReadModel>> ReadModel::Open(const std::string& dir,
                                                           ReadModelOptions options) {
  std::unique_ptr<ReadModel> model(new ReadModel());
  model->dir_ = dir;
  model->key_store_ = options.key_store;

  auto cache = rocksdb::NewLRUCache(options.memory_budget_bytes);
  model->cache_ = cache;
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // WAL off for every write: flushes must then be atomic across families so
  // a crash leaves the state of one applied position.
  db_options.atomic_flush = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 3;
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.memory_budget_bytes / 2, cache);

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.compression = rocksdb::kLZ4Compression;
  cf.write_buffer_size = 32u << 20;

  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& name : FamilyNames()) families.emplace_back(name, cf);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, families, &model->handles_, &raw);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return absl::FailedPreconditionError(
          StrCat("read model ", dir, " is in use by another process"));
    }
    return FromRocks(s, StrCat("open ", dir));
  }
  model->db_.reset(raw);
  auto& h = model->handles_;
  model->meta_ = h[1];
  model->catalogue_cf_ = h[2];
  model->requests_ = h[3];
  model->observations_ = h[4];
  model->aggregates_ = h[5];
  model->quarter_last_ = h[6];
  model->learning_ = h[7];
  model->refused_ = h[8];
  model->history_ = h[9];
  model->publications_ = h[10];
  model->sign_offs_ = h[11];
  model->spc_limits_ = h[12];
  model->reporting_cf_ = h[13];

  std::string schema;
  s = model->db_->Get(rocksdb::ReadOptions(), model->meta_, codec::kSchemaKey, &schema);
  if (s.IsNotFound()) {
    rocksdb::WriteOptions wo;
    wo.disableWAL = true;
    s = model->db_->Put(wo, model->meta_, codec::kSchemaKey, codec::U64(codec::kSchemaVersion));
    if (s.ok()) s = model->db_->Flush(rocksdb::FlushOptions(), model->handles_);
  } else if (s.ok() && codec::ParseU64(schema) != codec::kSchemaVersion) {
    return absl::FailedPreconditionError(
        StrCat("read model ", dir, " has another schema version: rebuild it (--rebuild)"));
  }
  if (!s.ok()) return FromRocks(s, "schema");
  if (auto status = model->LoadMirror(); !status.ok()) return status;
  return model;
}

absl::Status ReadModel::LoadMirror() {
  rocksdb::ReadOptions ro;
  auto u64 = [&](const char* key) -> absl::StatusOr<uint64_t> {
    std::string v;
    auto s = db_->Get(ro, meta_, key, &v);
    if (s.IsNotFound()) return 0;
    if (!s.ok()) return FromRocks(s, key);
    auto parsed = codec::ParseU64(v);
    if (!parsed) return absl::DataLossError(StrCat("read model: bad ", key));
    return *parsed;
  };
  auto applied = u64(codec::kAppliedPositionKey);
  auto count = u64(codec::kObservationCountKey);
  auto refused = u64(codec::kRefusedCountKey);
  for (auto* st : {&applied, &count, &refused}) {
    if (!st->ok()) return st->status();
  }
  applied_ = *applied;
  observation_count_ = *count;
  refused_count_ = *refused;

  auto catalogue = std::make_shared<Catalogue>();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, catalogue_cf_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    v1::CatalogueChanged change;
    if (!change.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("read model: undecodable catalogue change");
    }
    catalogue->Apply(change);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "load catalogue");
  catalogue_ = catalogue;

  for (bool quarter : {false, true}) {
    it.reset(db_->NewIterator(ro, quarter ? quarter_last_ : aggregates_));
    codec::MeasureSums sums;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto key = codec::ParsePeriodKey(std::string_view(it->key().data(), it->key().size()));
      if (!key || !codec::DecodeMeasureSums(
                      std::string_view(it->value().data(), it->value().size()), &sums)) {
        return absl::DataLossError("read model: undecodable aggregate");
      }
      for (const auto& [measure, s] : sums) {
        auto m = aggregates_by_measure_.find(measure);
        if (m == aggregates_by_measure_.end()) {
          m = aggregates_by_measure_.emplace(std::string(measure), MeasureAggregates()).first;
        }
        (quarter ? m->second.quarters_last : m->second.months)[key->first].emplace(key->second, s);
        if (!quarter) m->second.national_months[key->first] += s;
        sums_by_period_[{quarter, key->first, std::string(key->second)}].emplace(measure, s);
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), "load aggregates");
  }
  it.reset(db_->NewIterator(ro, reporting_cf_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto key = codec::ParseReportingKey(std::string_view(it->key().data(), it->key().size()));
    auto count = codec::ParseU64(std::string_view(it->value().data(), it->value().size()));
    if (!key || !count) return absl::DataLossError("read model: undecodable reporting entry");
    reporting_[key->first.index()][std::string(key->second)] = static_cast<int64_t>(*count);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "load reporting");
  snapshot_ = db_->GetSnapshot();
  return absl::OkStatus();
}

ReadModel::~ReadModel() {
  if (!db_) return;
  (void)Flush();
  if (snapshot_ != nullptr) db_->ReleaseSnapshot(snapshot_);
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

absl::Status ReadModel::BindToLog(const std::string& log_id) {
  std::string stored;
  auto s = db_->Get(rocksdb::ReadOptions(), meta_, codec::kLogIdKey, &stored);
  if (s.ok()) {
    if (stored == log_id) return absl::OkStatus();
    return absl::FailedPreconditionError(
        StrCat("read model ", dir_, " was built from log ", stored, ", not ", log_id,
               ": rebuild it (--rebuild) or point it at its own log"));
  }
  if (!s.IsNotFound()) return FromRocks(s, "log id");
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  s = db_->Put(wo, meta_, codec::kLogIdKey, log_id);
  if (s.ok()) s = db_->Flush(rocksdb::FlushOptions(), handles_);
  return FromRocks(s, "record log id");
}

absl::Status ReadModel::Apply(const std::vector<eventlog::Record>& records) {
  if (records.empty()) return absl::OkStatus();
  uint64_t expected = applied() .value() + 1;
  for (const auto& r : records) {
    if (r.position.value() != expected) {
      return absl::FailedPreconditionError(StrCat("read model expected position ", expected,
                                                  ", got ", r.position.value()));
    }
    ++expected;
  }
  Applier applier(*this);
  // Decoding and validating submissions is about a quarter of the work:
  // a second thread does it, against the catalogue the run starts with,
  // while this one applies in order.
  const std::shared_ptr<const Catalogue> catalogue = catalogue_;
  // A run of one event is prepared in line: a thread would cost more.
  std::vector<Prepared> prepared(records.size());
  const bool ahead = records.size() > 1;
  std::mutex mu;
  std::condition_variable cv;
  size_t ready = 0;
  std::atomic<bool> stop{false};
  std::thread helper;
  if (ahead) {
    helper = std::thread([&] {
      for (size_t i = 0; i < records.size() && !stop.load(); ++i) {
        prepared[i].Prepare(records[i], *catalogue);
        {
          std::lock_guard lock(mu);
          ready = i + 1;
        }
        cv.notify_one();
      }
    });
  }
  absl::Status status;
  for (size_t i = 0; i < records.size() && status.ok(); ++i) {
    if (ahead) {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return ready > i; });
    } else {
      prepared[i].Prepare(records[i], *catalogue);
    }
    status = applier.ApplyRecord(records[i], prepared[i]);
  }
  stop = true;
  if (helper.joinable()) helper.join();
  if (!status.ok()) return status;
  return applier.Commit(records.back().position.value());
}

LogPosition ReadModel::applied() const {
  std::lock_guard lock(wait_mu_);
  return LogPosition(applied_);
}

bool ReadModel::WaitFor(LogPosition position,
                        std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(wait_mu_);
  return applied_cv_.wait_until(lock, deadline, [&] { return applied_ >= position.value(); });
}

View ReadModel::Snapshot() const { return View(this, std::shared_lock(mu_)); }

absl::StatusOr<std::string> ReadModel::Dump() const {
  std::shared_lock lock(mu_);
  std::string out;
  for (size_t i = 0; i < handles_.size(); ++i) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      StrAppend(&out, FamilyNames()[i], "\t",
                Hex(std::string_view(it->key().data(), it->key().size())), "\t",
                Hex(std::string_view(it->value().data(), it->value().size())), "\n");
    }
    if (!it->status().ok()) return FromRocks(it->status(), "dump");
  }
  return out;
}

absl::Status ReadModel::Flush() {
  return FromRocks(db_->Flush(rocksdb::FlushOptions(), handles_), "flush");
}

LogPosition View::position() const { return LogPosition(model_->applied_); }

const Catalogue& View::catalogue() const { return *model_->catalogue_; }

const MeasureAggregates* View::Aggregates(std::string_view measure_id) const {
  auto it = model_->aggregates_by_measure_.find(measure_id);
  return it == model_->aggregates_by_measure_.end() ? nullptr : &it->second;
}

absl::StatusOr<std::vector<StoredObservation>> View::Observations(std::string_view measure_id,
                                                                 std::string_view ods_code,
                                                                 Month from, Month to) const {
  std::vector<StoredObservation> out;
  rocksdb::ReadOptions ro;
  ro.snapshot = model_->snapshot_;
  std::optional<ObservationValue> value;
  auto add = [&](Month month, std::string_view bytes) -> absl::Status {
    if (!codec::FindInOrgMonth(bytes, measure_id, &value)) {
      return absl::DataLossError("read model: undecodable observations");
    }
    if (value) {
      out.push_back({month, value->numerator, value->denominator, value->first_recorded_ms});
    }
    return absl::OkStatus();
  };
  if (from == to) {
    // One month: a point read (bloom filters answer most misses) costs a
    // fraction of an iterator's set-up and seek.
    rocksdb::PinnableSlice bytes;
    auto s = model_->db_->Get(ro, model_->observations_, codec::OrgMonthKey(ods_code, from),
                              &bytes);
    if (s.IsNotFound()) return out;
    if (!s.ok()) return FromRocks(s, "observation");
    if (auto added = add(from, bytes.ToStringView()); !added.ok()) return added;
    return out;
  }
  std::string upper = codec::OrgMonthKey(ods_code, to.Plus(1));
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(model_->db_->NewIterator(ro, model_->observations_));
  for (it->Seek(codec::OrgMonthKey(ods_code, from)); it->Valid(); it->Next()) {
    auto key = codec::ParseOrgMonthKey(std::string_view(it->key().data(), it->key().size()));
    if (!key) return absl::DataLossError("read model: undecodable observations key");
    if (auto added = add(key->second, std::string_view(it->value().data(), it->value().size()));
        !added.ok()) {
      return added;
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "observations");
  return out;
}

absl::Status View::ForEachValue(
    std::string_view ods_code, Month month,
    const std::function<void(std::string_view measure_id, const StoredObservation&)>& fn) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = model_->snapshot_;
  rocksdb::PinnableSlice bytes;
  auto s = model_->db_->Get(ro, model_->observations_, codec::OrgMonthKey(ods_code, month), &bytes);
  if (s.IsNotFound()) return absl::OkStatus();
  if (!s.ok()) return FromRocks(s, "observations");
  codec::MeasureValues values;
  if (!codec::DecodeOrgMonth(bytes.ToStringView(), &values)) {
    return absl::DataLossError("read model: undecodable observations");
  }
  for (const auto& [measure, v] : values) {
    fn(measure, StoredObservation{month, v.numerator, v.denominator, v.first_recorded_ms});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::ValueChange>> View::History(std::string_view measure_id,
                                                           std::string_view ods_code,
                                                           Month month) const {
  std::vector<v1::ValueChange> out;
  rocksdb::ReadOptions ro;
  ro.snapshot = model_->snapshot_;
  const std::string prefix = codec::OrgMonthKey(ods_code, month);
  std::unique_ptr<rocksdb::Iterator> it(model_->db_->NewIterator(ro, model_->history_));
  std::optional<v1::ValueChange> change;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    // Exactly the key plus an 8-byte position: never a longer ods code.
    if (it->key().size() != prefix.size() + 8) continue;
    auto position =
        codec::ParseU64(std::string_view(it->key().data() + prefix.size(), 8)).value_or(0);
    if (!codec::FindInHistory(std::string_view(it->value().data(), it->value().size()),
                              measure_id, position, &change)) {
      return absl::DataLossError("read model: undecodable history entry");
    }
    if (change) out.push_back(std::move(*change));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "history");
  return out;
}

absl::StatusOr<std::vector<v1::Learning>> View::Learning() const {
  std::vector<v1::Learning> out;
  rocksdb::ReadOptions ro;
  ro.snapshot = model_->snapshot_;
  std::unique_ptr<rocksdb::Iterator> it(model_->db_->NewIterator(ro, model_->learning_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    v1::LearningShared shared;
    if (!shared.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("read model: undecodable learning");
    }
    v1::Learning& learning = *shared.mutable_learning();
    if (!shared.sealed_text().empty() && model_->key_store_ == nullptr) {
      learning.set_title(std::string(kSealedTitle));
    } else if (!shared.sealed_text().empty()) {
      auto key = model_->key_store_->Get(shared.key_id());
      if (!key.ok()) return key.status();
      if (key->has_value()) {
        auto text = vault::Unseal(**key, shared.sealed_text(), learning.learning_id());
        if (!text.ok()) return text.status();
        v1::LearningText fields;
        if (!fields.ParseFromString(*text)) {
          return absl::DataLossError("read model: undecodable learning text");
        }
        learning.set_title(std::move(*fields.mutable_title()));
        learning.set_summary(std::move(*fields.mutable_summary()));
        learning.set_outcome(std::move(*fields.mutable_outcome()));
      }
    }
    out.push_back(std::move(learning));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "learning");
  return out;
}

absl::StatusOr<std::optional<PublishedQuarter>> View::LatestPublication(Quarter quarter) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = model_->snapshot_;
  const std::string prefix = codec::U64(static_cast<uint64_t>(quarter.index()));
  std::string upper = codec::U64(static_cast<uint64_t>(quarter.index()) + 1);
  std::unique_ptr<rocksdb::Iterator> it(model_->db_->NewIterator(ro, model_->publications_));
  it->SeekForPrev(rocksdb::Slice(upper));
  // SeekForPrev lands on the last key below the next quarter's first key.
  while (it->Valid() && it->key().compare(rocksdb::Slice(upper)) >= 0) it->Prev();
  if (!it->status().ok()) return FromRocks(it->status(), "publications");
  if (!it->Valid() || !it->key().starts_with(prefix)) return std::optional<PublishedQuarter>();
  PublishedQuarter out;
  if (!out.envelope.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
    return absl::DataLossError("read model: undecodable publication");
  }
  auto position = codec::ParseU64(
      std::string_view(it->key().data() + prefix.size(), it->key().size() - prefix.size()));
  out.position = LogPosition(position.value_or(0));
  return out;
}

absl::StatusOr<std::vector<SignedOffQuarter>> View::SignOffs(Quarter quarter) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = model_->snapshot_;
  const std::string prefix = codec::U64(static_cast<uint64_t>(quarter.index()));
  std::unique_ptr<rocksdb::Iterator> it(model_->db_->NewIterator(ro, model_->sign_offs_));
  std::vector<SignedOffQuarter> out;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string_view value(it->value().data(), it->value().size());
    SignedOffQuarter s;
    auto position = codec::ParseU64(value.substr(0, 8));
    if (value.size() < 8 || !position ||
        !s.envelope.ParseFromArray(value.data() + 8, static_cast<int>(value.size() - 8))) {
      return absl::DataLossError("read model: undecodable sign-off");
    }
    s.position = LogPosition(*position);
    out.push_back(std::move(s));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "sign_offs");
  return out;
}

absl::StatusOr<std::vector<v1::Envelope>> View::SpcLimitChanges(std::string_view measure_id,
                                                               std::string_view collaborative_id,
                                                               std::string_view ods_code) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = model_->snapshot_;
  const std::string prefix = codec::SpcLimitsPrefix(measure_id, collaborative_id, ods_code);
  std::unique_ptr<rocksdb::Iterator> it(model_->db_->NewIterator(ro, model_->spc_limits_));
  std::vector<v1::Envelope> out;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::Envelope envelope;
    if (!envelope.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("read model: undecodable limits change");
    }
    out.push_back(std::move(envelope));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "spc_limits");
  return out;
}

absl::StatusOr<std::optional<v1::Receipt>> View::Receipt(std::string_view id) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = model_->snapshot_;
  for (char kind : {codec::kSubmissionRequest, codec::kWithdrawalRequest,
                    codec::kCatalogueRequest, codec::kLearningRequest,
                    codec::kPublicationRequest, codec::kSignOffRequest,
                    codec::kSpcLimitsRequest, codec::kErasureRequest}) {
    std::string value;
    auto s = model_->db_->Get(ro, model_->requests_, codec::RequestKey(kind, id), &value);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return FromRocks(s, "receipt");
    v1::Receipt receipt;
    if (!receipt.ParseFromString(value)) return absl::DataLossError("read model: bad receipt");
    return receipt;
  }
  return std::optional<v1::Receipt>();
}

uint64_t View::observation_count() const { return model_->observation_count_; }

const std::map<std::string, int64_t, std::less<>>* View::Reporting(Month month) const {
  auto it = model_->reporting_.find(month.index());
  return it == model_->reporting_.end() ? nullptr : &it->second;
}

std::optional<Month> View::LatestReportedMonth() const {
  if (model_->reporting_.empty()) return std::nullopt;
  return Month::FromIndex(model_->reporting_.rbegin()->first);
}

int64_t ReadModel::last_recorded_ms() const { return last_recorded_ms_.load(); }

uint64_t ReadModel::refused_events() const {
  std::shared_lock lock(mu_);
  return refused_count_;
}

StorageStats ReadModel::Storage() const {
  StorageStats out;
  const auto& names = FamilyNames();
  for (size_t i = 0; i < handles_.size() && i < names.size(); ++i) {
    uint64_t v = 0;
    if (db_->GetIntProperty(handles_[i], "rocksdb.estimate-num-keys", &v)) {
      out.keys.emplace_back(names[i], v);
    }
    if (db_->GetIntProperty(handles_[i], "rocksdb.live-sst-files-size", &v)) out.disk_bytes += v;
    if (db_->GetIntProperty(handles_[i], "rocksdb.cur-size-all-mem-tables", &v)) {
      out.memtable_bytes += v;
    }
  }
  out.block_cache_bytes = cache_ ? cache_->GetUsage() : 0;
  return out;
}
uint64_t View::refused_events() const { return model_->refused_count_; }

}  // namespace psc::projection
