#include "log_conformance.h"

#include <map>
#include <mutex>

namespace psc::eventlog {

TEST_P(EventLogConformance, EmptyLogEndsAtZero) {
  auto end = log().End();
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(end->value(), 0u);
  EXPECT_FALSE(log().LogId().empty());
}

TEST_P(EventLogConformance, AppendReturnsConsecutivePositionsFromOne) {
  for (uint64_t i = 1; i <= 5; ++i) {
    auto p = log().Append("k" + std::to_string(i), "event-" + std::to_string(i));
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->value(), i);
  }
  EXPECT_EQ(log().End()->value(), 5u);
}

TEST_P(EventLogConformance, ReaderReturnsEventsAfterItsPositionInOrder) {
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(log().Append("k", "e" + std::to_string(i)).ok());
  auto reader = log().OpenReader(LogPosition(3));
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto records = ReadAll(**reader, 7);
  ASSERT_EQ(records.size(), 7u);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].position.value(), i + 4);
    EXPECT_EQ(records[i].payload, "e" + std::to_string(i + 4));
  }
}

TEST_P(EventLogConformance, ReaderWaitsForNewEvents) {
  auto reader = log().OpenReader(LogPosition(0));
  ASSERT_TRUE(reader.ok());
  auto none = (*reader)->Read(10, std::chrono::milliseconds(50));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  std::thread writer([&] { ASSERT_TRUE(log().Append("k", "late").ok()); });
  auto records = ReadAll(**reader, 1);
  writer.join();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].position.value(), 1u);
  EXPECT_EQ(records[0].payload, "late");
}

TEST_P(EventLogConformance, BinaryPayloadsSurviveByteForByte) {
  std::string payload;
  for (int i = 0; i < 256 * 40; ++i) payload.push_back(static_cast<char>(i % 256));
  ASSERT_TRUE(log().Append("bin", payload).ok());
  auto reader = log().OpenReader(LogPosition(0));
  auto records = ReadAll(**reader, 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].payload, payload);
}

TEST_P(EventLogConformance, ConcurrentAppendsGetDistinctContiguousPositions) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::map<uint64_t, std::string> by_position;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string payload = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto p = log().Append("k", payload);
        ASSERT_TRUE(p.ok()) << p.status();
        std::lock_guard lock(mu);
        by_position[p->value()] = payload;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(by_position.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(by_position.begin()->first, 1u);
  EXPECT_EQ(by_position.rbegin()->first, uint64_t{kThreads * kPerThread});
  // What each append was told is what a reader finds there.
  auto reader = log().OpenReader(LogPosition(0));
  auto records = ReadAll(**reader, kThreads * kPerThread);
  ASSERT_EQ(records.size(), by_position.size());
  for (const auto& r : records) EXPECT_EQ(r.payload, by_position[r.position.value()]);
}

TEST_P(EventLogConformance, ReopenedLogKeepsEventsAndIdentity) {
  if (!under_test_.reopen) GTEST_SKIP() << "backend cannot be reopened";
  ASSERT_TRUE(log().Append("k", "one").ok());
  ASSERT_TRUE(log().Append("k", "two").ok());
  std::string id = log().LogId();
  under_test_.log.reset();
  under_test_.log = under_test_.reopen();
  ASSERT_NE(under_test_.log, nullptr);
  EXPECT_EQ(log().LogId(), id);
  EXPECT_EQ(log().End()->value(), 2u);
  EXPECT_EQ(log().Append("k", "three")->value(), 3u);
  auto reader = log().OpenReader(LogPosition(1));
  auto records = ReadAll(**reader, 2);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].payload, "two");
  EXPECT_EQ(records[1].payload, "three");
}

}  // namespace psc::eventlog
