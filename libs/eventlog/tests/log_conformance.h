// The contract every EventLog backend must keep, as one parameterised test
// suite. A backend's test file instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Journal, EventLogConformance,
//                            ::testing::Values(&MakeJournalForTest),
//                            [](const auto&) { return std::string("log"); });
//
// The factory returns a fresh, empty log (and owns whatever it needs to
// keep alive through the returned handle).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <thread>

#include "psc/eventlog/event_log.h"

namespace psc::eventlog {

// A fresh empty log plus whatever keeps it alive (folders, processes).
struct LogUnderTest {
  std::shared_ptr<void> keep_alive;
  std::unique_ptr<EventLog> log;
  // Opens the same log again (as after a restart), or nullptr when the
  // backend cannot (then the reopen test is skipped).
  std::function<std::unique_ptr<EventLog>()> reopen;
};
using LogFactory = LogUnderTest (*)();

class EventLogConformance : public ::testing::TestWithParam<LogFactory> {
 protected:
  void SetUp() override { under_test_ = GetParam()(); }
  EventLog& log() { return *under_test_.log; }

  std::vector<Record> ReadAll(LogReader& reader, size_t expected) {
    std::vector<Record> out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
      auto batch = reader.Read(1000, std::chrono::milliseconds(200));
      if (!batch.ok()) {
        ADD_FAILURE() << batch.status();
        break;
      }
      for (auto& r : *batch) out.push_back(std::move(r));
    }
    return out;
  }

  LogUnderTest under_test_;
};

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
