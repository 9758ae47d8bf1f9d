#include "psc/eventlog/journal.h"

#include <chrono>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/convenience.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "psc/domain/strings.h"
#include "psc/eventlog/random_id.h"

namespace psc::eventlog {
namespace {

constexpr char kLogIdKey[] = "log_id";

std::string PositionKey(uint64_t position) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[i] = static_cast<char>(position & 0xff);
    position >>= 8;
  }
  return key;
}

uint64_t PositionOf(const rocksdb::Slice& key) {
  uint64_t p = 0;
  for (size_t i = 0; i < 8 && i < key.size(); ++i) {
    p = (p << 8) | static_cast<unsigned char>(key[i]);
  }
  return p;
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = StrCat("journal: ", what, ": ", s.ToString());
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut()) return absl::UnavailableError(message);
  return absl::InternalError(message);
}

rocksdb::CompressionType BestCompression() {
  auto supported = rocksdb::GetSupportedCompressions();
  for (auto c : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), c) != supported.end()) return c;
  }
  return rocksdb::kNoCompression;
}

}  // namespace

struct Journal::Writer {
  std::string payload;
  bool done = false;
  absl::Status status;
  uint64_t position = 0;
  std::condition_variable cv;
};

class JournalReader final : public LogReader {
 public:
  JournalReader(Journal* journal, LogPosition after) : journal_(journal), next_(after.value() + 1) {}

  absl::StatusOr<std::vector<Record>> Read(size_t max_events,
                                           std::chrono::milliseconds wait) override {
    uint64_t end;
    {
      std::unique_lock lock(journal_->mu_);
      journal_->appended_.wait_for(lock, wait, [&] { return journal_->end_ >= next_; });
      end = journal_->end_;
    }
    std::vector<Record> out;
    if (end < next_ || max_events == 0) return out;
    uint64_t last = std::min(end, next_ + max_events - 1);
    std::string upper = PositionKey(last + 1);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(journal_->db_->NewIterator(ro, journal_->events_));
    out.reserve(last - next_ + 1);
    for (it->Seek(PositionKey(next_)); it->Valid(); it->Next()) {
      uint64_t p = PositionOf(it->key());
      if (p != next_) {
        return absl::OutOfRangeError(StrCat("journal: position ", next_,
                                            " is missing (found ", p, "): the journal is damaged"));
      }
      out.push_back({LogPosition(p), it->value().ToString()});
      ++next_;
    }
    if (!it->status().ok()) return FromRocks(it->status(), "read");
    if (next_ <= last) {
      return absl::OutOfRangeError(
          StrCat("journal: position ", next_, " is missing: the journal is damaged"));
    }
    return out;
  }

 private:
  Journal* journal_;
  uint64_t next_;
};

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(const std::string& dir, Options options) {
  std::unique_ptr<Journal> j(new Journal());
  j->dir_ = dir;
  j->options_ = options;
  j->probe_ = std::make_unique<LogProbe>(options.metrics, "journal");

  rocksdb::Options db_options;
  db_options.create_if_missing = !options.read_only;
  db_options.create_missing_column_families = !options.read_only;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 3;
  if (options.env != nullptr) db_options.env = options.env;
  rocksdb::ColumnFamilyOptions cf;
  cf.compression = BestCompression();
  cf.write_buffer_size = 32 << 20;
  rocksdb::BlockBasedTableOptions table;
  table.block_size = 64 << 10;
  table.block_cache = rocksdb::NewLRUCache(16 << 20);
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, cf}, {"meta", rocksdb::ColumnFamilyOptions()}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::DBOptions dbo(db_options);
  rocksdb::Status s = options.read_only
                          ? rocksdb::DB::OpenForReadOnly(dbo, dir, families, &handles, &raw)
                          : rocksdb::DB::Open(dbo, dir, families, &handles, &raw);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return absl::FailedPreconditionError(
          StrCat("journal ", dir, " is in use by another process: ", s.ToString()));
    }
    return FromRocks(s, StrCat("open ", dir));
  }
  j->db_.reset(raw);
  j->events_ = handles[0];
  j->meta_ = handles[1];

  std::string id;
  s = j->db_->Get(rocksdb::ReadOptions(), j->meta_, kLogIdKey, &id);
  if (s.IsNotFound()) {
    if (options.read_only) return absl::FailedPreconditionError(StrCat("journal ", dir, " has no id"));
    id = RandomId();
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = j->db_->Put(wo, j->meta_, kLogIdKey, id);
  }
  if (!s.ok()) return FromRocks(s, "log id");
  j->log_id_ = "journal:" + id;

  std::unique_ptr<rocksdb::Iterator> it(j->db_->NewIterator(rocksdb::ReadOptions(), j->events_));
  it->SeekToLast();
  if (it->Valid()) j->end_ = PositionOf(it->key());
  if (!it->status().ok()) return FromRocks(it->status(), "find end");
  return j;
}

Journal::~Journal() {
  if (db_) {
    for (auto* h : {events_, meta_}) {
      if (h != nullptr) db_->DestroyColumnFamilyHandle(h);
    }
    db_->Close();
  }
}

absl::StatusOr<LogPosition> Journal::Append(std::string_view, std::string payload) {
  if (options_.read_only) return absl::FailedPreconditionError("journal is open read-only");
  const auto start = std::chrono::steady_clock::now();
  auto done = [&](const absl::Status& status, uint64_t position) -> absl::StatusOr<LogPosition> {
    if (!status.ok()) {
      probe_->AppendFailed();
      return status;
    }
    probe_->Appended(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return LogPosition(position);
  };
  Writer w;
  w.payload = std::move(payload);
  std::unique_lock lock(mu_);
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.wait(lock);
  if (w.done) return done(w.status, w.position);
  // This writer leads: write everything queued, up to max_group_bytes.
  if (!failed_.ok()) {
    writers_.pop_front();
    if (!writers_.empty()) writers_.front()->cv.notify_one();
    return done(failed_, 0);
  }
  rocksdb::WriteBatch batch;
  size_t bytes = 0;
  size_t count = 0;
  uint64_t next = end_ + 1;
  for (Writer* x : writers_) {
    if (count > 0 && bytes + x->payload.size() > options_.max_group_bytes) break;
    bytes += x->payload.size();
    x->position = next + count;
    ++count;
  }
  for (size_t i = 0; i < count; ++i) {
    Writer* x = writers_[i];
    batch.Put(events_, PositionKey(x->position), x->payload);
  }
  lock.unlock();
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Write(wo, &batch);
  lock.lock();
  absl::Status status = FromRocks(s, "append");
  if (status.ok()) {
    end_ += count;
    ++syncs_;
    grouped_ += count - 1;
    probe_->Durable(count);
  } else {
    // A failed sync leaves the journal's state unknown: refuse every later
    // append until an operator restarts the process.
    failed_ = absl::UnavailableError(StrCat(status.message(), " (journal stopped accepting writes)"));
    status = failed_;
  }
  for (size_t i = 0; i < count; ++i) {
    Writer* x = writers_.front();
    writers_.pop_front();
    x->status = status;
    x->done = true;
    if (x != &w) x->cv.notify_one();
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  appended_.notify_all();
  lock.unlock();
  return done(status, w.position);
}

absl::StatusOr<LogPosition> Journal::End() {
  std::lock_guard lock(mu_);
  return LogPosition(end_);
}

absl::StatusOr<std::unique_ptr<LogReader>> Journal::OpenReader(LogPosition after) {
  return std::make_unique<JournalReader>(this, after);
}

uint64_t Journal::grouped_appends() const {
  std::lock_guard lock(mu_);
  return grouped_;
}

uint64_t Journal::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

}  // namespace psc::eventlog
