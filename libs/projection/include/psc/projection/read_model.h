// The read model: the log folded into RocksDB column families (grammar in
// src/codec.h), plus an in-memory mirror of the small parts (catalogue and
// aggregates) that queries read.
//
// Exactly-once (DESIGN invariant 3): Apply() writes the state produced by a
// run of events and the position reached in ONE WriteBatch. The RocksDB WAL
// is off (the log is the source of truth) and flushes are atomic across
// column families, so after any crash the folder holds the state of some
// applied position, and folding resumes from there. Replaying never consults
// the clock or configuration, so any interleaving of crashes gives the same
// bytes as one clean rebuild.
//
// Thread-safety: one thread calls Apply(); any number of threads may take
// Views and wait for positions concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "psc/domain/aggregation.h"
#include "psc/domain/catalogue.h"
#include "psc/domain/period.h"
#include "psc/domain/types.h"
#include "psc/eventlog/event_log.h"
#include "psc/vault/key_store.h"
#include "psc/v1/events.pb.h"
#include "psc/v1/query.pb.h"
#include "psc/v1/receipt.pb.h"

namespace rocksdb {
class Cache;
class ColumnFamilyHandle;
class DB;
class Snapshot;
}  // namespace rocksdb

namespace psc::projection {

// The title of learning read by a read model without a key store.
inline constexpr std::string_view kSealedTitle = "(text sealed: this server has no key store)";

struct ReadModelOptions {
  // One memory budget for RocksDB: block cache, with every column family's
  // memtables charged against it.
  size_t memory_budget_bytes = 256u << 20;
  // Keys of learning text (not owned; shared with the gateway that seals
  // it). Without one, or once a key is destroyed, learning reads back
  // without its text.
  const vault::KeyStore* key_store = nullptr;
};

// Per-collaborative sums, by collaborative id.
using AreaSums = std::map<std::string, Sums, std::less<>>;

// Aggregates of one measure. An organisation's value counts under the
// collaborative it belonged to in the value's month, as the catalogue at
// the View's position says (memberships recorded later move it).
struct MeasureAggregates {
  // Month index -> monthly sums per collaborative.
  std::map<int, AreaSums> months;
  // Month index -> the monthly sums over every collaborative (the national
  // series).
  std::map<int, Sums> national_months;
  // Quarter index -> AGGREGATION_LAST sums per collaborative (of each
  // organisation's latest month with a value).
  std::map<int, AreaSums> quarters_last;
};

// One stored observation, as queries see it.
struct StoredObservation {
  Month month;
  int64_t numerator = 0;
  std::optional<int64_t> denominator;
  // When the first accepted value for the key was recorded (ms since the
  // Unix epoch), for timeliness.
  int64_t first_recorded_ms = 0;
};

// A publication as the log holds it.
struct PublishedQuarter {
  v1::Envelope envelope;  // holds the QuarterPublished, when and by whom
  LogPosition position;
};

// A collaborative's latest sign-off of a quarter.
struct SignedOffQuarter {
  v1::Envelope envelope;  // holds the QuarterSignedOff, when and by whom
  LogPosition position;
};

// An aggregates / quarter_last key: (quarterly, period index, collaborative).
struct PeriodGroup {
  bool quarter = false;
  int period = 0;
  std::string collaborative;
  auto operator<=>(const PeriodGroup&) const = default;
};

// What the read model holds on disk and in memory, for metrics.
struct StorageStats {
  // RocksDB's estimate of the keys, per column family.
  std::vector<std::pair<std::string, uint64_t>> keys;
  uint64_t disk_bytes = 0;         // live SST files
  uint64_t memtable_bytes = 0;     // every column family's memtables
  uint64_t block_cache_bytes = 0;  // the block cache's usage
};

class ReadModel;

// A consistent view of the read model at one position. Holds a shared lock:
// keep it briefly and never across a wait.
class View {
 public:
  LogPosition position() const;
  const Catalogue& catalogue() const;
  // Aggregates of a measure, or nullptr when none were reported.
  const MeasureAggregates* Aggregates(std::string_view measure_id) const;
  // The observations of one organisation and measure in [from, to].
  absl::StatusOr<std::vector<StoredObservation>> Observations(std::string_view measure_id,
                                                             std::string_view ods_code, Month from,
                                                             Month to) const;
  // Calls `fn` with every value stored for one organisation in one month,
  // in measure id order (one read; the id is valid during the call only).
  absl::Status ForEachValue(
      std::string_view ods_code, Month month,
      const std::function<void(std::string_view measure_id, const StoredObservation&)>& fn) const;
  // Every learning submission applied, by id, its text unsealed; a
  // learning whose text was erased has an empty title, summary and
  // outcome; without a key store, the title is kSealedTitle.
  absl::StatusOr<std::vector<v1::Learning>> Learning() const;
  // The latest publication of a quarter, if any.
  absl::StatusOr<std::optional<PublishedQuarter>> LatestPublication(Quarter quarter) const;
  // Each collaborative's latest sign-off of `quarter`, by collaborative id.
  absl::StatusOr<std::vector<SignedOffQuarter>> SignOffs(Quarter quarter) const;
  // Every SpcLimitsChanged event of one series, in log order: the national
  // series when both scope ids are empty.
  absl::StatusOr<std::vector<v1::Envelope>> SpcLimitChanges(std::string_view measure_id,
                                                           std::string_view collaborative_id,
                                                           std::string_view ods_code) const;
  // Every change of one stored value, oldest first (empty when none).
  absl::StatusOr<std::vector<v1::ValueChange>> History(std::string_view measure_id,
                                                      std::string_view ods_code, Month month) const;
  // The receipt of a request id (submission, withdrawal, catalogue change or
  // learning).
  absl::StatusOr<std::optional<v1::Receipt>> Receipt(std::string_view id) const;
  uint64_t observation_count() const;
  // The organisations with any value stored for `month` (over every
  // measure), with how many values; nullptr when none.
  const std::map<std::string, int64_t, std::less<>>* Reporting(Month month) const;
  // The latest month with any value stored.
  std::optional<Month> LatestReportedMonth() const;
  uint64_t refused_events() const;

 private:
  friend class ReadModel;
  View(const ReadModel* model, std::shared_lock<std::shared_mutex> lock)
      : model_(model), lock_(std::move(lock)) {}
  const ReadModel* model_;
  std::shared_lock<std::shared_mutex> lock_;
};

class ReadModel {
 public:
  // Opens (or creates) the read model in `dir`.
  static absl::StatusOr<std::unique_ptr<ReadModel>> Open(const std::string& dir,
                                                         ReadModelOptions options = {});
  ~ReadModel();

  // Binds the read model to the log it folds. The first call records the
  // id; later calls with another id fail with FAILED_PRECONDITION (the
  // stored position would mean nothing on that log).
  absl::Status BindToLog(const std::string& log_id);

  // Applies records that continue the log right after applied(), in one
  // WriteBatch. Events that fail the replay checks (a conflicting catalogue
  // change, rows no longer valid) are recorded as refused, not applied.
  // An error means nothing was applied.
  absl::Status Apply(const std::vector<eventlog::Record>& records);

  LogPosition applied() const;
  // When the last event this process applied was recorded (ms since the
  // Unix epoch); 0 until it has applied one.
  int64_t last_recorded_ms() const;
  // Events refused at apply time, in all.
  uint64_t refused_events() const;
  // Waits until applied() >= position or the deadline passes; true when
  // reached.
  bool WaitFor(LogPosition position, std::chrono::steady_clock::time_point deadline) const;
  View Snapshot() const;

  // Every key and value of every column family, sorted, one line each
  // (`cf<TAB>hex(key)<TAB>hex(value)`): two read models hold the same state
  // exactly when their dumps are equal.
  absl::StatusOr<std::string> Dump() const;
  // Sizes and key counts, read from RocksDB's properties.
  StorageStats Storage() const;
  // Writes memtables to disk (also done on destruction).
  absl::Status Flush();

 private:
  friend class View;
  friend class Applier;
  ReadModel() = default;
  absl::Status LoadMirror();

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* catalogue_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* requests_ = nullptr;
  rocksdb::ColumnFamilyHandle* observations_ = nullptr;
  rocksdb::ColumnFamilyHandle* aggregates_ = nullptr;
  rocksdb::ColumnFamilyHandle* quarter_last_ = nullptr;
  rocksdb::ColumnFamilyHandle* learning_ = nullptr;
  rocksdb::ColumnFamilyHandle* refused_ = nullptr;
  rocksdb::ColumnFamilyHandle* history_ = nullptr;
  rocksdb::ColumnFamilyHandle* publications_ = nullptr;
  rocksdb::ColumnFamilyHandle* sign_offs_ = nullptr;
  rocksdb::ColumnFamilyHandle* spc_limits_ = nullptr;
  rocksdb::ColumnFamilyHandle* reporting_cf_ = nullptr;
  std::shared_ptr<rocksdb::Cache> cache_;
  const vault::KeyStore* key_store_ = nullptr;

  // The mirror, guarded by mu_ (readers share; Apply merges exclusively).
  mutable std::shared_mutex mu_;
  mutable std::mutex wait_mu_;
  mutable std::condition_variable applied_cv_;
  uint64_t applied_ = 0;
  std::shared_ptr<const Catalogue> catalogue_;
  std::map<std::string, MeasureAggregates, std::less<>> aggregates_by_measure_;
  // The same sums by period and collaborative, as the aggregates families
  // store them (read and kept by Apply only).
  std::map<PeriodGroup, std::map<std::string, Sums, std::less<>>> sums_by_period_;
  uint64_t observation_count_ = 0;
  uint64_t refused_count_ = 0;
  std::atomic<int64_t> last_recorded_ms_{0};
  // Month index -> ODS code -> values stored (the reporting column family).
  std::map<int, std::map<std::string, int64_t, std::less<>>> reporting_;
  const rocksdb::Snapshot* snapshot_ = nullptr;
};

}  // namespace psc::projection
