#include "psc/eventlog/journal.h"

#include <rocksdb/env.h>

#include <atomic>

#include <prometheus/registry.h>

#include "log_conformance.h"
#include "psc/testing/metrics.h"
#include "psc/testing/process.h"

namespace psc::eventlog {
namespace {

using testing::TempDir;

INSTANTIATE_TEST_SUITE_P(Journal, EventLogConformance, ::testing::Values(&testing::MakeJournalLog),
                         [](const auto&) { return std::string("log"); });

TEST(JournalTest, ConcurrentAppendsShareSyncs) {
  TempDir dir;
  auto journal = Journal::Open(dir.Sub("j"));
  ASSERT_TRUE(journal.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE((*journal)->Append("k", std::string(100, 'x')).ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ((*journal)->End()->value(), 400u);
  // Every append was acknowledged after a sync, and some syncs covered
  // several appends.
  EXPECT_EQ((*journal)->syncs() + (*journal)->grouped_appends(), 400u);
  EXPECT_GT((*journal)->grouped_appends(), 0u);
}

TEST(JournalTest, SecondWriterIsRefused) {
  TempDir dir;
  auto first = Journal::Open(dir.Sub("j"));
  ASSERT_TRUE(first.ok());
  auto second = Journal::Open(dir.Sub("j"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
}

TEST(JournalTest, ReadOnlyOpenReplaysButRefusesAppends) {
  TempDir dir;
  {
    auto j = Journal::Open(dir.Sub("j"));
    ASSERT_TRUE(j.ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*j)->Append("k", "e" + std::to_string(i)).ok());
  }
  auto ro = Journal::Open(dir.Sub("j"), {.read_only = true});
  ASSERT_TRUE(ro.ok()) << ro.status();
  EXPECT_EQ((*ro)->End()->value(), 3u);
  EXPECT_EQ((*ro)->Append("k", "x").status().code(), absl::StatusCode::kFailedPrecondition);
  auto reader = (*ro)->OpenReader(LogPosition(0));
  auto records = (*reader)->Read(10, std::chrono::milliseconds(0));
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[2].payload, "e2");
}

TEST(JournalTest, MissingJournalIsNotCreatedReadOnly) {
  TempDir dir;
  EXPECT_FALSE(Journal::Open(dir.Sub("absent"), {.read_only = true}).ok());
}

// A file system whose WAL syncs can be made to fail.
class FailingSyncEnv : public rocksdb::EnvWrapper {
 public:
  FailingSyncEnv() : rocksdb::EnvWrapper(rocksdb::Env::Default()) {}
  const char* Name() const override { return "FailingSyncEnv"; }
  std::atomic<bool> fail_syncs{false};

  rocksdb::Status NewWritableFile(const std::string& name, std::unique_ptr<rocksdb::WritableFile>* r,
                                  const rocksdb::EnvOptions& options) override {
    auto s = target()->NewWritableFile(name, r, options);
    if (s.ok() && name.size() > 4 && name.substr(name.size() - 4) == ".log") {
      *r = std::make_unique<File>(std::move(*r), this);
    }
    return s;
  }
  rocksdb::Status ReuseWritableFile(const std::string& name, const std::string& old,
                                    std::unique_ptr<rocksdb::WritableFile>* r,
                                    const rocksdb::EnvOptions& options) override {
    auto s = target()->ReuseWritableFile(name, old, r, options);
    if (s.ok()) *r = std::make_unique<File>(std::move(*r), this);
    return s;
  }

 private:
  class File : public rocksdb::WritableFileWrapper {
   public:
    File(std::unique_ptr<rocksdb::WritableFile> base, FailingSyncEnv* env)
        : rocksdb::WritableFileWrapper(base.get()), base_(std::move(base)), env_(env) {}
    rocksdb::Status Sync() override {
      if (env_->fail_syncs) return rocksdb::Status::IOError("injected sync failure");
      return base_->Sync();
    }
    rocksdb::Status Fsync() override {
      if (env_->fail_syncs) return rocksdb::Status::IOError("injected sync failure");
      return base_->Fsync();
    }

   private:
    std::unique_ptr<rocksdb::WritableFile> base_;
    FailingSyncEnv* env_;
  };
};

TEST(JournalTest, FailedSyncIsNeverAcknowledged) {
  TempDir dir;
  FailingSyncEnv env;
  auto j = Journal::Open(dir.Sub("j"), {.env = &env});
  ASSERT_TRUE(j.ok()) << j.status();
  ASSERT_EQ((*j)->Append("k", "durable")->value(), 1u);
  env.fail_syncs = true;
  auto failed = (*j)->Append("k", "not acknowledged");
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable) << failed.status();
  // The end never moves past what was synced, and later appends are refused
  // rather than acknowledged on a journal in an unknown state.
  EXPECT_EQ((*j)->End()->value(), 1u);
  env.fail_syncs = false;
  EXPECT_EQ((*j)->Append("k", "later").status().code(), absl::StatusCode::kUnavailable);
  auto reader = (*j)->OpenReader(LogPosition(0));
  auto records = (*reader)->Read(10, std::chrono::milliseconds(0));
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].payload, "durable");
}

TEST(JournalTest, ProbeCountsAppendsSyncsAndFailures) {
  TempDir dir;
  prometheus::Registry registry;
  FailingSyncEnv env;
  auto journal = Journal::Open(dir.Sub("j"), {.env = &env, .metrics = &registry});
  ASSERT_TRUE(journal.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) ASSERT_TRUE((*journal)->Append("k", std::string(100, 'x')).ok());
    });
  }
  for (auto& t : threads) t.join();
  env.fail_syncs = true;
  EXPECT_FALSE((*journal)->Append("k", "lost").ok());
  EXPECT_FALSE((*journal)->Append("k", "refused after the failure").ok());

  const auto m = testing::Collect(registry);
  const std::map<std::string, std::string> journal_label{{"backend", "journal"}};
  // 100 events durable, each counted once with its latency; the batch
  // histogram has one entry per sync, and its sum is every event synced.
  EXPECT_EQ(m.Value("psc_log_appends_total", journal_label), 100);
  EXPECT_EQ(m.Value("psc_log_append_duration_seconds_count", journal_label), 100);
  EXPECT_EQ(m.Value("psc_log_append_errors_total", journal_label), 2);
  EXPECT_EQ(m.Value("psc_log_append_batch_events_count", journal_label),
            static_cast<double>((*journal)->syncs()));
  EXPECT_EQ(m.Value("psc_log_append_batch_events_sum", journal_label), 100);
  // No Kafka producer here.
  EXPECT_EQ(m.Value("psc_kafka_producer_queue_messages"), std::nullopt);
}

}  // namespace
}  // namespace psc::eventlog
