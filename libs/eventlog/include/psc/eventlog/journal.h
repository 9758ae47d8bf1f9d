// The embedded journal: the event log in a RocksDB folder on this machine,
// for the single-process deployment (pscd). Appends are synced to disk
// before they are acknowledged; concurrent appends share one sync (group
// commit: the first waiting appender writes everyone queued behind it in one
// WriteBatch and one fsync).
//
// On-disk format (column family "default"):
//   key   = position as 8 bytes big-endian (1, 2, 3, ... no gaps)
//   value = the event's payload bytes (a serialized psc.v1.Envelope)
// Column family "meta":
//   "log_id" -> 32 hex characters chosen when the journal was created
//
// Thread-safe. Readers tail the journal in the same process (they wake on
// every append) and must be destroyed before the Journal.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "psc/eventlog/event_log.h"
#include "psc/eventlog/probe.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Env;
}  // namespace rocksdb

namespace psc::eventlog {

class Journal final : public EventLog {
 public:
  struct Options {
    // Open an existing journal read-only: for replaying it (rebuild) while
    // no other process writes it. Appends then fail.
    bool read_only = false;
    // Most bytes of payload written in one group commit.
    size_t max_group_bytes = 16 * 1024 * 1024;
    // File system access, for tests that fail a write or a sync on purpose;
    // null means the real one.
    rocksdb::Env* env = nullptr;
    // Where the log's metrics register (LogProbe, backend "journal"); null:
    // not served.
    prometheus::Registry* metrics = nullptr;
  };

  // Opens the journal in `dir`, creating it when absent (unless read-only).
  // Fails when another process holds it open for writing.
  static absl::StatusOr<std::unique_ptr<Journal>> Open(const std::string& dir, Options options);
  static absl::StatusOr<std::unique_ptr<Journal>> Open(const std::string& dir) {
    return Open(dir, Options{});
  }
  ~Journal() override;

  absl::StatusOr<LogPosition> Append(std::string_view key, std::string payload) override;
  absl::StatusOr<LogPosition> End() override;
  absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(LogPosition after) override;
  std::string LogId() const override { return log_id_; }
  std::string Describe() const override { return "journal " + dir_; }

  // Appends that shared a sync with an earlier one, since opening (for
  // tests and metrics: proves group commit happens).
  uint64_t grouped_appends() const;
  uint64_t syncs() const;

 private:
  friend class JournalReader;
  struct Writer;
  Journal() = default;

  std::string dir_;
  std::string log_id_;
  Options options_;
  std::unique_ptr<LogProbe> probe_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable appended_;  // signalled when end_ moves
  std::deque<Writer*> writers_;       // front is the leader
  uint64_t end_ = 0;                  // last durable position
  absl::Status failed_;               // set once a sync fails: no more appends
  uint64_t grouped_ = 0;
  uint64_t syncs_ = 0;
};

}  // namespace psc::eventlog
