#include "psc/eventlog/memory_log.h"

#include "log_conformance.h"

namespace psc::eventlog {
namespace {

INSTANTIATE_TEST_SUITE_P(Memory, EventLogConformance, ::testing::Values(&testing::MakeMemoryLog),
                         [](const auto&) { return std::string("log"); });

TEST(MemoryLogTest, DroppedPositionIsAnErrorNotASkip) {
  MemoryLog log;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(log.Append("k", "e").ok());
  log.DropThrough(LogPosition(3));
  auto reader = log.OpenReader(LogPosition(1));
  auto r = (*reader)->Read(10, std::chrono::milliseconds(0));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange);
}

TEST(MemoryLogTest, FailedAppendAppendsNothing) {
  MemoryLog log;
  log.FailNextAppends(1);
  EXPECT_EQ(log.Append("k", "x").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(log.Append("k", "y")->value(), 1u);
  EXPECT_EQ(log.Payloads(), std::vector<std::string>{"y"});
}

}  // namespace
}  // namespace psc::eventlog
